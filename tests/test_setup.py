"""Set-up that works where the README says: mediapipe-less Pythons (3.13) skip, never fail;
the Makefile picks PyTorch's CPU wheels unless pip has an index of its own; `make lab` /
`posekit lab` merge flags, print where to go, and serve lessons that open unmodified."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

from posekit import doctor, launch, real

ROOT = Path(__file__).resolve().parents[1]
PYTHON_313_SKIP = "skipped: mediapipe needs Python ≤ 3.12 (this is Python 3.13)"


@pytest.fixture
def no_mediapipe(monkeypatch):
    """mediapipe made unimportable (``import mediapipe`` raises ImportError)."""
    monkeypatch.setitem(sys.modules, "mediapipe", None)


@pytest.fixture
def python_313(no_mediapipe, monkeypatch):
    """A Python for which mediapipe has no wheel."""
    monkeypatch.setattr(real, "_python_version", lambda: (3, 13))


def lesson_cells_using_real(path: Path) -> tuple[str, list[str]]:
    """The lesson's first code cell (imports, setup) and every code cell that asks for
    mediapipe (``real.blazepose_coco17``, ``real.mediapipe_...``; ``real.photo`` needs none)."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    wanted = ("real.blazepose", "real.mediapipe")
    return sources[0], [s for s in sources[1:] if any(w in s for w in wanted)]


def test_python_313_gives_a_skip_line(python_313):
    assert real.mediapipe_unavailable() == PYTHON_313_SKIP
    assert not real.mediapipe_available()
    with pytest.raises(ImportError, match="needs Python ≤ 3.12"):
        real.blazepose_coco17(real.photo("astronaut"))


def test_missing_mediapipe_on_a_supported_python_names_the_install(no_mediapipe, monkeypatch):
    monkeypatch.setattr(real, "_python_version", lambda: (3, 11))
    assert real.mediapipe_unavailable().startswith("skipped: mediapipe is not installed (pip")
    probe = doctor.probe_mediapipe()
    assert not probe.ok and not probe.skipped and "--no-deps mediapipe" in probe.fix


def test_doctor_strict_treats_python_313_as_a_skip(python_313, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "probe_spconv", lambda: doctor.Probe("spconv", True, "ran"))
    monkeypatch.setattr(doctor, "probe_jax_absent", lambda: doctor.Probe("no jax", True, "ok"))
    assert doctor.report(strict=True) == 0
    out = capsys.readouterr().out
    assert f"[--] mediapipe: {PYTHON_313_SKIP}" in out and "all good" in out


def test_doctor_strict_still_fails_when_mediapipe_is_merely_missing(no_mediapipe, monkeypatch):
    monkeypatch.setattr(real, "_python_version", lambda: (3, 12))
    monkeypatch.setattr(doctor, "probe_spconv", lambda: doctor.Probe("spconv", True, "ran"))
    assert doctor.report(strict=True) == 1


def test_spconv_on_a_platform_without_its_wheel_is_a_skip(monkeypatch):
    monkeypatch.setattr(doctor, "SPCONV_PLATFORMS", (("darwin", "arm64"),))
    probe = doctor.probe_spconv()
    assert probe.ok and probe.skipped and "own sparse layers" in probe.detail


LESSONS_WITH_PHOTOS = [
    p.name for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if lesson_cells_using_real(p)[1]
]  # fmt: skip


def test_lesson_00_has_a_real_photo_cell():
    assert "00_keypoints_datasets_metrics.ipynb" in LESSONS_WITH_PHOTOS


@pytest.mark.parametrize("lesson", LESSONS_WITH_PHOTOS)
def test_real_photo_cells_run_without_mediapipe(lesson, python_313, monkeypatch, capsys):
    """Each lesson's real-photo cells, executed as written, with mediapipe unimportable."""
    setup, cells = lesson_cells_using_real(ROOT / "solutions" / lesson)
    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT / "solutions")
    namespace: dict = {}
    exec(compile(setup, f"{lesson}:setup", "exec"), namespace)
    for i, source in enumerate(cells):
        exec(compile(source, f"{lesson}:real-photo cell {i}", "exec"), namespace)
    assert PYTHON_313_SKIP in capsys.readouterr().out


# --- the Makefile's torch index -------------------------------------------------------------


def make_torch_index(**env_changes) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "MAKE"))}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip reads no configuration file at all
    env.update(env_changes)
    extra = [f"TORCH_SPEC={env.pop('TORCH_SPEC')}"] if "TORCH_SPEC" in env else []
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "torch-index", f"PYTHON={sys.executable}", *extra],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CPU index is for Linux")
def test_plain_pip_on_linux_gets_pytorchs_cpu_index():
    assert make_torch_index() == "--index-url https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize(
    "configured",
    [{"PIP_FIND_LINKS": "/opt/wheels"}, {"PIP_INDEX_URL": "https://mirror.example/simple"},
     {"PIP_EXTRA_INDEX_URL": "file:///srv/pypi"}],
)  # fmt: skip
def test_a_configured_index_or_wheel_folder_is_kept(configured):
    assert make_torch_index(**configured) == ""


def test_a_torch_spec_with_its_own_index_gets_nothing_added():
    spec = "torch==2.13.0 --index-url https://download.pytorch.org/whl/cu124"
    assert make_torch_index(TORCH_SPEC=spec) == ""


# --- JupyterLab: flags, the start line, lessons that open unmodified ---------------------------


def test_allow_root_is_merged_not_replacing_flags():
    assert launch.merge_flags(["--ServerApp.x=1"], root_user=True) == [
        "--ServerApp.x=1", "--allow-root"]  # fmt: skip
    assert launch.merge_flags(["--allow-root"], root_user=True) == ["--allow-root"]
    assert launch.merge_flags(["--y"], root_user=False) == ["--y"]


def test_posekit_lab_prints_one_line_with_the_url_and_the_first_lesson(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(launch.subprocess, "call", lambda cmd: ran.append(cmd) or 0)
    assert launch.run_lab(ROOT / "notebooks", ["--my-flag"], port=8999) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    token = next(a for a in ran[0] if a.startswith("--IdentityProvider.token=")).split("=")[1]
    assert f"http://127.0.0.1:8999/lab?token={token}" in out[0]
    assert "start with 00_keypoints_datasets_metrics.ipynb" in out[0]
    assert "--my-flag" in ran[0] and "--ServerApp.port=8999" in ran[0]


def test_the_callers_flags_replace_posekits_defaults():
    command = launch.lab_command(Path("/x"), 8000, "t0k", ["--no-browser", "--port=9000"])
    assert "--ServerApp.open_browser=True" not in command and "--no-browser" in command
    assert "--ServerApp.port=8000" not in command and "--port=9000" in command
    assert "--IdentityProvider.token=t0k" in command and "--ServerApp.ip=127.0.0.1" in command


def test_posekit_lab_prints_the_port_and_token_the_caller_chose(monkeypatch, capsys):
    monkeypatch.setattr(launch.subprocess, "call", lambda cmd: 0)
    launch.run_lab(ROOT / "notebooks", ["--ServerApp.port=9123", "--ServerApp.token=abc"])
    assert "http://127.0.0.1:9123/lab?token=abc " in capsys.readouterr().out


def test_make_lab_passes_lab_flags_through():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "lab", "LAB_FLAGS=--ServerApp.x=1", "VENV=/nonexistent",
         "STAMP=/dev/null"], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "posekit lab --folder notebooks --ServerApp.x=1" in done.stdout


def test_served_lessons_carry_the_kernels_python_version(tmp_path):
    """What JupyterLab compares after starting a kernel: language_info must equal the
    kernel's, or the notebook is marked modified. The file on disk is not changed."""
    from ipykernel.ipkernel import IPythonKernel

    lesson = ROOT / "notebooks" / "00_keypoints_datasets_metrics.ipynb"
    shutil.copy(lesson, tmp_path / lesson.name)
    manager = launch.CourseContentsManager(root_dir=str(tmp_path))
    model = asyncio.run(manager.get(lesson.name))
    served = model["content"]["metadata"]["language_info"]
    assert served == IPythonKernel.language_info
    assert (tmp_path / lesson.name).read_bytes() == lesson.read_bytes()


def test_overrides_turn_off_the_news_popup(tmp_path):
    target = launch.install_overrides(tmp_path)
    settings = json.loads(target.read_text())
    assert target == tmp_path / "share/jupyter/lab/settings/overrides.json"
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"

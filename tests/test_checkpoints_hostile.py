"""Issue 12 item 4: bad checkpoint files give one clear line naming the file (``load_checkpoint``
and ``posekit eval``), and a killed save's temporary files are cleaned up by the next save."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from posekit import cli, engine, recipes


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A tiny ``posekit train deeppose`` checkpoint."""
    out = tmp_path_factory.mktemp("good") / "dp.pt"
    recipes.train_recipe("deeppose", out=out, epochs=1, n_train=8, n_val=2, input_size=48,
                         batch_size=8, width=0.125, progress=False)  # fmt: skip
    return out


class _Payload:
    """A pickle that would create a file when unpickled without ``weights_only``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _hostile(folder: Path, good: Path) -> dict[str, Path]:
    """Broken, foreign or malicious files, by what is wrong with them."""
    raw, ck = good.read_bytes(), torch.load(good, weights_only=True)

    def write(name: str, data: bytes) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    def save(name: str, obj) -> Path:
        torch.save(obj, folder / name)
        return folder / name

    return {
        "missing": folder / "missing.pt",
        "empty": write("empty.pt", b""),
        "truncated": write("half.pt", raw[: len(raw) // 2]),
        "truncated_header": write("head.pt", raw[:100]),
        "text": write("text.pt", b"not a checkpoint\n"),
        "random": write("random.pt", os.urandom(4096)),
        "payload": write("payload.pt", pickle.dumps(_Payload(folder / "pwned"))),
        "payload_p2": write("payload2.pt", pickle.dumps(_Payload(folder / "pwned"), protocol=2)),
        "module": save("module.pt", torch.nn.Linear(2, 2)),
        "list": save("list.pt", [1, 2]),
        "no_format": save("nofmt.pt", {"model": {}}),
        "newer": save("newer.pt", {**ck, "version": 99}),
        "no_model": save("nomodel.pt", {k: v for k, v in ck.items() if k != "model"}),
        "model_not_dict": save("modelint.pt", {**ck, "model": 3}),
        "epoch_text": save("epochtext.pt", {**ck, "epoch": "x"}),
        "directory": folder,
        "under_a_file": write("afile", b"x") / "ck.pt",
    }


HOSTILE = ["missing", "empty", "truncated", "truncated_header", "text", "random", "payload",
           "payload_p2", "module", "list", "no_format", "newer", "no_model", "model_not_dict",
           "epoch_text", "directory", "under_a_file"]  # fmt: skip


@pytest.mark.parametrize("kind", HOSTILE)
def test_load_checkpoint_names_the_file_and_the_problem(tmp_path, good, kind):
    path = _hostile(tmp_path, good)[kind]
    with pytest.raises(engine.CheckpointError) as info:
        engine.load_checkpoint(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    # one line; the path's length depends on where pytest puts its temporary folders
    assert str(path) in message and "\n" not in message, message
    assert len(message.replace(str(path), "")) < 250, message
    assert not (tmp_path / "pwned").exists()  # weights_only refused the payload


def test_a_missing_checkpoint_is_still_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        engine.load_checkpoint(tmp_path / "none.pt")


@pytest.mark.parametrize("kind", HOSTILE)
def test_eval_prints_one_line_and_fails_without_a_traceback(tmp_path, good, kind, capsys):
    path = _hostile(tmp_path, good)[kind]
    assert cli.main(["eval", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("posekit eval: error: ") and str(path) in err, err
    assert "\n" not in err and "Traceback" not in err


def _edit(good: Path, folder: Path, **changes) -> Path:
    ck = torch.load(good, weights_only=True)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            ck[section] = {**ck[section], field: value}
        else:
            ck[section] = value
    torch.save(ck, folder / "edited.pt")
    return folder / "edited.pt"


@pytest.mark.parametrize(
    "changes, what",
    [
        ({"extra": {}}, "not a `posekit train` checkpoint"),
        ({"model_config__kwargs": {"num_joints": 16, "bogus": 1}}, "model_config"),
        ({"model_config__name": "Nope"}, "Nope"),
        ({"model_config__kwargs": {"num_joints": 16, "input_size": [48, 48],
                                   "width_mult": 0.25, "dropout": 0.3}}, "weights"),
        ({"extra__codec": {"name": "RegressionCodec", "kwargs": {"zzz": 1}}}, "codec"),
        ({"extra__data": {"kind": "top_down"}}, "data"),
    ],
)  # fmt: skip
def test_eval_of_a_checkpoint_with_wrong_contents_names_the_field(
    tmp_path, good, capsys, changes, what
):
    path = _edit(good, tmp_path, **changes)
    assert cli.main(["eval", str(path), "--n-val", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert str(path) in err and what in err and "\n" not in err, err


def test_eval_of_a_good_checkpoint_still_works(good, capsys):
    assert cli.main(["eval", str(good), "--n-val", "2"]) == 0
    assert "| Arch | Head |" in capsys.readouterr().out


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_save_removes_the_temporary_files_of_a_killed_save(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    # posekit's temp names: <name>.posekit-tmp<pid> (before: <name>.tmp<pid>, same name only)
    orphans = [f"ck.pt.tmp{dead}", f"other.pt.posekit-tmp{dead}"]
    kept = ["notes.tmp1", "ck.pt.tmp", "ck.pt.tmpx", f"other.pt.tmp{dead}", "mine.pt",
            f"ck.pt.posekit-tmp{alive}", f"ck.pt.posekit-tmp{dead}.bak"]  # fmt: skip
    for name in orphans + kept:
        (tmp_path / name).write_bytes(b"partial")
        os.utime(tmp_path / name, (time.time() - 60,) * 2)
    fresh = f"late.pt.posekit-tmp{dead}"  # written after the save started: not ours to judge
    real_save = torch.save

    def save_then_touch(obj, f, *args, **kwargs):
        (tmp_path / fresh).write_bytes(b"partial")
        os.utime(tmp_path / fresh, (time.time() + 5,) * 2)
        real_save(obj, f, *args, **kwargs)

    torch.save = save_then_touch
    try:
        engine.save_checkpoint(tmp_path / "ck.pt", torch.nn.Linear(1, 1))
    finally:
        torch.save = real_save
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["ck.pt", fresh, *kept]), left


def test_a_save_killed_with_sigkill_leaves_a_temp_file_the_next_save_removes(tmp_path):
    """A real ``kill -9`` while ``torch.save`` writes: the checkpoint is intact, the orphan goes."""
    target = tmp_path / "ck.pt"
    engine.save_checkpoint(target, torch.nn.Linear(1, 1), epoch=1)
    script = (
        "import sys, time, torch\n"
        "from posekit import engine\n"
        "def slow(obj, f, *a, **k):\n"
        "    f.write(b'partial'); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        "torch.save = slow\n"
        "engine.save_checkpoint(sys.argv[1], torch.nn.Linear(1, 1), epoch=2)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"writing"
    child.kill()
    child.wait()
    assert len(list(tmp_path.iterdir())) == 2  # the checkpoint and the orphan
    assert engine.load_checkpoint(target)["epoch"] == 1
    time.sleep(0.01)
    engine.save_checkpoint(target, torch.nn.Linear(1, 1), epoch=3)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]
    assert engine.load_checkpoint(target)["epoch"] == 3

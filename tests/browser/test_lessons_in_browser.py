"""Every lesson, as a student meets it: JupyterLab in a real browser (Debian's chromium driven
by Playwright — never `playwright install`), quick mode, one thread, "Run All Cells".

For each lesson in ``solutions/`` and ``notebooks/``: the notebook opens unmodified; every
cell runs; no traceback or stderr output; no "Error displaying widget"; every image loads;
the lesson's widget has its controls and one slider moved with the keyboard changes what it
shows; ``checks.summary()`` has no FAIL (solutions: all PASS; notebooks: only TODO). A
screenshot of each lesson's widget goes to ``build/browser/``.

Run with ``make browser-test`` (part of ``make test``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from posekit import launch

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHOTS = ROOT / "build" / "browser"
LESSONS = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
FOLDERS = ("solutions", "notebooks")
LESSON_TIMEOUT_S = 600
CHROMIUM = (
    os.environ.get("POSEKIT_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
# Headless, as root, on a machine with no network beyond loopback.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SUMMARY = re.compile(r"(\d+) checks?: (\d+) PASS, (\d+) FAIL, (\d+) TODO")
TIMES: dict[str, float] = {}  # test id -> seconds, printed by conftest.py

if CHROMIUM is None:
    pytest.skip(
        "chromium not found: `make browser-test` installs Debian's chromium with apt-get (as "
        "root), or set POSEKIT_CHROMIUM to a Chromium binary; never `playwright install`",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback (random port and token), quick mode, one thread per kernel,
    fresh settings (all cells kept in the page, no autosave) and workspaces; stopped by its
    pid."""
    settings = tmp_path_factory.mktemp("lab-settings")
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # Never write the executed lessons back into the repository.
    docmanager = settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"autosave": False}))
    env = dict(
        os.environ,
        POSEKIT_QUICK="1", POSEKIT_THREADS="1", OMP_NUM_THREADS="1", POSEKIT_CHECK_MODE="student",
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp("lab-workspaces")),
    )  # fmt: skip
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as a student has it
    SHOTS.mkdir(parents=True, exist_ok=True)
    with open(SHOTS / "jupyterlab.log", "w") as log:
        server = launch.start(ROOT, env=env, log=log)
        try:
            yield server
        finally:
            launch.stop(server)
    assert server.process.poll() is not None, "JupyterLab still running after stop()"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def open_lesson(page, lab, path: str) -> None:
    workspace = path.replace("/", "-").removesuffix(".ipynb")
    page.goto(lab.lab_url(path, workspace=workspace))
    page.wait_for_function(
        "() => document.body.innerText.includes('Python 3 (ipykernel) | Idle')", timeout=120_000
    )


def run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-content").get_by_text("Run All Cells", exact=True).click()


def wait_until_done(page, timeout: float) -> None:
    """Until the kernel is idle and no cell is queued or running, twice in a row."""
    state = """() => ({
        idle: document.body.innerText.includes('Python 3 (ipykernel) | Idle'),
        running: Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
            .some(p => p.textContent.includes('*')),
    })"""
    deadline, calm = time.monotonic() + timeout, 0
    time.sleep(1.0)
    while time.monotonic() < deadline:
        now = page.evaluate(state)
        calm = calm + 1 if now["idle"] and not now["running"] else 0
        if calm >= 2:
            return
        time.sleep(1.0)
    raise AssertionError(f"the lesson was still running after {timeout:.0f} s")


def widget_changes_with_the_keyboard(page, index: int) -> bool:
    """Focus the widget's first slider handle, press →, wait for its images/text to change."""
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(index)
    signature = (HERE / "widget_output.js").read_text()
    before = cell.evaluate(signature)
    handle = cell.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if cell.evaluate(signature) != before:
            return True
        time.sleep(0.25)
    return False


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("folder", FOLDERS)
def test_lesson_in_the_browser(folder, lesson, lab, browser, request):
    start = time.monotonic()
    on_disk = (ROOT / folder / lesson).read_bytes()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        open_lesson(page, lab, f"{folder}/{lesson}")
        dirty = page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count()
        assert dirty == 0, f"{folder}/{lesson} shows as modified the moment it is opened"
        run_all_cells(page)
        wait_until_done(page, LESSON_TIMEOUT_S)
        seen = page.evaluate((HERE / "page.js").read_text())

        not_run = [i for i, p in enumerate(seen["prompts"]) if not re.fullmatch(r"\[\d+\]:", p)]
        assert not not_run, f"code cells {not_run} did not run (prompts {seen['prompts']})"
        assert not seen["stderr"], "stderr / traceback output:\n" + "\n---\n".join(seen["stderr"])
        assert not seen["widgetErrors"], seen["widgetErrors"]
        assert seen["images"] > 0 and seen["brokenImages"] == 0, seen

        widget = seen["widget"]
        assert widget is not None, "no widget with a slider in the lesson's outputs"
        assert widget["sliders"] >= 1 and widget["controls"] >= 2, widget
        changed = widget_changes_with_the_keyboard(page, widget["index"])
        page.screenshot(path=str(SHOTS / f"{folder}-{Path(lesson).stem}.png"))
        assert changed, f"moving a slider of `{widget['source']}` changed nothing it shows"

        found = SUMMARY.search(seen["summary"] or "")
        assert found, f"no checks.summary() line in: {seen['summary']!r}"
        total, passed, failed, todo = map(int, found.groups())
        assert failed == 0, seen["summary"]
        if folder == "solutions":
            assert passed == total >= 3, seen["summary"]
        else:
            assert todo == total >= 3 and passed == 0, seen["summary"]
    finally:
        TIMES[request.node.name] = time.monotonic() - start
        page.close()
    assert (ROOT / folder / lesson).read_bytes() == on_disk, "the browser run saved the lesson"

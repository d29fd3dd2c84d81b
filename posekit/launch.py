"""Start and stop JupyterLab for the course: ``posekit lab`` (what ``make lab`` runs) and the
servers the browser test drives.

A server gets a free loopback port and a random token chosen here, so the one line printed
before it starts is the URL that works; ``--allow-root`` is added when running as root
(containers) and merged with the caller's flags, never replacing them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

FIRST_LESSON_GLOB = "00_*.ipynb"
OVERRIDES = Path(__file__).with_name("jupyterlab_overrides.json")
"""JupyterLab settings shipped with the environment (no news pop-up, no update check)."""


@dataclass
class LabServer:
    """A running JupyterLab: its process, port, token and root folder."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, path: str = "", workspace: str = "") -> str:
        """``/lab`` (or ``/lab/tree/<path>``) with the token, ready to open; a named
        ``workspace`` starts empty (no tabs restored from an earlier page)."""
        space = f"/workspaces/{workspace}" if workspace else ""
        tree = f"/tree/{path}" if path else ""
        reset = "&reset" if workspace else ""
        return f"{self.url}/lab{space}{tree}?token={self.token}{reset}"


class CourseContentsManager(AsyncLargeFileManager):
    """Jupyter Server's default contents manager, except that a Python notebook without
    ``language_info.version`` is served with this Python's version (what the kernel will
    report), so that opening a lesson does not mark it modified. The file is not touched."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and model.get("content"):
            info = model["content"].get("metadata", {}).get("language_info")
            if isinstance(info, dict) and info.get("name") == "python" and "version" not in info:
                info["version"] = sys.version.split()[0]  # as ipykernel reports it
        return model


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def merge_flags(
    flags: list[str] | tuple[str, ...] = (), root_user: bool | None = None
) -> list[str]:
    """The caller's JupyterLab flags plus ``--allow-root`` when running as root (once)."""
    flags = list(flags)
    if root_user is None:
        root_user = hasattr(os, "geteuid") and os.geteuid() == 0
    if root_user and "--allow-root" not in flags:
        flags.append("--allow-root")
    return flags


# jupyter lab's short aliases, by the option they set.
_ALIASES = {
    "--port": "ServerApp.port", "--ip": "ServerApp.ip", "--no-browser": "ServerApp.open_browser",
    "--notebook-dir": "ServerApp.root_dir", "--ServerApp.notebook_dir": "ServerApp.root_dir",
    "--ServerApp.token": "IdentityProvider.token",
}  # fmt: skip


def _option(flag: str) -> str:
    """The option a command-line flag sets: ``--port=9`` and ``--ServerApp.port=9`` alike."""
    name = flag.split("=", 1)[0]
    return _ALIASES.get(name, name.lstrip("-"))


def _value(flags, option: str) -> str | None:
    """The value the caller's ``flags`` give ``option``, if any (the last one wins)."""
    found = [f.split("=", 1)[1] for f in flags if "=" in f and _option(f) == option]
    return found[-1] if found else None


def lab_command(root: Path, port: int, token: str, flags=(), open_browser: bool = True) -> list:
    """The ``jupyter lab`` command line serving ``root`` on ``127.0.0.1:port``; an option the
    caller's ``flags`` set replaces posekit's default for it (and ``--allow-root`` is merged)."""
    defaults = [
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
        f"--ServerApp.contents_manager_class={__name__}.CourseContentsManager",
    ]
    flags = merge_flags(flags)
    given = {_option(f) for f in flags}
    kept = [f for f in defaults if _option(f) not in given]
    return [sys.executable, "-m", "jupyterlab", *kept, *flags]


def install_overrides(prefix: str | Path = sys.prefix) -> Path:
    """Copy posekit's JupyterLab settings into ``<prefix>/share/jupyter/lab/settings/``."""
    target = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(OVERRIDES, target)
    return target


def start(root: Path, *, port: int | None = None, token: str | None = None, env=None,
          flags=(), log=None, timeout: float = 60.0) -> LabServer:  # fmt: skip
    """Start JupyterLab on ``root`` in its own process group and wait until it answers.

    Args:
        env: the server's (and so its kernels') environment; default this process's.
        log: a file object for the server's output (default: discarded).
    Raises:
        RuntimeError naming the URL when the server exits or does not answer in ``timeout`` s.
    """
    port = port or free_port()
    token = token or secrets.token_hex(24)
    command = lab_command(Path(root).resolve(), port, token, flags, open_browser=False)
    out = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = LabServer(process, port, token, Path(root).resolve())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={token}", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"JupyterLab did not answer on {server.url} within {timeout:.0f} s")


def stop(server: LabServer, timeout: float = 15.0) -> int:
    """Stop the server by its process id (SIGTERM to its group, SIGKILL after ``timeout``);
    its kernels go with it. Returns the exit code."""
    process = server.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):  # kernels left in the group
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


def first_lesson(folder: Path) -> str:
    """File name of the lesson to start with (``00_…``), or ``""`` when there is none."""
    found = sorted(Path(folder).glob(FIRST_LESSON_GLOB))
    return found[0].name if found else ""


def run_lab(folder: Path, flags=(), port: int | None = None) -> int:
    """``posekit lab``: serve ``folder`` in the foreground, after one line saying where to go."""
    folder = Path(folder)
    if not folder.is_dir():
        print(f"posekit lab: no folder {folder}", file=sys.stderr)
        return 2
    port = int(_value(flags, "ServerApp.port") or port or free_port())
    token = _value(flags, "IdentityProvider.token") or secrets.token_hex(24)
    lesson = first_lesson(folder)
    start_with = f" and start with {lesson}" if lesson else ""
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    print(f"posekit: open {url}{start_with}  (Ctrl-C twice to stop)", flush=True)
    command = lab_command(folder.resolve(), port, token, ["--Application.log_level=WARN", *flags])
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0

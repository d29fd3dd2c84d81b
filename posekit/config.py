"""Run-time configuration: quick mode, seeding, threads, data paths, lesson settings.

Everything reads environment variables at call time, so a notebook kernel, a pytest worker
and the CLI all see the same settings:

* ``POSEKIT_QUICK=1``      quick mode: every lesson runs in <= 60 s (CI uses it).
* ``POSEKIT_DATA``         where datasets and caches live (default ``~/.cache/posekit``).
* ``POSEKIT_THREADS``      torch/OpenMP threads (default: ``OMP_NUM_THREADS`` or all cores).
* ``POSEKIT_CHECK_MODE``   ``student`` | ``strict`` | ``expect-todo`` (see ``posekit.checks``).
* ``POSEKIT_SEED``         overrides the seed a lesson passes to ``setup`` (the instructor notes'
                           numbers are the median and range over seeds 0, 1 and 2).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHECK_MODES = ("student", "strict", "expect-todo")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"environment variable {name}={value!r}: expected one of 1/0/true/false")


def is_quick() -> bool:
    """True when ``POSEKIT_QUICK`` is set to 1/true (CI and fast previews)."""
    return _env_flag("POSEKIT_QUICK")


def check_mode() -> str:
    """The exercise-check mode from ``POSEKIT_CHECK_MODE`` (default ``student``)."""
    mode = os.environ.get("POSEKIT_CHECK_MODE", "student").strip().lower() or "student"
    if mode not in CHECK_MODES:
        raise ValueError(
            f"POSEKIT_CHECK_MODE={mode!r} is not a check mode; use one of {', '.join(CHECK_MODES)}"
        )
    return mode


def package_root() -> Path:
    """Folder of the installed ``posekit`` package."""
    return Path(__file__).resolve().parent


def repo_root() -> Path | None:
    """The course checkout (folder holding ``solutions/`` and ``notebooks/``), if posekit runs
    from one (editable install); ``None`` for a plain site-packages install."""
    root = package_root().parent
    if (root / "pyproject.toml").exists() and (root / "posekit").is_dir():
        return root
    return None


def data_root(create: bool = True) -> Path:
    """Root folder for datasets and caches: ``$POSEKIT_DATA`` or ``$XDG_CACHE_HOME/posekit``
    (default ``~/.cache/posekit``). Absolute, so it works from any working directory."""
    env = os.environ.get("POSEKIT_DATA")
    if env:
        root = Path(env).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(cache).expanduser() / "posekit"
    root = root.resolve()
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


def data_path(*parts: str, create: bool = True) -> Path:
    """``data_root() / parts...``; creates the parent folder when ``create``."""
    path = data_root(create=create).joinpath(*parts)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def default_threads() -> int:
    """``POSEKIT_THREADS``, else ``OMP_NUM_THREADS``, else the number of usable cores."""
    for name in ("POSEKIT_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name)
        if value:
            try:
                threads = int(value)
            except ValueError as err:
                raise ValueError(f"{name}={value!r} is not an integer") from err
            if threads < 1:
                raise ValueError(f"{name}={value!r} must be >= 1")
            return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS / Windows
        return os.cpu_count() or 1


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global RNG and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def seed_override(seed: int) -> int:
    """``POSEKIT_SEED`` as an integer when it is set (and not empty), else ``seed``."""
    value = os.environ.get("POSEKIT_SEED", "").strip()
    if not value:
        return int(seed)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"POSEKIT_SEED={value!r} must be an integer seed, e.g. 1") from None


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed, or the Generator itself (posekit's randomness rule)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def quick_banner() -> str:
    return (
        "QUICK MODE (POSEKIT_QUICK=1): tiny data and a few steps, so trained models are close "
        "to untrained and their numbers are placeholders. Unset POSEKIT_QUICK for the full lesson."
    )


@dataclass(frozen=True)
class SetupInfo:
    seed: int
    threads: int
    quick: bool
    device: str
    data_root: Path

    def __str__(self) -> str:
        mode = "quick" if self.quick else "full"
        return (
            f"posekit: seed={self.seed} threads={self.threads} device={self.device} "
            f"mode={mode} data={self.data_root}"
        )


def setup(seed: int = 0, threads: int | None = None, verbose: bool = True) -> SetupInfo:
    """Prepare a lesson or script: seed everything, set the torch thread count, report mode.

    Args:
        seed: seed for python, numpy and torch; ``POSEKIT_SEED`` (an integer), when set,
            replaces it, so a lesson can be rerun with other training seeds unchanged.
        threads: torch intra-op threads; default ``default_threads()`` (CI sets 1 per kernel).
        verbose: print one status line (``lesson_config`` prints the quick-mode banner).
    Returns:
        ``SetupInfo`` with the settings in force.
    """
    import torch

    threads = default_threads() if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads={threads} must be >= 1")
    torch.set_num_threads(threads)
    seed = seed_override(seed)
    seed_everything(seed)
    info = SetupInfo(
        seed=seed,
        threads=threads,
        quick=is_quick(),
        device="cuda" if torch.cuda.is_available() else "cpu",
        data_root=data_root(),
    )
    if verbose:
        print(info)
    return info


class LessonConfig(dict):
    """A dict of lesson settings with attribute access (``cfg.epochs``) and a ``quick`` flag."""

    quick: bool = False

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"lesson config has no setting {name!r}; it has {', '.join(self)}"
            ) from None

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"LessonConfig({'quick' if self.quick else 'full'}: {items})"


def lesson_config(
    full: dict[str, Any] | None = None,
    quick: dict[str, Any] | None = None,
    verbose: bool = True,
    **common: Any,
) -> LessonConfig:
    """Settings for one lesson, chosen by quick mode.

    ``lesson_config(full=dict(epochs=20, n_train=4000), quick=dict(epochs=1, n_train=64),
    image_size=128)``: ``common`` and ``full`` give the full-mode values, ``quick`` overrides
    some of them when ``POSEKIT_QUICK=1``. Every quick key must also have a full value, so a
    typo cannot silently change only one mode. Prints which mode is in force.
    """
    full = dict(full or {})
    quick = dict(quick or {})
    clash = set(full) & set(common)
    if clash:
        raise ValueError(f"lesson_config: {sorted(clash)} given both in full= and as keywords")
    values = {**common, **full}
    unknown = set(quick) - set(values)
    if unknown:
        raise ValueError(
            f"lesson_config: quick= sets {sorted(unknown)} which have no full-mode value"
        )
    cfg = LessonConfig(values)
    cfg.quick = is_quick()
    if cfg.quick:
        cfg.update(quick)
    if verbose:
        if cfg.quick:
            print(quick_banner())
        settings = ", ".join(f"{k}={v}" for k, v in cfg.items())
        print(f"{'QUICK' if cfg.quick else 'FULL'} config: {settings}")
    return cfg

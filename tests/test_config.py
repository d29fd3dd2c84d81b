"""posekit.config: quick mode, lesson settings, seeding, threads, data paths."""

import random

import numpy as np
import pytest
import torch

import posekit
from posekit import config


def test_quick_flag_parsing(monkeypatch):
    for value, expected in [("1", True), ("true", True), ("0", False), ("", False)]:
        monkeypatch.setenv("POSEKIT_QUICK", value)
        assert config.is_quick() is expected
    monkeypatch.delenv("POSEKIT_QUICK")
    assert config.is_quick() is False
    monkeypatch.setenv("POSEKIT_QUICK", "maybe")
    with pytest.raises(ValueError, match="POSEKIT_QUICK"):
        config.is_quick()


def test_lesson_config_picks_mode_and_prints_banner(monkeypatch, capsys):
    monkeypatch.setenv("POSEKIT_QUICK", "1")
    cfg = posekit.lesson_config(full=dict(epochs=20, n_train=4000), quick=dict(epochs=1), size=128)
    assert (cfg.epochs, cfg.n_train, cfg.size, cfg.quick) == (1, 4000, 128, True)
    out = capsys.readouterr().out
    assert out.count("QUICK MODE") == 1 and "placeholders" in out
    posekit.setup(seed=0, threads=1)  # the status line says mode=quick; no second banner
    assert "QUICK MODE" not in capsys.readouterr().out
    monkeypatch.setenv("POSEKIT_QUICK", "0")
    cfg = posekit.lesson_config(epochs=20, quick=dict(epochs=1))
    assert (cfg.epochs, cfg.quick) == (20, False)
    assert "QUICK MODE" not in capsys.readouterr().out


def test_lesson_config_rejects_quick_only_keys_and_unknown_attributes():
    with pytest.raises(ValueError, match="epochz"):
        posekit.lesson_config(epochs=20, quick=dict(epochz=1), verbose=False)
    with pytest.raises(ValueError, match="both"):
        posekit.lesson_config(full=dict(epochs=2), epochs=3, verbose=False)
    cfg = posekit.lesson_config(epochs=2, verbose=False)
    with pytest.raises(AttributeError, match="epochs"):
        _ = cfg.lr


def test_setup_seeds_all_generators_and_sets_threads(monkeypatch, capsys):
    monkeypatch.delenv("POSEKIT_QUICK", raising=False)
    old = torch.get_num_threads()
    try:
        info = posekit.setup(seed=123, threads=1)
        draws = (random.random(), np.random.rand(), torch.rand(1).item())
        posekit.setup(seed=123, threads=1, verbose=False)
        assert draws == (random.random(), np.random.rand(), torch.rand(1).item())
        assert torch.get_num_threads() == 1 and info.threads == 1
        assert "seed=123" in capsys.readouterr().out
    finally:
        torch.set_num_threads(old)


def test_posekit_seed_replaces_the_lessons_seed(monkeypatch, capsys):
    old = torch.get_num_threads()
    try:
        monkeypatch.setenv("POSEKIT_SEED", "7")
        info = posekit.setup(seed=0, threads=1)
        draw = torch.rand(1).item()
        assert info.seed == 7 and "seed=7" in capsys.readouterr().out
        monkeypatch.setenv("POSEKIT_SEED", "")
        assert posekit.setup(seed=0, threads=1, verbose=False).seed == 0
        torch.manual_seed(7)
        assert torch.rand(1).item() == draw
        monkeypatch.setenv("POSEKIT_SEED", "one")
        with pytest.raises(ValueError, match="POSEKIT_SEED='one'"):
            posekit.setup(seed=0, threads=1, verbose=False)
    finally:
        torch.set_num_threads(old)


def test_default_threads_from_environment(monkeypatch):
    monkeypatch.setenv("POSEKIT_THREADS", "3")
    assert config.default_threads() == 3
    monkeypatch.setenv("POSEKIT_THREADS", "zero")
    with pytest.raises(ValueError, match="POSEKIT_THREADS"):
        config.default_threads()


def test_data_root_is_absolute_and_independent_of_cwd(monkeypatch, tmp_path):
    monkeypatch.setenv("POSEKIT_DATA", "relative/data")
    monkeypatch.chdir(tmp_path)
    root = config.data_root()
    assert root.is_absolute() and root == (tmp_path / "relative" / "data").resolve()
    monkeypatch.setenv("POSEKIT_DATA", str(tmp_path / "d"))
    monkeypatch.chdir("/")
    assert config.data_path("synth", "x.npz") == tmp_path / "d" / "synth" / "x.npz"
    assert (tmp_path / "d" / "synth").is_dir()


def test_check_mode_validation(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "expect-todo")
    assert config.check_mode() == "expect-todo"
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "lenient")
    with pytest.raises(ValueError, match="lenient"):
        config.check_mode()


def test_rng_accepts_seed_or_generator():
    g = np.random.default_rng(5)
    assert config.rng(g) is g
    assert config.rng(5).integers(1000) == np.random.default_rng(5).integers(1000)


def test_repo_root_points_at_the_checkout():
    root = config.repo_root()
    assert root is not None and (root / "pyproject.toml").exists()

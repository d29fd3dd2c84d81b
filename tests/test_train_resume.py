"""Issue 12 item 7: ``posekit train --resume`` keeps Adam, the schedule and the config of a
finished run, and extending a run re-plans the cosine schedule with one line saying so."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch

from posekit import cli, engine, recipes

ARGS = ["deeppose", "--n-train", "8", "--n-val", "2", "--size", "48", "--batch-size", "4",
        "--width", "0.125"]  # fmt: skip
SPE = 2  # steps per epoch: 8 crops / batch 4


def _train(out, epochs: int, *more: str) -> int:
    return cli.main(["train", *ARGS, "--epochs", str(epochs), "--out", str(out), *more])


def _complete(ckpt: dict) -> bool:
    return all(ckpt.get(k) is not None for k in ("optimizer", "scheduler", "config", "rng"))


def test_finished_checkpoint_is_complete(tmp_path, capsys):
    out = tmp_path / "dp.pt"
    assert _train(out, 1) == 0
    ckpt = engine.load_checkpoint(out)
    assert _complete(ckpt) and ckpt["epoch"] == 1 and ckpt["step"] == SPE
    assert ckpt["extra"]["recipe"] == "deeppose" and ckpt["extra"]["data"]["n_val"] == 2


def test_extending_a_finished_run_carries_adam_and_replans_the_cosine(tmp_path, monkeypatch,
                                                                       capsys):  # fmt: skip
    out = tmp_path / "dp.pt"
    assert _train(out, 1) == 0
    first = engine.load_checkpoint(out)
    capsys.readouterr()
    seen = []
    real_epoch = engine._train_epoch

    def spy(run, *args, **kwargs):
        seen.append((copy.deepcopy(run.optimizer.state_dict()), run.scheduler.last_epoch,
                     run.optimizer.param_groups[0]["lr"]))  # fmt: skip
        return real_epoch(run, *args, **kwargs)

    monkeypatch.setattr(engine, "_train_epoch", spy)
    assert _train(out, 2, "--resume") == 0
    err = capsys.readouterr().err
    line = f"extending from 1 to 2 epochs: the cosine schedule is re-planned over 2 epochs " \
           f"({2 * SPE} steps) from step {SPE}"  # fmt: skip
    assert line in err, err
    state, sched_step, lr = seen[0]  # what the resumed epoch started from
    for key, value in first["optimizer"]["state"].items():
        assert torch.equal(state["state"][key]["exp_avg"], value["exp_avg"])
        assert int(state["state"][key]["step"]) == SPE
    assert sched_step == SPE
    base = first["config"]["lr"]
    warm = engine.LRSchedule(warmup_steps=100).warmup(SPE)
    assert lr == pytest.approx(base * warm * 0.5 * (1 + math.cos(math.pi * SPE / (2 * SPE))))
    after = engine.load_checkpoint(out)
    assert _complete(after) and after["epoch"] == 2 and after["step"] == 2 * SPE
    assert after["scheduler"]["last_epoch"] == 2 * SPE and after["config"]["epochs"] == 2
    assert int(next(iter(after["optimizer"]["state"].values()))["step"]) == 2 * SPE


def test_resuming_a_finished_run_with_the_same_epochs_changes_nothing(tmp_path, capsys):
    out = tmp_path / "dp.pt"
    assert _train(out, 1) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert _train(out, 1, "--resume") == 0
    assert out.read_bytes() == before
    assert _complete(engine.load_checkpoint(out))
    assert "nothing to train" in capsys.readouterr().out


def test_resume_with_fewer_epochs_says_the_checkpoint_is_kept(tmp_path, capsys):
    out = tmp_path / "dp.pt"
    assert _train(out, 2) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert _train(out, 1, "--resume") == 0
    assert out.read_bytes() == before
    err = capsys.readouterr().err
    assert "holds 2 epochs, more than epochs=1: nothing to train" in err, err
    assert "re-planned" not in err


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path, capsys):
    out = tmp_path / "dp.pt"
    assert _train(out, 1) == 0
    capsys.readouterr()
    argv = ["train", *ARGS[:-1], "0.25", "--epochs", "2", "--out", str(out), "--resume"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert str(out) in err and "width_mult" in err and "\n" not in err, err


def test_resume_of_a_legacy_checkpoint_warns_that_adam_restarts(tmp_path):
    """Checkpoints re-saved by older posekit lack the optimiser: say so, keep the step."""
    out = tmp_path / "dp.pt"
    recipes.train_recipe("deeppose", out=out, epochs=1, n_train=8, n_val=2, input_size=48,
                         batch_size=4, width=0.125, progress=False)  # fmt: skip
    ckpt = torch.load(out, weights_only=True)
    legacy = {**ckpt, "optimizer": None, "scheduler": None, "config": None, "step": 0}
    torch.save(legacy, out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, history, _ = recipes.train_recipe(
            "deeppose", out=out, epochs=2, n_train=8, n_val=2, input_size=48, batch_size=4,
            width=0.125, progress=False, resume=True,
        )  # fmt: skip
    text = " ".join(str(w.message) for w in caught)
    assert "no optimizer state" in text and f"from step {SPE}" in text, text
    assert len(history.step_lr) == 2 * SPE
    assert engine.load_checkpoint(out)["scheduler"]["last_epoch"] == 2 * SPE

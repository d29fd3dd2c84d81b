"""Training SPHP's sparse networks through ``recipes.train_sphp(conv="sparse")`` and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_models_sphp_sparse import adam_steps
from test_sphp_protocol import sphp_splits  # noqa: F401  (a module-scoped fixture)


def test_train_sphp_sparse_writes_a_checkpoint_that_eval_rebuilds(sphp_splits, tmp_path):  # noqa: F811
    from posekit import engine, recipes
    from posekit.models.sphp_sparse import SparseUNet

    model, history, out = recipes.train_sphp(
        "unet_small", "ed", data=sphp_splits, out=tmp_path / "s.pt", size=(64, 48), epochs=1,
        batch_size=4, progress=False, conv="sparse", dense_head=True,
    )  # fmt: skip
    assert isinstance(model, SparseUNet) and model.config["dense_head"]
    assert np.isfinite(history.step_loss).all()
    rebuilt = engine.load_model(out, recipes._model_classes())
    assert isinstance(rebuilt, SparseUNet) and rebuilt.config == model.config
    result = recipes.evaluate_checkpoint(out, progress=False)
    assert result["kind"] == "sphp" and 0 <= result["mpjpe"]["mean"] < 500


@pytest.mark.parametrize("dense_head", [False, True])
def test_sparse_heads_start_near_zero(sphp_splits, tmp_path, monkeypatch, dense_head):  # noqa: F811
    from posekit import engine, recipes

    seen = {}

    def fake_train(model, *args, **kwargs):
        head = model.head.out if dense_head else model.head
        seen["std"] = float(head.weight.detach().std())
        return engine.History()

    monkeypatch.setattr(recipes.engine, "train", fake_train)
    recipes.train_sphp(
        "unet_small", "mv", data=sphp_splits, out=tmp_path / "h.pt", size=(64, 48),
        progress=False, conv="sparse", dense_head=dense_head,
    )  # fmt: skip
    assert 0.5e-3 < seen["std"] < 2e-3


def test_a_few_steps_of_sparse_unet_small_on_edges_lower_the_loss(sphp_splits):  # noqa: F811
    # A few optimiser steps of sparse U-Net-Small on edges: the SPHP loss falls.
    from posekit.codecs.sphp import SPHPCodec
    from posekit.datasets.sphp import SPHPFrames
    from posekit.models.sphp_sparse import sparse_sphp_model

    torch.manual_seed(0)
    data = SPHPFrames(sphp_splits, "train", "ed", (64, 48))
    batch = [data[i] for i in range(4)]
    x = torch.stack([b["image"] for b in batch])
    codec = SPHPCodec((64, 48))
    targets = codec.encode({"keypoints": torch.stack([b["keypoints"] for b in batch])})
    model = sparse_sphp_model("unet_small", "ed", dense_head=True)
    losses = adam_steps(model, lambda: codec.loss(model(x), targets), steps=8, lr=3e-3)
    assert losses[-1] < 0.7 * losses[0]


def test_train_sphp_refuses_sparse_only_options_on_dense(sphp_splits, tmp_path):  # noqa: F811
    from posekit import recipes

    out = tmp_path / "x.pt"
    with pytest.raises(ValueError, match="--conv / conv='sparce'"):
        recipes.train_sphp("dhp19", data=sphp_splits, out=out, conv="sparce")
    with pytest.raises(ValueError, match="--dense-head / --backend apply to --conv sparse only"):
        recipes.train_sphp("dhp19", data=sphp_splits, out=out, dense_head=True)
    with pytest.raises(ValueError, match="sparse models take ed, gr, mv or fs"):
        recipes.train_sphp("dhp19", "late", data=sphp_splits, out=out, conv="sparse")


def test_cli_train_sphp_sparse(sphp_splits, tmp_path, capsys):  # noqa: F811
    from posekit import cli

    out = tmp_path / "cli_sparse.pt"
    argv = ["train", "sphp", "--data", str(sphp_splits), "--backbone", "dhp19", "--input", "ed",
            "--conv", "sparse", "--size", "64x48", "--epochs", "1", "--batch-size", "4",
            "--frame-step", "2", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    assert "val MPJPE px at 384x288" in capsys.readouterr().out
    assert cli.main(["eval", str(out)]) == 0
    assert "2-D MPJPE" in capsys.readouterr().out
    assert cli.main(["train", "heatmap", "--conv", "sparse"]) == 2
    assert "--conv do(es) not apply" in capsys.readouterr().err


def test_cli_bench_sparse_forwards_its_own_options(capsys):
    from posekit import cli

    argv = ["bench", "sparse", "--quick", "--backbones", "dhp19", "--inputs", "ed",
            "--densities", "", "--backends", "posekit", "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "DHP19" in printed and "26.89" in printed  # SPHP's published dense DHP19 FPS


def test_sphp_table_sets_sparse_rows_beside_the_published_sparse_results():
    from posekit.lab import sphp_table

    row = dict(backbone="unet_small", inputs="mv", mpjpe={"C1": 1.0, "mean": 2.0}, seconds=3)
    table = sphp_table.format_table([{**row, "conv": "sparse"}, {**row, "conv": "dense"}])
    sparse_line, dense_line = table.splitlines()[2:]
    assert "24.85 (sparse)" in sparse_line and "8.52 (dense)" in dense_line
    assert "1.00 / – / – / – / 2.00" in sparse_line
    with pytest.raises(ValueError, match="convs: expected names from"):
        sphp_table.run(".", convs=("sparce",))


def test_cli_bench_options_before_sparse_are_refused_not_misrouted(capsys):
    from posekit import cli

    assert cli.main(["bench", "--runs", "3", "sparse"]) == 2
    assert "`sparse` takes its own options after it" in capsys.readouterr().err

"""`posekit train efficientpose`, `posekit eval` of its checkpoint and `posekit bench latency
efficientpose_rt` (issue 14), tiny configs; and the lab comparison's quick mode."""

from __future__ import annotations

import pytest
import torch

from posekit import cli, engine, recipes
from posekit.codecs.efficientpose import EfficientPoseCodec
from posekit.models.efficientpose import EfficientPose

TINY = ["--epochs", "1", "--n-train", "4", "--n-val", "2", "--batch-size", "2"]


def test_train_then_eval_a_tiny_efficientpose(tmp_path, capsys):
    ckpt = tmp_path / "ep.pt"
    assert cli.main(["train", "efficientpose", *TINY, "--size", "32", "--out", str(ckpt)]) == 0
    assert "checkpoint:" in capsys.readouterr().out and ckpt.exists()
    extra = engine.load_checkpoint(ckpt)["extra"]
    assert extra["recipe"] == "efficientpose"
    assert extra["codec"]["name"] == "EfficientPoseCodec"
    assert extra["codec"]["kwargs"]["input_size"] == [32, 32]
    assert extra["data"]["input_size"] == 32 and extra["data"]["joint_set"] == "mpii16"
    # model and codec come back from the file alone
    model = engine.load_model(ckpt, recipes._model_classes())
    assert isinstance(model, EfficientPose)
    assert model.config["backbone"] == "b0" and model.config["low_res_backbone"] is None
    assert model.config["blocks_per_pass"] == 1 and model.config["resolution"] == 32
    assert model.output_names[0] == "pass1_skeleton_pafs"
    assert cli.main(["eval", str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert "efficientpose on 2 SynthPose val crops" in out and "| Arch | Head |" in out
    result = recipes.evaluate_checkpoint(ckpt, n_val=1)
    assert result["kind"] == "top_down" and result["n"] == 1
    assert cli.main(["eval", str(ckpt), "--coco", "--n-val", "1"]) == 0  # crops of scenes
    assert "  AP50" in capsys.readouterr().out


def test_the_recipe_is_rt_at_the_lesson_input():
    r = recipes.recipe("efficientpose")
    assert (r.model, r.codec, r.lr, r.batch_size) == ("EfficientPose", "EfficientPoseCodec",
                                                      1.6e-2, 32)  # fmt: skip
    model = recipes.build_model(r.model, r.model_kwargs)
    codec = recipes.build_codec(r.codec, r.codec_kwargs)
    assert isinstance(codec, EfficientPoseCodec) and codec.input_size == (128, 128)
    # the released RT's architecture: same parameter count as efficientpose("rt")
    from posekit.models.efficientpose import efficientpose

    rt = efficientpose("rt")
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in rt.parameters())
    with torch.no_grad():
        shapes = [tuple(o.shape) for o in model.eval()(torch.zeros(1, 3, 128, 128))]
    assert shapes == [(1, 28, 16, 16), (1, 16, 16, 16), (1, 16, 16, 16), (1, 16, 128, 128)]
    assert recipes.input_rule("efficientpose") == (8, 8)


@pytest.mark.parametrize(
    "argv, named",
    [(["--size", "36"], "--size"), (["--size", "64x32"], "square"), (["--width", "2"], "--width")],
)
def test_train_refuses_what_efficientpose_cannot_use(capsys, tmp_path, monkeypatch, argv, named):
    def built(*args, **kwargs):
        raise AssertionError("built something before refusing the arguments")

    monkeypatch.setattr(recipes, "build_model", built)
    out = tmp_path / "x.pt"
    assert cli.main(["train", "efficientpose", *TINY, *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("posekit train: error:") and named in err, err
    assert not out.exists()


def test_bench_latency_efficientpose_rt(capsys):
    assert "efficientpose_rt" in cli.LATENCY_MODELS
    argv = ["bench", "latency", "efficientpose_rt", "--size", "64x64", "--runs", "1"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("efficientpose_rt at 64×64 (W×H)") and "speed-up" in out
    assert "optimize_for_inference" in out and "✓" in out.splitlines()[-1]  # outputs agree


def test_lab_comparison_quick_mode_prints_the_table(capsys):
    from posekit.lab import efficientpose_synth as lab

    budget = lab.Budget(n_train=4, n_val=2, epochs=1, warmup_steps=1, batch_size=2,
                        input_size=32, latency_runs=1)  # fmt: skip
    results = lab.compare(budget, names=("EfficientPose RT@128", "HeatmapNet"), progress=False)
    assert list(results) == ["EfficientPose RT@128", "HeatmapNet"]
    for r in results.values():
        assert {"PCKh@0.5", "PCKh@0.1", "params", "gmacs", "cpu_ms", "train_seconds"} <= set(r)
        assert r["steps"] == 2 and r["params"] > 0 and r["cpu_ms"] > 0
    assert "pass3" in results["EfficientPose RT@128"]
    table = lab.format_table(results)
    assert table.splitlines()[0].startswith("| network | PCKh@0.5 | PCKh@0.1 | params (M)")
    assert len(table.splitlines()) == 4


def test_prepare_efficientpose_makes_small_heads_and_fast_batchnorm():
    from posekit.models.efficientpose import efficientpose

    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    raw = efficientpose("rt", resolution=64).train()  # batch statistics, as in the first step
    with torch.no_grad():
        before = [o.abs().max().item() for o in raw(x)]
    model = recipes.prepare_efficientpose(raw)
    assert model is raw
    with torch.no_grad():
        after = [o.abs().max().item() for o in model(x)]
    assert min(before) > 1 and max(after) < 0.05, (before, after)
    assert model.confs2_head.bias.abs().max() == 0
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)
    bilinear = efficientpose("rt").upscale[0].weight
    assert torch.equal(model.upscale[0].weight, bilinear)  # the upscaling is left alone
    with pytest.raises(ValueError, match="model: expected an EfficientPose"):
        recipes.prepare_efficientpose(torch.nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="bn_momentum"):
        recipes.prepare_efficientpose(model, bn_momentum=0)


def test_train_recipe_prepares_efficientpose(tmp_path):
    model, history, _ = recipes.train_recipe("efficientpose", out=tmp_path / "ep.pt", epochs=1,
                                             n_train=2, n_val=1, input_size=32, batch_size=2,
                                             progress=False)  # fmt: skip
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(m.momentum == 0.1 for m in norms)
    assert history.step_loss[0] < 2  # with EfficientPose's Kaiming heads: about 20

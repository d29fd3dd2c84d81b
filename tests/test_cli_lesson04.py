"""`posekit train lightweight_openpose` and `posekit eval --coco` (lesson 04), tiny configs."""

import numpy as np
import pytest

from posekit import cli, engine, recipes


def test_train_then_eval_a_tiny_lightweight_openpose(tmp_path, capsys):
    ckpt = tmp_path / "lw.pt"
    argv = ["train", "lightweight_openpose", "--epochs", "1", "--n-train", "4", "--n-val", "2",
            "--size", "64x48", "--batch-size", "2", "--width", "8", "--out", str(ckpt)]  # fmt: skip
    assert cli.main(argv) == 0
    trained = capsys.readouterr().out
    assert "checkpoint:" in trained and "OKS AP" in trained and ckpt.exists()
    # the checkpoint records how to rebuild the model, the codec and the data
    extra = engine.load_checkpoint(ckpt)["extra"]
    assert extra["recipe"] == "lightweight_openpose"
    assert extra["codec"]["name"] == "PAFCodec" and extra["codec"]["kwargs"]["stride"] == 8
    assert extra["data"] == {"kind": "bottom_up", "size": [64, 48], "num_people": [1, 4],
                             "scene_depth": [3.0, 7.0], "joint_set": "coco17", "seed": 0,
                             "n_val": 2}  # fmt: skip
    model = engine.load_model(ckpt, recipes._model_classes())
    assert model.config["channels"] == 8 and model.config["width_mult"] == 8 / 128
    assert cli.main(["eval", str(ckpt), "--coco"]) == 0
    out = capsys.readouterr().out
    assert "2 SynthPose val scenes" in out
    for key in ("AP ", "AP50", "AP75", "AR "):
        assert f"  {key}" in out
    result = recipes.evaluate_checkpoint(ckpt, n_val=1)
    assert result["kind"] == "bottom_up" and result["n"] == 1
    assert 0.0 <= result["coco"]["AP"] <= 1.0


def test_size_accepts_a_side_or_wxh():
    parser = cli.build_parser()
    assert parser.parse_args(["train", "heatmap", "--size", "96"]).size == 96
    assert parser.parse_args(["train", "lightweight_openpose", "--size", "320x192"]).size == (
        320,
        192,
    )
    assert parser.parse_args(["train", "heatmap"]).size is None
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "heatmap", "--size", "0"])
    assert recipes.recipe("lightweight_openpose").model_kwargs["channels"] == 32
    assert recipes.recipe("lightweight_openpose").batch_size == 8
    assert recipes.recipe("heatmap").batch_size == 32
    with pytest.raises(ValueError, match="multiples of 8"):
        recipes.recipe("lightweight_openpose", (60, 48))
    with pytest.raises(ValueError, match="square"):
        recipes.recipe("heatmap", (64, 48))


def test_train_refuses_a_bad_size(capsys):
    assert cli.main(["train", "lightweight_openpose", "--size", "60x48"]) == 2
    assert "multiples of 8" in capsys.readouterr().err


def test_eval_coco_of_a_top_down_checkpoint_uses_scenes(tmp_path, capsys):
    ckpt = tmp_path / "dp.pt"
    argv = ["train", "deeppose", "--epochs", "1", "--n-train", "8", "--n-val", "2", "--size",
            "48", "--batch-size", "8", "--width", "0.125", "--out", str(ckpt)]  # fmt: skip
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main(["eval", str(ckpt), "--coco"]) == 0
    out = capsys.readouterr().out
    assert "| Arch | Head |" in out and "12 joints shared with MPII-16" in out and "  AP50" in out


def test_bottom_up_recipe_scenes_hold_closer_people_than_the_default():
    far = recipes.bottom_up_split("val", 12, (256, 160), 0)
    near = recipes.bottom_up_split("val", 12, (256, 160), 0, (1, 4), recipes.BOTTOM_UP_DEPTH)
    assert near.config.scene_depth == recipes.BOTTOM_UP_DEPTH
    assert far.config.scene_depth == (3.0, 12.0)
    heights = [
        np.median(np.concatenate([ds[i]["bboxes"][:, 3].numpy() for i in range(len(ds))]))
        for ds in (far, near)
    ]
    assert heights[1] > 1.2 * heights[0], heights

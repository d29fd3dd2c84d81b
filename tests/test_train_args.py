"""Issue 12 item 5: ``posekit train`` checks every argument, and that ``--out`` is writable,
before it builds a model, renders data or trains."""

from __future__ import annotations

import pytest
import torch

from posekit import cli, recipes

TINY = ["--epochs", "1", "--n-train", "4", "--n-val", "2", "--batch-size", "4"]


@pytest.fixture
def nothing_built(monkeypatch):
    """Fail the test if ``posekit train`` gets as far as building a model or training."""

    def built(*args, **kwargs):
        raise AssertionError("built something before refusing the arguments")

    monkeypatch.setattr(recipes, "build_model", built)
    monkeypatch.setattr(recipes.engine, "train", built)


@pytest.mark.parametrize(
    "argv, named",
    [
        (["deeppose", "--size", "32"], "--size"),  # AlexNet needs 37 px
        (["heatmap", "--size", "8"], "--size"),  # under 2^depth = 32
        (["heatmap", "--size", "50"], "--size"),  # not a multiple of the stride 4
        (["hourglass", "--size", "96"], "--size"),  # not a multiple of 4·2^4 = 64
        (["simple_baseline", "--size", "48"], "--size"),  # not a multiple of 32
        (["lightweight_openpose", "--size", "60x48"], "multiples of 8"),
        (["heatmap", "--size", "64x32"], "square"),
        (["heatmap", "--width", "2.5"], "--width"),  # channels are whole numbers
        (["hourglass", "--width", "3"], "--width"),  # the hourglass halves its features
        (["lightweight_openpose", "--width", "8.5"], "--width"),
    ],
)
def test_train_refuses_arguments_the_recipe_cannot_use(nothing_built, capsys, tmp_path, argv,
                                                       named):  # fmt: skip
    out = tmp_path / "x.pt"
    assert cli.main(["train", *argv, *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("posekit train: error:") and named in err and "\n" not in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    "option, value",
    [("--lr", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"), ("--width", "0"),
     ("--width", "-1"), ("--width", "nan"), ("--width", "inf"), ("--seed", "-1"),
     ("--epochs", "0"), ("--batch-size", "-2")],
)  # fmt: skip
def test_train_option_types_refuse_non_positive_and_non_finite(nothing_built, capsys, option,
                                                               value):  # fmt: skip
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "deeppose", *TINY, option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and repr(value) in err, err


@pytest.mark.parametrize("where", ["a_directory", "under_a_file", "proc"])
def test_train_refuses_an_unwritable_out_before_training(nothing_built, capsys, tmp_path, where):
    (tmp_path / "afile").write_text("x")
    out = {"a_directory": tmp_path, "under_a_file": tmp_path / "afile" / "x.pt",
           "proc": "/proc/posekit-probe/x.pt"}[where]  # fmt: skip
    assert cli.main(["train", "deeppose", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("posekit train: error: --out") and str(out) in err, err


def test_check_output_creates_the_folder_and_leaves_no_probe(tmp_path):
    out = tmp_path / "new" / "deeper" / "run.pt"
    assert recipes.check_output(out) == out
    assert [p.name for p in out.parent.iterdir()] == []


def test_train_recipe_checks_before_building(nothing_built, tmp_path):
    """The python API refuses the same values (lr=0 used to mean the recipe's lr)."""
    for kwargs, named in [(dict(lr=0.0), "lr"), (dict(width=0), "width"),
                          (dict(input_size=32), "input_size")]:  # fmt: skip
        with pytest.raises(ValueError, match=named):
            recipes.train_recipe("hourglass", out=tmp_path / "x.pt", **kwargs)


@pytest.mark.parametrize(
    "name, rule",
    [("deeppose", (1, 37)), ("heatmap", (4, 32)), ("hourglass", (64, 64)),
     ("simple_baseline", (32, 32)), ("lightweight_openpose", (8, 8))],
)  # fmt: skip
def test_input_rule_is_computed_from_the_recipe_and_fits_the_model(name, rule):
    """``input_rule`` = (multiple, minimum); the minimum runs, one multiple less does not."""
    assert recipes.input_rule(name) == rule
    multiple, minimum = rule
    width = 0.125 if name == "deeppose" else 4
    side = (minimum, minimum)
    r = recipes.recipe(name, side if name == "lightweight_openpose" else minimum, width)
    model = recipes.build_model(r.model, r.model_kwargs).eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, minimum, minimum))
    smaller = minimum - multiple
    if smaller > 0:
        with pytest.raises(ValueError, match="input_size"):
            recipes.check_train_args(name, smaller if name != "lightweight_openpose"
                                     else (smaller, smaller), width)  # fmt: skip


def test_hourglass_rule_follows_its_depth():
    r = recipes.recipe("hourglass")
    deeper = recipes.Recipe(**{**r.__dict__, "model_kwargs": {**r.model_kwargs, "depth": 2}})
    assert recipes.input_rule(deeper) == (16, 16)


def test_good_arguments_still_train(tmp_path, capsys):
    out = tmp_path / "runs" / "hm.pt"
    argv = ["train", "heatmap", *TINY, "--size", "32", "--width", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    assert out.exists() and "checkpoint:" in capsys.readouterr().out

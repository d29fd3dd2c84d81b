"""The posekit command line."""

import subprocess
import sys

import pytest

from posekit import cli, doctor


def test_parser_knows_the_commands():
    parser = cli.build_parser()
    args = parser.parse_args(["course", "run", "01", "02", "--full"])
    assert (args.action, args.lessons, args.full, args.folder) == (
        "run",
        ["01", "02"],
        True,
        "solutions",
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["course", "explode"])


def test_lessons_may_follow_the_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "_course", lambda args: seen.update(vars(args)) or 0)
    assert cli.main(["course", "run", "--full", "01", "02"]) == 0
    assert (seen["lessons"], seen["full"]) == (["01", "02"], True)
    with pytest.raises(SystemExit):
        cli.main(["course", "run", "--full", "01", "nope"])


def test_train_choices_are_the_recipes():
    from posekit import recipes

    # sphp trains on an SPHP-format folder (recipes.train_sphp), not a SynthPose recipe
    assert cli.TRAIN_RECIPES == (*recipes.RECIPES, "sphp")
    for name in recipes.RECIPES:
        assert recipes.recipe(name).name == name


def test_doctor_reports_and_strict_fails_on_a_broken_probe(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "probe_mediapipe", lambda: doctor.Probe("mediapipe", True, "fake"))
    monkeypatch.setattr(
        doctor, "probe_spconv", lambda: doctor.Probe("spconv", False, "gone", "do X")
    )
    assert doctor.report(strict=False) == 0
    assert doctor.report(strict=True) == 1
    out = capsys.readouterr().out
    assert "[!!] spconv: gone" in out and "fix: do X" in out and "torch" in out


def test_spconv_probe_runs_a_real_convolution():
    pytest.importorskip("spconv")
    probe = doctor.probe_spconv()
    assert probe.ok, probe.detail
    assert "(2, 8)" in probe.detail


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "posekit", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "course" in out and "doctor" in out and "synth" in out and "bench" in out


def test_parser_knows_synth_and_bench():
    parser = cli.build_parser()
    args = parser.parse_args(
        ["synth", "multi", "--n", "3", "--size", "64x48", "--people", "2", "--format", "mpii"]
    )
    kwargs = cli.synth_export_kwargs(args)
    assert (kwargs["kind"], kwargs["n"], kwargs["size"], kwargs["format"]) == (
        "multi",
        3,
        (64, 48),
        "mpii",
    )
    assert kwargs["people"] == 2 and "n_frames" not in kwargs
    assert cli.synth_export_kwargs(parser.parse_args(["synth", "sequence"]))["format"] == "sphp"
    args = parser.parse_args(["bench", "synth", "--n", "20"])
    assert (args.what, args.n, args.repeats) == ("synth", 20, 5)
    for bad in (["synth", "single", "--n", "0"], ["bench", "other"], ["synth", "pairs"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_train_then_eval_a_tiny_deeppose(tmp_path, capsys):
    ckpt = tmp_path / "dp.pt"
    argv = ["train", "deeppose", "--epochs", "1", "--n-train", "16", "--n-val", "8", "--size",
            "48", "--batch-size", "8", "--width", "0.125", "--out", str(ckpt)]  # fmt: skip
    assert cli.main(argv) == 0
    trained = capsys.readouterr().out
    assert "checkpoint:" in trained and ckpt.exists()
    assert cli.main(["eval", str(ckpt)]) == 0
    table = capsys.readouterr().out
    assert "| Arch | Head |" in table and "PCK@0.2" in table
    # the table's Mean equals what training logged for the same val crops
    logged = float(trained.split("PCKh@0.5 ")[1].split(",")[0])
    mean = float(table.splitlines()[3].split("|")[9])
    assert abs(mean - logged) < 0.06


def test_eval_refuses_a_foreign_checkpoint(tmp_path, capsys):
    import torch

    path = tmp_path / "x.pt"
    torch.save({"model": {}}, path)
    assert cli.main(["eval", str(path)]) == 2  # one error line, no traceback
    err = capsys.readouterr().err
    assert "x.pt" in err and "not a posekit checkpoint" in err


def test_bench_params_prints_the_published_table(capsys):
    assert cli.main(["bench", "params"]) == 0
    out = capsys.readouterr().out
    assert "DeepPose (AlexNet, K=14)" in out and "✗" not in out


@pytest.mark.parametrize(
    "name, width",
    [("hourglass", "8"), ("simple_baseline", "8")],
)
def test_train_then_eval_the_lesson_03_models(tmp_path, capsys, name, width):
    ckpt = tmp_path / f"{name}.pt"
    argv = ["train", name, "--epochs", "1", "--n-train", "8", "--n-val", "4", "--size", "64",
            "--batch-size", "4", "--width", width, "--out", str(ckpt)]  # fmt: skip
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main(["eval", str(ckpt)]) == 0
    assert "| Arch | Head |" in capsys.readouterr().out


def test_bench_postprocess_prints_both_paths(capsys):
    argv = ["bench", "postprocess", "--people", "2", "--size", "456x256", "--runs", "2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "2 people at 456×256" in out and "resize maps" in out and "group keypoints" in out
    assert out.count("matched 4/4") == 2  # 2 scenes (one per run) × 2 people, both paths
    assert cli.main(["bench", "postprocess", "--people", "1", "--size", "450x256"]) == 2
    assert "multiple of the stride" in capsys.readouterr().err

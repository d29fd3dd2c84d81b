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

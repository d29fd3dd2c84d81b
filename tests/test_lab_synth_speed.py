"""posekit.lab.synth_speed: SynthPose throughput and its report (``posekit bench synth``)."""

from posekit import cli
from posekit.lab.synth_speed import BENCH_ROWS, bench_table


def test_cli_bench_synth_prints_the_table(capsys):
    assert cli.main(["bench", "synth", "--n", "20", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "threads forced to 1" in out and "images/s (median)" in out
    for _key, name, target in BENCH_ROWS:
        assert name in out and f" {target} " in out


def test_bench_table_marks_targets():
    table = bench_table(
        {"person_128": 600.0, "person_128_batched": 499.9, "scene_456x256_5p": 100.0}
    )
    lines = table.splitlines()
    assert len(lines) == 5 and lines[0].startswith("setting")
    assert lines[2].endswith("✓") and lines[3].endswith("✗") and lines[4].endswith("✓")

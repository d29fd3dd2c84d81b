"""posekit.lab.inference: eager vs optimize_for_inference latency (``posekit bench latency``)."""

import pytest
import torch
from test_models_openpose import _ConvBNNet  # the same small conv/BN network

from posekit import cli
from posekit.lab import inference


def test_latency_result_keys_and_equal_outputs():
    before = torch.get_num_threads()
    r = inference.latency("lightweight_openpose", size=(32, 40), runs=2, warmup=1, threads=1)
    assert torch.get_num_threads() == before
    assert set(r) >= {"model", "size", "threads", "runs", "eager_ms", "optimized_ms",
                      "eager_fps", "optimized_fps", "speedup", "max_abs_diff",
                      "output_scale", "outputs_equal", "goal", "meets_goal"}  # fmt: skip
    assert r["size"] == (32, 40) and r["threads"] == 1 and r["runs"] == 2
    assert r["outputs_equal"] and r["max_abs_diff"] <= 1e-4
    assert r["speedup"] == pytest.approx(r["eager_ms"] / r["optimized_ms"])
    assert r["eager_fps"] == pytest.approx(1e3 / r["eager_ms"])
    assert r["meets_goal"] == (r["speedup"] >= r["goal"])
    text = inference.format_latency(r)
    assert "speed-up" in text and "fps" in text and "✓" in text


def test_latency_with_a_module_and_bad_arguments():
    net = _ConvBNNet()
    r = inference.latency(net, size=(8, 8), runs=1, warmup=0)
    assert r["model"] == "_ConvBNNet" and r["outputs_equal"]
    with pytest.raises(ValueError, match="size"):
        inference.latency(net)
    with pytest.raises(ValueError, match="model"):
        inference.latency("alexnet_pose")
    with pytest.raises(ValueError, match="runs"):
        inference.latency(net, size=(8, 8), runs=0)


def test_cli_bench_latency(capsys):
    assert tuple(inference.LATENCY_MODELS) == cli.LATENCY_MODELS
    argv = ["bench", "latency", "lightweight_openpose", "--size", "32x48", "--runs", "1"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "32×48 (W×H)" in out and "speed-up" in out  # --size is W×H
    assert cli.main(["bench", "latency", "nope"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["bench", "latency", "--size", "32by48"])

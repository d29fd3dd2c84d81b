"""posekit.lab.synth_baseline: smoke test only (the real runs are ``python -m
posekit.lab.synth_baseline``, minutes each)."""

import os

import numpy as np
import torch

from posekit.codecs.heatmap import decode_quarter_offset
from posekit.datasets.synthpose import SynthPoseTopDown
from posekit.lab import synth_baseline as bl


def test_importing_sets_no_environment_variable(monkeypatch):
    import importlib

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    importlib.reload(bl)
    assert "OMP_WAIT_POLICY" not in os.environ


def test_baseline_heatmaps_round_trip_and_loss_decreases():
    kp = torch.tensor([[[10.0, 20.0, 2.0], [61.0, 3.0, 1.0]]])
    target, w = bl.heatmap_targets(kp, torch.ones(1, 2), (16, 8))
    dec = decode_quarter_offset(target, bl.STRIDE)  # the decoder the baseline evaluates with
    np.testing.assert_allclose(dec[0, :, :2], kp[0, :, :2], atol=2.0)  # stride / 2
    assert w.tolist() == [[1.0, 1.0]]

    torch.manual_seed(0)
    ds = SynthPoseTopDown("train", 8, input_size=(64, 64), augment=False)
    batch = next(bl._batches(ds, np.arange(8), 8))
    model = bl.TinyHeatmapNet(16, widths=(16, 32, 32, 32), stem=8, decoder=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread avoids OpenMP overhead on busy cores
    try:
        losses = [bl.train_step(model, opt, batch, (16, 16)) for _ in range(8)]
        assert model(batch["image"]).shape == (8, 16, 16, 16)
    finally:
        torch.set_num_threads(threads)
    assert losses[-1] < losses[0]

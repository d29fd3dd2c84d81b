"""posekit.lab.sparse_bench: the synthetic patterns, the measured inputs, the crossover, a quick
run's rows and the tables (no speed is asserted: timings on a shared machine are noise)."""

import math

import numpy as np
import pytest
import torch

from posekit import sensors
from posekit.lab import sparse_bench as sb


def _active(x: torch.Tensor) -> torch.Tensor:
    return (x != 0).any(1)[0]


@pytest.mark.parametrize("density", [1, 2, 5, 10, 20, 40])
def test_edge_pattern_density_and_values(density):
    x = sb.edge_pattern(density, (72, 96), seed=3)
    assert x.shape == (1, 1, 72, 96) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {0.0, 1.0}
    got = 100 * _active(x).float().mean().item()
    assert abs(got - density) <= 0.2 * density
    assert _active(x).sum() == round(density / 100 * 72 * 96)  # exact, as documented


def test_edge_pattern_is_thin_lines_and_seeded():
    x = sb.edge_pattern(5, (144, 192), seed=1)
    a = _active(x)
    # 1-px digital lines have no fully active 2×2 square (crossings make a few); a 2-px-wide
    # line is made of them, so any thickening fails this
    squares = a[:-1, :-1] & a[1:, :-1] & a[:-1, 1:] & a[1:, 1:]
    assert squares.sum() <= 0.03 * a.sum()
    thick = torch.nn.functional.max_pool2d(a.float()[None], 2, 1)[0] > 0  # 2-px-wide lines
    thick_sq = thick[:-1, :-1] & thick[1:, :-1] & thick[:-1, 1:] & thick[1:, 1:]
    assert thick_sq.sum() > 0.3 * thick.sum()
    # lines, not scattered dots: most active pixels have an active 8-neighbour on each side
    p = torch.nn.functional.pad(a.float()[None, None], (1, 1, 1, 1))
    neighbours = torch.nn.functional.conv2d(p, torch.ones(1, 1, 3, 3))[0, 0] - a.float()
    assert (neighbours[a] >= 2).float().mean() > 0.8
    assert torch.equal(x, sb.edge_pattern(5, (144, 192), seed=1))
    assert not torch.equal(x, sb.edge_pattern(5, (144, 192), seed=2))


@pytest.mark.parametrize("block", [4, 8])
@pytest.mark.parametrize("density", [1, 5, 20, 40])
def test_block_pattern_whole_blocks(block, density):
    h, w = 72, 96
    x = sb.block_pattern(density, (h, w), seed=0, block=block)
    assert x.shape == (1, 2, h, w)
    a = _active(x)
    assert abs(100 * a.float().mean().item() - density) <= 0.2 * density
    cells = x[0].reshape(2, h // block, block, w // block, block)
    on = a.reshape(h // block, block, w // block, block).permute(0, 2, 1, 3).flatten(2)
    # every active pixel's aligned block is fully active, and carries one vector
    assert torch.all(on.all(-1) | ~on.any(-1))
    assert torch.all(cells.amax((2, 4)) == cells.amin((2, 4)))
    codes = x[x != 0] * 128  # SPHP encoding (v − 128) / 128 with v − 128 in ±[1, 32]
    assert torch.equal(codes, codes.round()) and codes.abs().min() >= 1 and codes.abs().max() <= 32
    assert torch.all((x[0, 0] != 0) == (x[0, 1] != 0))  # both channels set on every block


def test_patterns_reject_bad_arguments():
    with pytest.raises(ValueError, match="density"):
        sb.edge_pattern(0)
    with pytest.raises(ValueError, match="density"):
        sb.block_pattern(120)
    with pytest.raises(ValueError, match="size"):
        sb.edge_pattern(5, (0, 10))


def test_measured_inputs_channels():
    from posekit.datasets.synthpose import SynthPoseSequences

    m = sb.measured_inputs((72, 96), clips=3, seed=0)
    assert m["ed"].shape == (1, 1, 72, 96) and m["mv"].shape == (1, 2, 72, 96)
    assert torch.equal(m["fs"], torch.cat((m["ed"], m["mv"]), 1))  # [EDG, MVV, MVH]
    # recompute the chosen clip's sensor images: edges ÷ 255, MV (v − 128) / 128, 0 = no motion
    ds = SynthPoseSequences("val", length=3, n_frames=2, size=(96, 72), seed=0, frames="uint8")
    a, b = ds[m["clip"]]["frames"].numpy()
    mvh, mvv = sensors.motion_vectors(a, b)
    assert np.array_equal(m["ed"][0, 0].numpy(), sensors.edges(b) / 255.0)
    assert np.array_equal(m["mv"][0, 0].numpy() == 0, mvv == 128)
    assert np.array_equal(m["mv"][0, 1].numpy() == 0, mvh == 128)
    assert np.allclose(m["mv"][0, 0].numpy(), (mvv.astype(np.float32) - 128) / 128)
    assert m["density"]["ed"] == pytest.approx(float((sensors.edges(b) > 0).mean()))
    assert m["density"]["fs"] >= max(m["density"]["ed"], m["density"]["mv"])
    assert sorted(m["edge_densities"])[1] == pytest.approx(m["density"]["ed"])  # the median


def test_crossover_density():
    got = sb.crossover_density([5, 10, 20], [4, 2, 0.5])
    # log 2 at 10 % and log 0.5 at 20 %: zero halfway in log density, √(10 · 20) = 14.142 %
    assert got[0] == "=" and got[1] == pytest.approx(math.sqrt(200)) and 10 < got[1] < 20
    assert sb.crossover_density([20, 5, 10], [0.5, 4, 2]) == got  # order does not matter
    assert sb.crossover_density([1, 2, 40], [9, 3, 1.2]) == (">", 40)
    assert sb.crossover_density([1, 2, 40], [0.9, 3, 0.2]) == ("<", 1)
    # speed-up 3 at 2 %, 1/3 at 8 %: halfway in log density is 4 %
    assert sb.crossover_density([2, 8], [3, 1 / 3])[1] == pytest.approx(4.0)
    assert sb.format_crossover(got) == "14.1 %"
    assert sb.format_crossover((">", 40.0)) == "> 40 %"
    assert sb.format_crossover(("<", 1.0)) == "< 1 %"
    with pytest.raises(ValueError):
        sb.crossover_density([5, 10], [1, 0])


@pytest.fixture(scope="module")
def quick():
    return sb.run(backbones=("dhp19", "unet_small"), inputs=("ed", "fs"), densities=(5, 20),
                  patterns=("edge",), threads=1, quick=True, progress=False)  # fmt: skip


def test_quick_run_rows(quick):
    backends = quick["settings"]["backends"]
    assert backends[0] == "posekit"
    assert len(quick["measured"]) == 4 and len(quick["sweep"]) == 4
    for r in quick["measured"] + quick["sweep"]:
        assert r["ms"]["dense"] > 0 and all(r["ms"][b] > 0 for b in backends)
        assert 0 < r["active_macs"] <= r["layer_dense_macs"]
        assert r["dense_macs"] > 0
        assert r["saving"] == pytest.approx(1 - r["active_macs"] / r["layer_dense_macs"])
        assert r["speedup"]["posekit"] == pytest.approx(r["ms"]["dense"] / r["ms"]["posekit"])
        assert r["gflops"]["posekit"] == pytest.approx(
            2 * r["active_macs"] / r["ms"]["posekit"] / 1e6
        )
    assert [r["target"] for r in quick["sweep"]] == [5, 20, 5, 20]
    assert all(abs(100 * r["density"] - r["target"]) < 0.2 * r["target"] for r in quick["sweep"])
    # the dense MACs do not depend on the input's values: one count per backbone and channels
    ed = {r["backbone"]: r["dense_macs"] for r in quick["measured"] if r["input"] == "ed"}
    assert all(r["dense_macs"] == ed[r["backbone"]] for r in quick["sweep"])
    assert all(r["layer_dense_macs"] == quick["sweep"][0]["layer_dense_macs"]
               for r in quick["sweep"][:2])  # fmt: skip
    assert [(c["backbone"], c["pattern"]) for c in quick["crossovers"]] == [
        ("dhp19", "edge"),
        ("unet_small", "edge"),
    ]
    assert quick["peak_gflops"] > 0 and quick["settings"]["size"] == [72, 96]
    if "spconv" in backends:  # both backends ran the same weights: the same outputs
        for diff, scale, n in quick["agreement"].values():
            assert n == 4 and diff <= 1e-4 * scale


def test_tables_print_sphp_and_ours(quick):
    text = sb.format_report(quick)
    for published in (
        "275.45",
        "33.25",
        "26.89",
        "38.88",
        "1135",
        "46.74",
        "11.82",
        "36.13",
        "4510",
        "186.8",
        "1.07",
        "13.89",
        "−87 %",
        "−96 %",
        "1.5×",
        "3×",
        "13×",
    ):
        assert published in text, published
    assert "| DHP19 | ed |" in text and "| U-Net-Small | fs |" in text
    assert "crossover own" in text and "own vs spconv" in text
    r = quick["measured"][0]
    assert f"{r['ms']['dense']:.1f} ({r['fps']['dense']:.1f} FPS)" in sb.format_measured(quick)
    assert "U-Net-Large on the measured edge input: not measured" in sb.format_goals(quick)


def test_main_quick_and_errors(capsys):
    assert sb.main(["--quick", "--backbones", "dhp19", "--inputs", "ed", "--densities", "",
                    "--backends", "posekit", "--threads", "1", "--no-progress"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "72×96" in out and "| DHP19 | ed |" in out and "Density sweep" not in out
    with pytest.raises(SystemExit):
        sb.main(["--size", "288by384"])
    with pytest.raises(SystemExit):
        sb.main(["--backbones", "resnet"])
    # RESULTS is a full default run: every table, SPHP's numbers beside ours
    for part in ("| U-Net-Large | ed |", "Density sweep", "crossover own", "4510 → 186.8",
                 "own vs spconv", "288×384"):  # fmt: skip
        assert part in sb.RESULTS, part

"""What SPHP's dense backbones cost (Lin, Hsieh et al. 2023): params, GMACs and batch-1 CPU
latency at 288×384 of DHP19, U-Net-Small and U-Net-Large, early fusion (one 3-channel network)
and late fusion (three 1-channel networks).

``cost_table()`` measures, ``format_cost_table(rows)`` prints the Markdown table; ``python -m
posekit.lab.sphp_cost`` does both (``--runs``, ``--threads``, ``--early-only``). Latency is the
median of ``runs`` eval-mode forward passes of one random input (batch 1) under
``torch.inference_mode`` (``posekit.bench.latency_ms``), with ``threads`` torch threads.
Other processes on the machine slow it down: compare the rows of one run, not runs of different
days. ``RESULTS`` holds the table measured when this file was written.
"""

from __future__ import annotations

import argparse

import torch

from posekit.bench import count_macs, count_params, latency_ms
from posekit.models.sphp import INPUTS, sphp_model

__all__ = ["BACKBONE_NAMES", "RESULTS", "cost_table", "format_cost_table", "main"]

BACKBONE_NAMES = {"dhp19": "DHP19", "unet_small": "U-Net-Small", "unet_large": "U-Net-Large"}


def cost_table(
    backbones=tuple(BACKBONE_NAMES),
    inputs=("fs", "late"),
    size: tuple[int, int] = (288, 384),
    threads: int = 2,
    runs: int = 7,
    warmup: int = 1,
) -> list[dict]:
    """Params, GMACs and CPU milliseconds of each ``sphp_model(backbone, inputs)``.

    Args:
        backbones: ``sphp_model`` backbone names. inputs: ``sphp_model`` input names (``"fs"``
            early fusion, ``"late"`` late fusion, ...).
        size: ``(H, W)`` of the input (288×384, SPHP's).
        threads: torch intra-op threads while timing (restored afterwards).
        runs, warmup: timed and untimed forward passes (the median is reported).
    Returns:
        one dict per model: ``model``, ``inputs``, ``channels``, ``params_m``, ``gmacs``,
        ``cpu_ms`` (median), ``threads``.
    """
    h, w = size
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    rows = []
    try:
        for backbone in backbones:
            for inp in inputs:
                torch.manual_seed(0)
                model = sphp_model(backbone, inp).eval()
                x = torch.rand(1, INPUTS[inp], h, w)
                rows.append(
                    dict(
                        model=BACKBONE_NAMES.get(backbone, backbone),
                        inputs=inp,
                        channels=INPUTS[inp],
                        params_m=count_params(model) / 1e6,
                        gmacs=count_macs(model, x.shape) / 1e9,
                        cpu_ms=latency_ms(lambda m=model, x=x: m(x), runs=runs, warmup=warmup),
                        threads=threads,
                    )
                )
                del model
    finally:
        torch.set_num_threads(before)
    return rows


def format_cost_table(rows: list[dict]) -> str:
    """Markdown table of ``cost_table`` rows."""
    fusion = {"fs": "early (3 ch)", "late": "late (3 × 1 ch)"}
    lines = [
        "| backbone | fusion | params (M) | GMACs | CPU ms |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        what = fusion.get(r["inputs"], f"{r['inputs']} ({r['channels']} ch)")
        lines.append(
            f"| {r['model']} | {what} | {r['params_m']:.3f} | {r['gmacs']:.2f} "
            f"| {r['cpu_ms']:.0f} |"
        )
    return "\n".join(lines)


RESULTS = """\
Measured on 2 CPU cores shared with other engineers' jobs (load average 2-6 during the runs, so
the milliseconds are upper bounds and noisy): torch 2.13 CPU, 2 threads, OMP_WAIT_POLICY=PASSIVE,
batch 1 at 288x384, eval mode, median of 7 forward passes after 1 warm-up; two runs a few minutes
apart. Params and GMACs are exact (posekit.bench.count_params / count_macs).

| backbone | fusion | params (M) | GMACs | CPU ms, run 1 | CPU ms, run 2 |
|---|---|---:|---:|---:|---:|
| DHP19 | early (3 ch) | 0.219 | 3.54 | 155 | 108 |
| DHP19 | late (3 x 1 ch) | 0.656 | 10.51 | 695 | 317 |
| U-Net-Small | early (3 ch) | 1.929 | 15.60 | 839 | 384 |
| U-Net-Small | late (3 x 1 ch) | 5.784 | 46.61 | 2630 | 2329 |
| U-Net-Large | early (3 ch) | 7.703 | 62.12 | 2542 | 2944 |
| U-Net-Large | late (3 x 1 ch) | 23.106 | 185.96 | 6479 | 4941 |

Reading: cost follows the MACs (DHP19 : U-Net-S : U-Net-L = 1 : 4.4 : 17.6) and late fusion costs
3x early fusion (three branches; the first conv is a tiny share of each network), so on these
inputs early fusion is the cheap choice. On a loaded machine the run-to-run spread is up to 2x:
compare rows of one run. None of these is real time on a CPU at full resolution; SPHP's sparse
versions (submanifold sparse convolutions) target that cost; not measured here.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed forward passes per model")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--early-only", action="store_true", help="skip late fusion")
    args = parser.parse_args(argv)
    inputs = ("fs",) if args.early_only else ("fs", "late")
    rows = cost_table(inputs=inputs, threads=args.threads, runs=args.runs)
    print(format_cost_table(rows))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Write SynthPose as a real dataset: COCO, MPII (official .mat + HRNet json) or SPHP folders.

The same options as ``posekit synth``; the loaders written for the real datasets read the
output unchanged (layouts: ``posekit.synth.export``). Runs from any working directory.

    python data_scripts/make_synthetic.py single --n 1000 --format mpii      # 128x128 crops
    python data_scripts/make_synthetic.py multi --n 500 --format coco --people 0
    python data_scripts/make_synthetic.py sequence --n 16 --frames 300       # SPHP, 640x480
    python data_scripts/make_synthetic.py sphp --subjects 8 --frames 60      # both cameras

Default output: ``$POSEKIT_DATA/synthpose/{format}_{kind}_seed{seed}/`` (``sphp``:
``sphp_dataset_seed{seed}``; ``--out`` to change).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import posekit  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posekit.cli import add_synth_arguments, run_synth  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make_synthetic.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_synth_arguments(parser)
    args = parser.parse_args(argv)
    try:
        manifest = run_synth(args)
    except (ValueError, FileExistsError) as err:
        parser.error(str(err))
    print(f"wrote {manifest.parent} (manifest: {manifest.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

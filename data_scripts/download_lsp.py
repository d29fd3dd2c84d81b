#!/usr/bin/env python
"""Download Leeds Sports Pose (LSP) and LSP-extended into $POSEKIT_DATA/lsp.

The course needs no download: every lesson trains on SynthPose. This is for training the same
models on LSP and LSP-extended. Broken downloads resume when you run the command again.

    python data_scripts/download_lsp.py --dry-run
    python data_scripts/download_lsp.py
    python data_scripts/download_lsp.py --url-base /media/usb/lsp   # zips copied by hand

Both zips unpack flat (images/, joints.mat, README.txt), so each goes into its own folder.
We know of no published checksum or size for them, so the size of the first complete
download is recorded and checked afterwards (a truncated file or a corrupt partial download
is never accepted); the script says so.
The files were first hosted at www.comp.leeds.ac.uk/mat4saj/, later at sam.johnson.io; if the
host does not answer, copy the zips from a source you trust and use --url-base.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import posekit  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posekit.download import Resource, run_script, script_parser  # noqa: E402

DATASET = "lsp"
BASE_URL = "http://sam.johnson.io/research/"

# No checksums: we know of no published one for these zips, and we do not invent one.
RESOURCES = [
    Resource(
        name="lsp_dataset.zip",
        url=BASE_URL + "lsp_dataset.zip",
        extract_to="lsp_dataset",
        note="LSP: 2000 images, joints.mat 3x14x2000",
        expect=("lsp_dataset/joints.mat", "lsp_dataset/images"),
    ),
    Resource(
        name="lspet_dataset.zip",
        url=BASE_URL + "lspet_dataset.zip",
        extract_to="lspet_dataset",
        note="LSP-extended: 10000 images, joints.mat 14x3x10000",
        expect=("lspet_dataset/joints.mat", "lspet_dataset/images"),
    ),
]

LAYOUT = """\
{root}/
  lsp_dataset/
    joints.mat      'joints' 3x14x2000 (x; y; flag), 1-based pixels, flag 1 = OCCLUDED
    images/         im0001.jpg .. im2000.jpg (1-1000 train, 1001-2000 test)
    visualized/     the same images with the poses drawn
  lspet_dataset/
    joints.mat      'joints' 14x3x10000, flag 1 = VISIBLE (the opposite of LSP)
    images/         im00001.jpg .. im10000.jpg (all train)
  lsp_dataset.zip, lspet_dataset.zip   (kept unless --delete-archives)
Joint order and evaluation (PCK@0.2 of the torso): docs/datasets.md, LSP and LSP-extended."""


def main(argv: list[str] | None = None) -> int:
    args = script_parser(DATASET, __doc__).parse_args(argv)
    return run_script(args, DATASET, RESOURCES, LAYOUT)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Download MPII Human Pose v1 (images and the official annotations) into $POSEKIT_DATA/mpii.

The course needs no download: every lesson trains on SynthPose. This is for training the same
models on MPII (about 13 GB). Broken downloads resume when you run the command again.

    python data_scripts/download_mpii.py --dry-run         # what would be fetched, and where
    python data_scripts/download_mpii.py                   # fetch, verify, unpack
    python data_scripts/download_mpii.py --url-base /media/usb/mpii   # archives copied by hand

We know of no published checksum or exact size for these files, so the size of the first
complete download is recorded and checked afterwards (a truncated file or a corrupt partial
download is never accepted); the script says so.
Terms of use: see http://human-pose.mpi-inf.mpg.de/ before you download.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import posekit  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posekit.download import Resource, run_script, script_parser  # noqa: E402

DATASET = "mpii"
BASE_URL = "https://datasets.d2.mpi-inf.mpg.de/andriluka14cvpr/"

# No checksums: we know of no published one for these files, and we do not invent one.
RESOURCES = [
    Resource(
        name="mpii_human_pose_v1_u12_2.zip",
        url=BASE_URL + "mpii_human_pose_v1_u12_2.zip",
        note="official annotations (MATLAB .mat)",
        expect=("mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat",),
    ),
    Resource(
        name="mpii_human_pose_v1.tar.gz",
        url=BASE_URL + "mpii_human_pose_v1.tar.gz",
        note="images, about 12.9 GB",
        expect=("images",),
    ),
]

LAYOUT = """\
{root}/
  mpii_human_pose_v1_u12_2/
    mpii_human_pose_v1_u12_1.mat   official annotations: struct RELEASE, 1-based pixel
                                   coordinates, joint ids 0..15 (docs/datasets.md)
  images/                          about 25K jpg, e.g. images/015601864.jpg
  mpii_human_pose_v1_u12_2.zip, mpii_human_pose_v1.tar.gz   (kept unless --delete-archives)
The HRNet json annotations (annot/{{train,valid}}.json, gt_valid.mat; docs/datasets.md) are not
part of the official release: get them from the HRNet repository and put them in {root}/annot/."""


def main(argv: list[str] | None = None) -> int:
    args = script_parser(DATASET, __doc__).parse_args(argv)
    return run_script(args, DATASET, RESOURCES, LAYOUT)


if __name__ == "__main__":
    sys.exit(main())

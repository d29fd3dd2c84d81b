#!/usr/bin/env python
"""Download the COCO 2017 person-keypoints subset into $POSEKIT_DATA/coco.

The course needs no download: every lesson trains on SynthPose. This is for training the same
models on COCO keypoints. By default: the 2017 train/val annotations (person_keypoints_*.json
inside, 241 MiB) and the val2017 images (778 MiB); --train adds train2017 (18 GiB). Broken
downloads resume when you run the command again.

    python data_scripts/download_coco.py --dry-run
    python data_scripts/download_coco.py [--train]
    python data_scripts/download_coco.py --url-base /media/usb/coco   # zips copied by hand

Every file is checked against its md5 (see CHECKSUMS below); --no-verify skips that.
Terms of use: https://cocodataset.org/#termsofuse (annotations CC BY 4.0, images Flickr terms).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import posekit  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posekit.download import Resource, run_script, script_parser  # noqa: E402

DATASET = "coco"

# CHECKSUMS: the md5 of the official 2017 zips. The same three values appear independently in
# many independent public download scripts and md5sum checks (PaddleDetection's tests,
# MLCommons/MLPerf scripts, the R torchvision package, ...). The sizes are checked too.
ANNOTATIONS = Resource(
    name="annotations_trainval2017.zip",
    url="http://images.cocodataset.org/annotations/annotations_trainval2017.zip",
    md5="f4bbac642086de4f52a3fdda2de5fa2c",
    size=252_907_541,
    note="annotations, person_keypoints_{train,val}2017.json inside",
    expect=("annotations/person_keypoints_val2017.json",),
)
VAL = Resource(
    name="val2017.zip",
    url="http://images.cocodataset.org/zips/val2017.zip",
    md5="442b8da7639aecaf257c1dceb8ba8c80",
    size=815_585_330,
    note="val2017 images (5000)",
    expect=("val2017",),
)
TRAIN = Resource(
    name="train2017.zip",
    url="http://images.cocodataset.org/zips/train2017.zip",
    md5="cced6f7f71b7629ddf16f17bbcfab6b2",
    size=19_336_861_798,
    note="train2017 images (118287), only with --train",
    expect=("train2017",),
)

LAYOUT = """\
{root}/
  annotations/
    person_keypoints_val2017.json     17 keypoints [x, y, v], v: 0 unlabelled, 1 occluded,
    person_keypoints_train2017.json   2 visible; OKS/AP evaluation (docs/datasets.md)
    (instances_*, captions_*: also in the zip, unused by posekit)
  val2017/      000000000139.jpg ... (5000 images)
  train2017/    (118287 images, with --train)
  annotations_trainval2017.zip, val2017.zip[, train2017.zip]   (kept unless --delete-archives)"""


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(DATASET, __doc__)
    parser.add_argument("--train", action="store_true", help="also fetch train2017.zip (18 GiB)")
    args = parser.parse_args(argv)
    resources = [ANNOTATIONS, VAL] + ([TRAIN] if args.train else [])
    return run_script(args, DATASET, resources, LAYOUT)


if __name__ == "__main__":
    sys.exit(main())

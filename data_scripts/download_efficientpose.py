#!/usr/bin/env python
"""Download the authors' released EfficientPose models into $POSEKIT_DATA/efficientpose.

Groos, Ramampiaro & Ihlen (2021), "EfficientPose: Scalable single-person pose estimation":
the Keras models RT, I, RT Lite and I Lite (trained on MPII, 16 joints; about 11 MB together)
and the authors' demo photo, from their repository at a pinned commit (Apache-2.0). Each file
is checked against its sha256, then every ``.h5`` is converted into a posekit checkpoint
(read with h5py: no TensorFlow, nothing executed) that ``posekit.pretrained.efficientpose``
loads. Lesson 05 runs them on real photos.

    python data_scripts/download_efficientpose.py --dry-run      # what, from where, checksums
    python data_scripts/download_efficientpose.py                # fetch, verify, convert
    python data_scripts/download_efficientpose.py --from DIR     # local copies of the files
    python data_scripts/download_efficientpose.py --variants rt i

The II, III and IV weights are not in the repository's history (large files): posekit builds
those architectures (params, MACs) but cannot load them.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import posekit  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posekit import pretrained  # noqa: E402
from posekit.download import run_script, script_parser  # noqa: E402

LAYOUT = """\
{root}/
  EfficientPoseRT.h5, EfficientPoseI.h5, …       the authors' Keras files (verified sha256)
  efficientpose_rt.pt, efficientpose_i.pt, …     posekit checkpoints (posekit.pretrained)
  mpii_sample.jpg                                the authors' demo photo"""


def parser():
    p = script_parser(pretrained.FOLDER, __doc__)
    p.add_argument(
        "--from",
        dest="source",
        default=None,
        metavar="DIR",
        help="take the files from a local folder holding them under their names above "
        "(same as --url-base DIR)",
    )
    p.add_argument(
        "--variants",
        nargs="+",
        default=list(pretrained.RELEASED),
        choices=list(pretrained.RELEASED),
        help="which models (default: all four)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.source is not None:
        if args.url_base is not None:
            print("error: give --from or --url-base, not both", file=sys.stderr)
            return 2
        if not Path(args.source).expanduser().is_dir():
            print(f"error: --from {args.source}: no such folder", file=sys.stderr)
            return 2
        args.url_base = str(Path(args.source).expanduser().absolute())
    resources = pretrained.resources(args.variants)
    code = run_script(args, pretrained.FOLDER, resources, LAYOUT)
    if code or args.dry_run:
        if args.dry_run:
            names = ", ".join(f"efficientpose_{v}.pt" for v in args.variants)
            print(f"then convert into posekit checkpoints: {names}")
        return code
    root = Path(args.root).expanduser().absolute() if args.root else pretrained.folder()
    try:
        paths = pretrained.convert_all(args.variants, root)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for variant, path in paths.items():
        print(f"{variant}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

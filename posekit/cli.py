"""The ``posekit`` command: ``posekit course build|check|run|grade|release``, ``posekit doctor``,
``posekit lab``,
``posekit synth single|multi|sequence|sphp`` (export SynthPose as COCO / MPII / SPHP; ``sphp``:
a whole two-camera SPHP-style dataset),
``posekit bench synth`` (SynthPose throughput), ``posekit bench params`` (published configs'
params / GMACs), ``posekit bench latency MODEL`` (eager vs inference-optimised latency) and
``posekit bench postprocess`` (OpenPose post-processing: naive vs at map resolution)."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import warnings
from collections.abc import Iterator, Sequence

TRAIN_RECIPES = (
    "deeppose", "heatmap", "hourglass", "simple_baseline", "lightweight_openpose",
    "efficientpose", "sphp",
)  # fmt: skip
"""``posekit train`` names (``posekit.recipes.RECIPES`` and ``sphp``: ``recipes.train_sphp``;
kept here so that ``--help`` stays fast without importing torch)."""
SPHP_BACKBONES = ("dhp19", "unet_small", "unet_large")
SPHP_INPUTS = ("gr", "ed", "mv", "fs", "late")

LATENCY_MODELS = (
    "lightweight_openpose", "openpose", "hourglass", "simple_baseline", "efficientpose_rt",
)  # fmt: skip
"""``posekit bench latency`` names (``posekit.lab.inference.LATENCY_MODELS``)."""


def _course_grade(args: argparse.Namespace) -> int:
    from posekit import grading

    grading.grade(
        args.lessons,
        out=args.out,
        student=args.student,
        timeout=grading.DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
        full=args.full,
    )
    return 0


def _course_release(args: argparse.Namespace) -> int:
    from posekit import grading

    if len(args.lessons) != 1:
        raise grading.CourseError("give one folder: posekit course release DIR [--force]")
    done = grading.release(args.lessons[0], force=args.force)
    print(
        f"released {len(done.files)} files ({done.bytes / 1e6:.1f} MB) to {done.dest}: no "
        f"solutions/, no tests/; students run `make lab` there"
    )
    return 0


def _course(args: argparse.Namespace) -> int:
    from posekit import course

    if args.action in ("grade", "release"):
        try:
            return (_course_grade if args.action == "grade" else _course_release)(args)
        except course.CourseError as err:
            print(f"posekit course {args.action}: error: {err}", file=sys.stderr)
            return 2
    if args.action == "build":
        written = course.build(lessons=args.lessons or None)
        print(f"built {len(written)} student notebook(s)")
        return 0
    if args.action == "check":
        problems = course.check()
        for problem in problems:
            print(f"FAIL {problem}")
        print("course check: OK" if not problems else f"course check: {len(problems)} problem(s)")
        return 1 if problems else 0
    results = course.run(
        lessons=args.lessons or None,
        folder=args.folder,
        full=args.full,
        timeout=600 if args.timeout is None else args.timeout,
        check_mode=args.check_mode,
    )
    return 0 if all(r.ok for r in results) else 1


def _lab(args: argparse.Namespace, flags: list[str]) -> int:
    from pathlib import Path

    from posekit import launch

    return launch.run_lab(Path(args.folder), flags, port=args.port)


def _doctor(args: argparse.Namespace) -> int:
    from posekit import doctor

    return doctor.report(strict=args.strict)


def _size_arg(text: str) -> tuple[int, int]:
    from posekit.synth.export import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _int_at_least(low: int, what: str):
    """An argparse type: an integer >= ``low``, refused as ``expected <what>``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonneg_int = _int_at_least(0, "an integer >= 0")


def _positive_float(text: str) -> float:
    """A finite number > 0 (``nan``, ``inf``, 0 and negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _actions_arg(text: str) -> list[int]:
    try:
        return [int(a) for a in text.split(",") if a.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ids like 1,5,10, got {text!r}") from None


def _subjects_arg(text: str) -> int | list[str]:
    """``8`` (a count) or ids ``s01,s06,s09`` / ``1,6,9`` (a comma list or ``sXX``)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if len(items) == 1 and "," not in text and items[0].isdigit():
        return int(items[0])
    if items and all(t.lower().lstrip("s").isdigit() for t in items):
        return items
    raise argparse.ArgumentTypeError(
        f"expected a count like 8 or ids like s01,s06,s09; got {text!r}"
    )


#: Options of ``posekit synth`` that ``posekit synth sphp`` does not take (dest -> flag).
_NOT_SPHP = {"n": "--n", "format": "--format", "people": "--people", "camera": "--camera",
             "val_fraction": "--val-fraction", "image_format": "--image-format",
             "start": "--start"}  # fmt: skip


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``posekit synth`` (shared with ``data_scripts/make_synthetic.py``)."""
    parser.add_argument(
        "kind",
        choices=["single", "multi", "sequence", "sphp"],
        help="person crops, multi-person scenes, SPHP exercise sequences (one camera), or "
        "sphp: a whole SPHP-style dataset (every subject x action, Master and Slave cameras)",
    )
    parser.add_argument(
        "--n",
        type=_positive_int,
        default=None,
        help="images (coco/mpii) or sequences (sphp); default 100",
    )
    parser.add_argument(
        "--subjects",
        type=_subjects_arg,
        metavar="N|IDS",
        help="sphp: a count (8: SPHP's train/val/test subjects in proportion, s01-04, s06-07, "
        "s09-10) or ids like s01,s06,s09 (default 8)",
    )
    parser.add_argument(
        "--size",
        type=_size_arg,
        metavar="WxH",
        help="W×H: image size (default 128x128 / 456x256 / 640x480 by kind)",
    )
    parser.add_argument("--seed", type=int, default=0, help="SynthPose stream seed")
    parser.add_argument(
        "--format",
        choices=["coco", "mpii", "sphp"],
        default=None,
        help="output layout (default: coco, sphp for sequences)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default $POSEKIT_DATA/synthpose/FORMAT_KIND_seedS)",
    )
    parser.add_argument("--people", type=int, help="multi: people per scene (0 = random 1..10)")
    parser.add_argument(
        "--frames", type=_positive_int, help="sequence, sphp: frames per sequence (300)"
    )
    parser.add_argument("--fps", type=float, help="sequence, sphp: frame rate (30)")
    parser.add_argument(
        "--actions", type=_actions_arg, help="sequence, sphp: action ids like 1,5,10 (1..16)"
    )
    parser.add_argument("--camera", choices=["Master", "Slave"], help="sphp: camera folder")
    parser.add_argument("--val-fraction", type=float, help="mpii: share of images in valid.json")
    parser.add_argument("--image-format", choices=["jpg", "png"], help="coco/mpii images (jpg)")
    parser.add_argument("--start", type=int, help="first sample index (to export in shards)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def synth_export_kwargs(args: argparse.Namespace) -> dict:
    """``posekit.synth.export.export`` keyword arguments from parsed ``add_synth_arguments``
    (kinds single, multi, sequence; ``ValueError`` for ``--subjects``, which is sphp's)."""
    if args.kind == "sphp":
        raise ValueError("kind 'sphp' is written by export_sphp_dataset (synth_sphp_kwargs)")
    if getattr(args, "subjects", None) is not None:
        raise ValueError("--subjects applies to 'synth sphp' only; use --n for other kinds")
    fmt = args.format or ("sphp" if args.kind == "sequence" else "coco")
    n = 100 if args.n is None else args.n
    kwargs = {"kind": args.kind, "n": n, "size": args.size, "seed": args.seed,
              "format": fmt, "out_dir": args.out, "progress": not args.no_progress}  # fmt: skip
    options = {"people": args.people, "n_frames": args.frames, "fps": args.fps,
               "actions": args.actions, "camera": args.camera, "val_fraction": args.val_fraction,
               "image_format": args.image_format, "start": args.start}  # fmt: skip
    kwargs.update({k: v for k, v in options.items() if v is not None})
    if args.overwrite:
        kwargs["overwrite"] = True
    return kwargs


def synth_sphp_kwargs(args: argparse.Namespace) -> dict:
    """``posekit.synth.export.export_sphp_dataset`` keyword arguments from parsed
    ``add_synth_arguments`` of kind ``sphp`` (``ValueError`` naming an option it does not
    take)."""
    given = [flag for dest, flag in _NOT_SPHP.items() if getattr(args, dest, None) is not None]
    if given and not (given == ["--format"] and args.format == "sphp"):
        raise ValueError(
            f"option(s) {', '.join(given)} do not apply to 'synth sphp' (it takes --subjects, "
            "--frames, --fps, --actions, --size, --seed, --out)"
        )
    kwargs = {"out": args.out, "seed": args.seed, "progress": not args.no_progress,
              "overwrite": bool(args.overwrite)}  # fmt: skip
    options = {"subjects": args.subjects, "frames": args.frames, "fps": args.fps,
               "actions": args.actions, "size": args.size}  # fmt: skip
    kwargs.update({k: v for k, v in options.items() if v is not None})
    return kwargs


def run_synth(args: argparse.Namespace):
    """Run the export that parsed ``add_synth_arguments`` ask for; the manifest's path.
    (``ValueError`` / ``FileExistsError`` for unusable arguments or ``--out``.)"""
    from posekit.synth.export import export, export_sphp_dataset

    if args.kind == "sphp":
        return export_sphp_dataset(**synth_sphp_kwargs(args))
    return export(**synth_export_kwargs(args))


def _synth(args: argparse.Namespace) -> int:
    try:
        manifest = run_synth(args)
    except (ValueError, FileExistsError) as err:
        print(f"posekit synth: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {manifest.parent} (manifest: {manifest.name})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "sparse":  # main() hands `bench sparse ...` over before parsing
        print("posekit bench: error: `sparse` takes its own options after it "
              "(posekit bench sparse --help)", file=sys.stderr)  # fmt: skip
        return 2
    if args.what == "params":
        return _bench_params()
    if args.what == "latency":
        return _bench_latency(args)
    if args.what == "postprocess":
        return _bench_postprocess(args)
    if args.what == "sensors":
        from posekit.lab.sensor_speed import bench_sensors, format_sensors

        print(format_sensors(bench_sensors(repeats=args.repeats)))
        return 0
    from posekit.lab.synth_speed import bench_synth, bench_table

    print(f"SynthPose throughput, threads forced to 1 (torch and cv2), median of "
          f"{args.repeats} repeat(s) of {args.n} crops / {max(1, args.n // 3)} scenes")  # fmt: skip
    result = bench_synth(n=args.n, repeats=args.repeats)
    print(bench_table(result))
    print("per-repeat images/s: " + "; ".join(f"{k} {v}" for k, v in result["runs"].items()))
    return 0


def _bench_params() -> int:
    from posekit import bench

    print("Published configurations: params and GMACs (MACs = FlopCounterMode FLOPs / 2)")
    print(bench.format_params_table(bench.params_table()))
    return 0


def _bench_latency(args: argparse.Namespace) -> int:
    from posekit.lab import inference

    name = args.model or "lightweight_openpose"
    if name not in LATENCY_MODELS:
        print(f"posekit bench latency: error: model must be one of {', '.join(LATENCY_MODELS)}, "
              f"got {name!r}", file=sys.stderr)  # fmt: skip
        return 2
    size = None if args.size is None else (args.size[1], args.size[0])  # W×H → (H, W)
    result = inference.latency(name, size=size, runs=args.runs, threads=args.threads)
    print(inference.format_latency(result))
    return 0 if result["outputs_equal"] else 1


def _bench_postprocess(args: argparse.Namespace) -> int:
    from posekit.lab.postprocess import bench_postprocess, format_report

    size = args.size or (456, 256)  # W×H
    try:
        result = bench_postprocess(people=args.people, size=size, runs=args.runs,
                                   noise=args.noise, layout=args.layout)  # fmt: skip
    except ValueError as err:
        print(f"posekit bench postprocess: error: {err}", file=sys.stderr)
        return 2
    print(format_report(result))
    return 0


def _size_or_side(text: str) -> int | tuple[int, int]:
    """``128`` (a square side) or ``WxH`` like ``320x192``."""
    if "x" in text.lower().replace("×", "x"):
        return _size_arg(text)
    return _positive_int(text)


@contextlib.contextmanager
def _warnings_as_lines(prog: str) -> Iterator[None]:
    """Show each warning as one ``PROG: warning: ...`` line on stderr."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _check_train(args: argparse.Namespace, out) -> str | None:
    """The error line of unusable ``posekit train`` arguments or ``--out``, else None."""
    from posekit import recipes

    try:
        recipes.check_train_args(
            args.model, args.size, args.width, args.lr, epochs=args.epochs,
            batch_size=args.batch_size, n_train=args.n_train, n_val=args.n_val, seed=args.seed,
        )  # fmt: skip
        recipes.check_output(out)
    except ValueError as err:
        return str(err)
    return None


def _train_sphp(args: argparse.Namespace) -> int:
    from posekit import config, engine, recipes

    if args.data is None:
        print("posekit train sphp: error: --data DIR is required (an SPHP-format folder; "
              "make one with `posekit synth sphp --subjects 8 --frames 30 --out DIR`)",
              file=sys.stderr)  # fmt: skip
        return 2
    conv = args.conv or "dense"
    kind = "" if conv == "dense" else "_sparse_dense_head" if args.dense_head else "_sparse"
    name = f"sphp_{args.backbone}_{args.input}{kind}.pt"
    out = args.out or config.data_path("runs", name, create=False)
    config.setup(seed=args.seed, verbose=False)
    try:
        with _warnings_as_lines("posekit train"):
            _, history, path = recipes.train_sphp(
                args.backbone, args.input, data=args.data, out=out, epochs=args.epochs,
                size=args.size or recipes.SPHP_SIZE, batch_size=args.batch_size or 8,
                lr=args.lr or 1e-3, frame_step=args.frame_step, seed=args.seed,
                resume=args.resume, conv=conv, dense_head=bool(args.dense_head),
                backend=args.backend or "posekit",
            )  # fmt: skip
    except (ValueError, FileNotFoundError, engine.CheckpointError) as err:
        print(f"posekit train sphp: error: {err}", file=sys.stderr)
        return 2
    last = history.evals[-1] if history.evals else {}
    scores = ", ".join(f"{k} {v:.2f}" for k, v in last.items() if k.startswith("C") or k == "mean")
    print(f"checkpoint: {path}  (val MPJPE px at 384x288: {scores or 'no evaluation'})")
    return 0


_SPHP_ONLY = ("backbone", "input", "data", "frame_step", "conv", "dense_head", "backend")
_SYNTHPOSE_ONLY = ("n_train", "n_val", "width")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _refused(args: argparse.Namespace) -> str | None:
    """The options given that ``args.model`` does not use (nothing is silently ignored)."""
    unused = _SYNTHPOSE_ONLY if args.model == "sphp" else _SPHP_ONLY
    given = [_flag(n) for n in unused if getattr(args, n) is not None]
    return f"{', '.join(given)} do(es) not apply to `posekit train {args.model}`" if given else None


def _train(args: argparse.Namespace) -> int:
    from posekit import config, engine, recipes

    refused = _refused(args)
    if refused:
        print(f"posekit train: error: {refused}", file=sys.stderr)
        return 2
    if args.model == "sphp":
        args.backbone, args.input = args.backbone or "dhp19", args.input or "fs"
        args.frame_step = args.frame_step or 1
        return _train_sphp(args)
    args.n_train, args.n_val = args.n_train or 4000, args.n_val or 500
    out = args.out or config.data_path("runs", f"{args.model}.pt", create=False)
    error = _check_train(args, out)
    if error:
        print(f"posekit train: error: {error}", file=sys.stderr)
        return 2
    config.setup(seed=args.seed, verbose=False)
    try:
        with _warnings_as_lines("posekit train"):
            _, history, path = recipes.train_recipe(
                args.model, out=out, epochs=args.epochs, n_train=args.n_train,
                n_val=args.n_val, input_size=args.size, batch_size=args.batch_size,
                width=args.width, lr=args.lr, seed=args.seed, resume=args.resume,
            )  # fmt: skip
    except engine.CheckpointError as err:  # --resume of a broken or foreign --out
        print(f"posekit train: error: {err}", file=sys.stderr)
        return 2
    last = history.evals[-1] if history.evals else {}
    scores = ", ".join(f"{k} {v:.1f}" for k, v in last.items() if k.startswith("PCK"))
    scores = scores or ", ".join(f"OKS {k} {v:.3f}" for k, v in last.items()
                                 if k in ("AP", "AP50", "AR"))  # fmt: skip
    print(f"checkpoint: {path}  ({scores or 'no evaluation'})")
    return 0


def format_coco(ap: dict) -> str:
    """The OKS AP / AR lines ``posekit eval`` prints (values in [0, 1]; -1 = no person in
    that area range, pycocotools' convention)."""
    names = (
        ("AP", "OKS .50:.95"),
        ("AP50", "OKS .50"),
        ("AP75", "OKS .75"),
        ("APm", "medium people"),
        ("APl", "large people"),
        ("AR", "OKS .50:.95"),
    )
    return "\n".join(f"  {k:<4} {ap[k]:6.3f}   ({what})" for k, what in names)  # fmt: skip


def _eval(args: argparse.Namespace) -> int:
    from posekit import engine, recipes

    try:
        result = recipes.evaluate_checkpoint(args.checkpoint, n_val=args.n_val, coco=args.coco)
    except (engine.CheckpointError, FileNotFoundError) as err:  # also an SPHP data folder gone
        print(f"posekit eval: error: {err}", file=sys.stderr)
        return 2
    if result["kind"] == "sphp":
        m = result["mpjpe"]
        print(f"sphp on {result['n']} test frames ({result['seconds']:.1f} s): 2-D MPJPE, px of "
              "the 384x288 image")  # fmt: skip
        print("  " + "  ".join(f"{k} {m[k]:.2f}" for k in ("C1", "C2", "C3", "C4", "mean")
                              if k in m))  # fmt: skip
        return 0
    if result["kind"] == "bottom_up":
        print(
            f"{result['recipe']} on {result['n']} SynthPose val scenes "
            f"({result['seconds']:.1f} s): COCO keypoint AP / AR (pycocotools, 17 joints)"
        )
        print(format_coco(result["coco"]))
        return 0
    print(f"{result['recipe']} on {result['n']} SynthPose val crops ({result['seconds']:.1f} s)")
    print(result["pckh"].table(result["recipe"]))
    print(f"PCK@0.2 (torso): {result['pck@0.2']:.2f} %")
    if "coco" in result:
        print(
            f"COCO keypoint AP / AR on {result['n']} SynthPose val scenes, people cropped from "
            "their true boxes, 12 joints shared with MPII-16 (pycocotools):"
        )
        print(format_coco(result["coco"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posekit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    course = sub.add_parser(
        "course", help="build, check or run the lessons; grade submissions; release the course"
    )
    course.add_argument("action", choices=["build", "check", "run", "grade", "release"])
    course.add_argument(
        "lessons",
        nargs="*",
        metavar="LESSON|SUBMISSION|DIR",
        help="build/run: two-digit lesson numbers (default: all); grade: the submissions "
        "STUDENT/NN_name.ipynb (one folder per student); release: the folder to write",
    )
    course.add_argument("--folder", choices=["solutions", "notebooks"], default="solutions")
    course.add_argument("--full", action="store_true", help="full mode (default: quick)")
    course.add_argument(
        "--timeout", type=int, help="seconds per cell (default: run 600, grade 120)"
    )
    course.add_argument("--out", default="grades", help="grade: reports folder (grades/)")
    course.add_argument("--student", help="grade: student id of a single submission")
    course.add_argument("--force", action="store_true", help="release: replace a non-empty DIR")
    course.add_argument(
        "--check-mode",
        choices=["student", "strict", "expect-todo"],
        help="check mode for `run` (default: strict on solutions, expect-todo on notebooks)",
    )
    course.set_defaults(func=_course)

    doctor = sub.add_parser("doctor", help="versions, threads, modes; do spconv/mediapipe work?")
    doctor.add_argument("--strict", action="store_true", help="exit 1 if anything fails")
    doctor.set_defaults(func=_doctor)

    lab = sub.add_parser(
        "lab",
        help="start JupyterLab on the course (any further flags go to jupyter lab)",
    )
    lab.add_argument("--folder", default="notebooks", help="folder to serve (notebooks)")
    lab.add_argument("--port", type=_positive_int, help="port (default: a free one)")
    lab.set_defaults(func=_lab)

    synth = sub.add_parser(
        "synth", help="export SynthPose in COCO / MPII / SPHP layout (sphp: a two-camera dataset)"
    )
    add_synth_arguments(synth)
    synth.set_defaults(func=_synth)

    bench = sub.add_parser(
        "bench",
        help="benchmarks: SynthPose, params, latency, postprocess, SPHP sensors, sparse conv",
    )
    bench.add_argument(
        "what",
        choices=["synth", "params", "latency", "postprocess", "sensors", "sparse"],
        help="what to measure (sparse: dense vs sparse SPHP backbones; its options: "
        "posekit bench sparse --help)",
    )
    bench.add_argument(
        "model", nargs="?", help=f"latency: {' | '.join(LATENCY_MODELS)} (lightweight_openpose)"
    )
    bench.add_argument("--n", type=_positive_int, default=300, help="crops per repeat (300)")
    bench.add_argument("--repeats", type=_positive_int, default=5, help="timed repeats (5)")
    bench.add_argument(
        "--size",
        type=_size_arg,
        metavar="WxH",
        help="W×H: latency: the model's input (lightweight_openpose 456x256, efficientpose_rt "
        "224x224); postprocess: the image (456x256)",
    )
    bench.add_argument("--threads", type=_positive_int, help="latency: torch threads")
    bench.add_argument(
        "--runs", type=_positive_int, default=20, help="latency, postprocess: timed runs (20)"
    )
    bench.add_argument("--people", type=_positive_int, default=20, help="postprocess: people (20)")
    bench.add_argument("--noise", type=float, default=0.0, help="postprocess: map noise σ (0)")
    bench.add_argument(
        "--layout",
        choices=["separated", "scene"],
        default="separated",
        help="postprocess: well-posed placement or a SynthPose scene as rendered",
    )
    bench.set_defaults(func=_bench)

    train = sub.add_parser(
        "train",
        help="train a lesson model on SynthPose (MPII-16 crops, EfficientPose RT's architecture "
        "at 128x128 for efficientpose; scenes for OpenPose)",
    )
    train.add_argument("model", choices=TRAIN_RECIPES)
    train.add_argument("--epochs", type=_positive_int, default=10)
    train.add_argument("--n-train", type=_positive_int, help="training crops (or scenes); 4000")
    train.add_argument("--n-val", type=_positive_int, help="validation crops (or scenes); 500")
    train.add_argument(
        "--size", type=_size_or_side, metavar="SIDE|WxH",
        help="input: a square side for top-down models (128), W×H for lightweight_openpose "
        "(256x160, multiples of 8)",
    )  # fmt: skip
    train.add_argument(
        "--batch-size", type=_positive_int,
        help="default: the recipe's (32; lightweight_openpose: 8)",
    )  # fmt: skip
    train.add_argument(
        "--width", type=_positive_float,
        help="network width (DeepPose width_mult, ...; lightweight_openpose: channels, 32; "
        "the published network is 128; efficientpose: none)",
    )  # fmt: skip
    train.add_argument("--lr", type=_positive_float, help="learning rate (default: the recipe's)")
    train.add_argument("--seed", type=_nonneg_int, default=0)
    train.add_argument("--out", help="checkpoint file (default: $POSEKIT_DATA/runs/NAME.pt)")
    train.add_argument("--resume", action="store_true", help="continue --out if it exists")
    train.add_argument("--backbone", choices=SPHP_BACKBONES, help="sphp: the network (dhp19)")
    train.add_argument(
        "--input", choices=SPHP_INPUTS,
        help="sphp: gr, ed, mv, fs (early fusion) or late (fusion of 3 branches); default fs",
    )  # fmt: skip
    train.add_argument(
        "--data", help="sphp: an SPHP-format folder (the release or `posekit synth sphp`)"
    )
    train.add_argument("--frame-step", type=_positive_int, help="sphp: every n-th frame (1)")
    train.add_argument(
        "--conv", choices=["dense", "sparse"],
        help="sphp: dense convolutions (default) or sparse ones on the nonzero input pixels",
    )  # fmt: skip
    train.add_argument(
        "--dense-head", action="store_const", const=True,
        help="sphp --conv sparse: densify before a dense context head (predicts every pixel)",
    )  # fmt: skip
    train.add_argument(
        "--backend", choices=["posekit", "spconv"],
        help="sphp --conv sparse: posekit's own sparse layers (default) or spconv",
    )  # fmt: skip
    train.set_defaults(func=_train)

    evaluate = sub.add_parser(
        "eval", help="PCKh / PCK (top-down), COCO OKS AP (bottom-up) or SPHP MPJPE of a checkpoint"
    )
    evaluate.add_argument("checkpoint")
    evaluate.add_argument(
        "--n-val", type=_positive_int, help="validation crops or scenes (default: as trained)"
    )
    evaluate.add_argument(
        "--coco", action="store_true",
        help="COCO OKS AP / AP50 / AP75 / AR (pycocotools); always for bottom-up checkpoints, "
        "for top-down ones on SynthPose scenes with true boxes (the 12 shared joints)",
    )  # fmt: skip
    evaluate.set_defaults(func=_eval)

    sub.add_parser(  # main() hands its arguments to posekit.privacy.main
        "privacy",
        help="identity leak of RGB / grey / edges / motion vectors / events on SynthPose people; "
        "BlazeFace on real photos and their sensor images (options: posekit privacy --help)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["bench", "sparse"]:  # its own options: posekit bench sparse --help
        from posekit.lab.sparse_bench import main as bench_sparse

        return bench_sparse(argv[2:])
    if argv[:1] == ["privacy"]:  # its own options: posekit privacy --help
        from posekit import privacy

        return privacy.main(argv[1:])
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse cannot take positionals after an option that follows an empty nargs="*"
    # positional: `posekit course run --full 01 02` leaves "01 02" over; they are lessons.
    # grade/release take paths, which may follow options too.
    paths = args.command == "course" and args.action in ("grade", "release")
    if (
        extra
        and args.command == "course"
        and all(e.isdigit() or (paths and not e.startswith("-")) for e in extra)
    ):
        args.lessons = [*args.lessons, *extra]
    elif args.command == "lab":
        return args.func(args, extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""SPHP (``lyhsieh/SPHP``) sequence folders (``docs/datasets.md`` § SPHP).

Layout: ``{Master,Slave}/sXX/NN/{EDG,MVH,MVV,GRA,pose_change}/``, one file per frame in every
folder (300 in the release), sorted identically: ``EDG``/``MVH``/``MVV``/``GRA`` hold 640x480
uint8 PNGs (edges; horizontal / vertical motion with 128 = no motion; greyscale), and
``pose_change`` holds one ``(13, 2)`` float ``.npy`` per frame: ``(x, y)`` in 640x480 pixels,
joints in DHP19 order (``posekit.skeletons.SPHP13``). Labels are kept as stored (no pixel
shift); posekit keypoints get v = 2, and v = 0 (x = y = 0) for a ``(NaN, NaN)`` label (what
the writer stores for v = 0). Any other non-finite label -- inf, a single NaN, a value beyond
float32 -- raises ``FormatError`` naming the ``.npy`` file and the joint (``label[3]``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posekit.datasets.formats.errors import (
    FormatError,
    FormatFileNotFoundError,
    check_dir,
    check_file,
    labelled_rows,
)

NUM_JOINTS = 13
#: Image modality folders.
SPHP_MODALITIES = ("EDG", "MVH", "MVV", "GRA")
#: Channel order of the SPHP loader's input stacks.
SPHP_STACKS = {"FUS": ("EDG", "MVV", "MVH"), "MV": ("MVV", "MVH"), "EDG": ("EDG",), "GRA": ("GRA",)}
SPHP_LABEL_DIR = "pose_change"
#: Files per folder in the release; ``strict=True`` enforces it (the official loader asserts it).
SPHP_FRAMES = 300
SPHP_WIDTH, SPHP_HEIGHT = 640, 480
SPHP_CAMERAS = ("Master", "Slave")


def _subjects(*ranges: tuple[int, int]) -> tuple[str, ...]:
    return tuple(f"s{i:02d}" for a, b in ranges for i in range(a, b + 1))


#: Subject splits of ``config.yaml`` (both cameras are used in every split).
SPHP_SPLITS: dict[str, tuple[str, ...]] = {
    "train": _subjects((1, 5), (11, 15), (21, 25), (31, 35)),
    "val": _subjects((6, 8), (16, 18), (26, 28), (36, 38)),
    "test": _subjects((9, 10), (19, 20), (29, 30), (39, 40)),
}
#: Action folder id -> (name, class): C1 upper body, C2 lower body, C3 slow whole body,
#: C4 fast whole body.
SPHP_ACTIONS: dict[int, tuple[str, str]] = {
    1: ("arm abduction", "C1"),
    2: ("arm bicep curl", "C1"),
    3: ("wave hello", "C1"),
    4: ("punch up forward", "C1"),
    5: ("leg knee lift", "C2"),
    6: ("leg abduction", "C2"),
    7: ("leg pulling", "C2"),
    8: ("elbow-to-knee", "C4"),
    9: ("walk in place", "C3"),
    10: ("squat", "C3"),
    11: ("jump in place", "C4"),
    12: ("jog in place", "C4"),
    13: ("jumping jack", "C4"),
    14: ("standing side bend", "C3"),
    15: ("hop on one foot", "C4"),
    16: ("roll wrists & ankles", "C3"),
}


def _subject_id(subject: str | int) -> str:
    m = re.fullmatch(r"[sS]?0*(\d+)", str(subject).strip())
    if not m or not 1 <= int(m.group(1)) <= 40:
        raise ValueError(f"SPHP subject must be s01..s40 (or 1..40), got {subject!r}")
    return f"s{int(m.group(1)):02d}"


def sphp_split(subject: str | int) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for a subject (``"s07"``, ``"07"`` or ``7``)."""
    sid = _subject_id(subject)
    for split, subjects in SPHP_SPLITS.items():
        if sid in subjects:
            return split
    raise AssertionError(sid)  # the three splits cover s01..s40


def sphp_sequence_dir(
    root: str | os.PathLike, camera: str, subject: str | int, action: int | str
) -> Path:
    """``root/{camera}/sXX/NN`` (camera ``Master``/``Slave``, action 1..16)."""
    if camera not in SPHP_CAMERAS:
        raise ValueError(f"camera must be one of {SPHP_CAMERAS}, got {camera!r}")
    a = int(action)
    if a not in SPHP_ACTIONS:
        raise ValueError(f"SPHP action must be 1..16, got {action!r}")
    return Path(root) / camera / _subject_id(subject) / f"{a:02d}"


@dataclass
class SPHPSequence:
    """One SPHP sequence folder.

    Attributes:
        folder: the sequence folder (``.../Master/s01/01``).
        frame_names: file stems shared by all folders, sorted (``["000", ..., "299"]``).
        images: modality (``EDG``, ``MVH``, ``MVV``, ``GRA``; those present) -> image paths,
            one per frame.
        label_files: the ``pose_change/*.npy`` paths.
        keypoints: ``(T, 13, 3)`` float32 ``(x, y, v)`` in 640x480 pixels as stored, v = 2
            (v = 0 and x = y = 0 where a label is ``(NaN, NaN)``).
    """

    folder: Path
    frame_names: list[str]
    images: dict[str, list[Path]]
    label_files: list[Path]
    keypoints: np.ndarray

    def __len__(self) -> int:
        return len(self.frame_names)

    def read_image(self, modality: str, index: int) -> np.ndarray:
        """Frame ``index`` of ``modality`` as an ``(H, W)`` uint8 array."""
        if modality not in self.images:
            raise KeyError(f"{self.folder}: no {modality} folder; present: {sorted(self.images)}")
        return read_sphp_image(self.images[modality][index])


def read_sphp_image(path: str | os.PathLike) -> np.ndarray:
    """One SPHP PNG as ``(H, W)`` uint8 (``FormatError`` if unreadable)."""
    import cv2

    p = check_file(path)
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FormatError(p, "is not a readable image")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.dtype != np.uint8:
        raise FormatError(p, f"has dtype {img.dtype}; expected uint8")
    return img


def _listing(folder: Path, suffix: str) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == suffix)


def read_sphp_sequence(
    folder: str | os.PathLike,
    *,
    strict: bool = False,
    modalities: Sequence[str] | None = None,
) -> SPHPSequence:
    """Read an SPHP sequence folder ``.../{Master,Slave}/sXX/NN``.

    Lists the PNGs of every modality folder present (or of ``modalities``, which must all be
    present) and the ``pose_change/*.npy`` labels (required), each sorted by name, and loads
    the labels. All folders must hold the same number of files with the same stems
    (``FormatError`` otherwise, naming the folders); ``strict=True`` also requires
    ``SPHP_FRAMES`` (300) files per folder, as the official loader asserts. Images are not
    loaded (``SPHPSequence.read_image``).
    """
    root = check_dir(folder, "SPHP sequence folder")
    if modalities is None:
        mods = [m for m in SPHP_MODALITIES if (root / m).is_dir()]
    else:
        mods = list(modalities)
        for m in mods:
            if m not in SPHP_MODALITIES:
                raise ValueError(f"unknown SPHP modality {m!r}; known: {SPHP_MODALITIES}")
            if not (root / m).is_dir():
                raise FormatFileNotFoundError(root / m, "no such modality folder", m)
    label_dir = root / SPHP_LABEL_DIR
    if not label_dir.is_dir():
        raise FormatFileNotFoundError(label_dir, "no such label folder", SPHP_LABEL_DIR)

    listings = {m: _listing(root / m, ".png") for m in mods}
    labels = _listing(label_dir, ".npy")
    counts = {m: len(v) for m, v in listings.items()}
    counts[SPHP_LABEL_DIR] = len(labels)
    if len(set(counts.values())) > 1:
        raise FormatError(
            root, f"folders hold different numbers of frames: {counts}", "/".join(counts)
        )
    if strict and len(labels) != SPHP_FRAMES:
        raise FormatError(
            root,
            f"has {len(labels)} frames per folder; the SPHP release has {SPHP_FRAMES} "
            "(strict=True)",
            SPHP_LABEL_DIR,
        )
    stems = [f.stem for f in labels]
    for m, files in listings.items():
        for t, (f, s) in enumerate(zip(files, stems, strict=True)):
            if f.stem != s:
                raise FormatError(
                    root,
                    f"frame {t} is {f.name!r} but {SPHP_LABEL_DIR}/ has {s + '.npy'!r}; "
                    "folders must hold the same file names",
                    m,
                )
    kps = np.zeros((len(labels), NUM_JOINTS, 3), np.float32)
    for t, f in enumerate(labels):
        try:
            lab = np.load(f, allow_pickle=False)
        except Exception as e:
            raise FormatError(f, f"is not a readable .npy file ({type(e).__name__}: {e})") from None
        if lab.shape != (NUM_JOINTS, 2) or lab.dtype.kind not in "biuf":
            raise FormatError(
                f, f"has shape {lab.shape} and dtype {lab.dtype}; expected (13, 2) (x, y) numbers",
                "label",
            )  # fmt: skip
        ok, bad = labelled_rows(lab)
        if bad is not None:
            raise FormatError(
                f, f"is {lab[bad].tolist()}; expected a finite (x, y), or (nan, nan) for a joint "
                "not labelled", f"label[{bad[0]}]",
            )  # fmt: skip
        kps[t, :, :2] = np.where(ok[:, None], lab, 0.0)
        kps[t, :, 2] = np.where(ok, 2.0, 0.0)
    return SPHPSequence(
        folder=root,
        frame_names=stems,
        images=listings,
        label_files=labels,
        keypoints=kps,
    )


def write_sphp_sequence(
    folder: str | os.PathLike,
    frames: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    strict: bool = False,
    overwrite: bool = False,
) -> SPHPSequence:
    """Write an SPHP sequence folder: ``{modality}/NNN.png`` per frame and
    ``pose_change/NNN.npy`` ((13, 2) float64 labels).

    Args:
        folder: the sequence folder to create (e.g. ``sphp_sequence_dir(root, "Master", 1, 1)``).
        frames: modality (``EDG``/``MVH``/``MVV``/``GRA``) -> ``(T, H, W)`` uint8 frames.
        labels: ``(T, 13, 2)`` (x, y) pixels, or ``(T, 13, 3)`` posekit keypoints (joints with
            v = 0 are written as NaN).
        strict: require the release's T = 300 and 640x480 frames.
        overwrite: replace the ``.png``/``.npy`` files already in those folders (otherwise a
            non-empty folder raises ``FileExistsError``).
    Names are zero-padded to at least 3 digits (``000``..``299``) so that they sort. Returns the
    sequence as ``read_sphp_sequence`` reads it.
    """
    import cv2

    lab = np.asarray(labels, dtype=np.float64)
    if lab.ndim != 3 or lab.shape[1] != NUM_JOINTS or lab.shape[2] not in (2, 3):
        raise ValueError(f"write_sphp_sequence: labels must be (T, 13, 2|3), got {lab.shape}")
    if lab.shape[2] == 3:
        lab = np.where(lab[..., 2:] > 0, lab[..., :2], np.nan)
    t_len = lab.shape[0]
    arrays = {}
    for m, arr in frames.items():
        if m not in SPHP_MODALITIES:
            raise ValueError(
                f"write_sphp_sequence: unknown modality {m!r}; known {SPHP_MODALITIES}"
            )
        a = np.asarray(arr)
        if a.dtype != np.uint8 or a.ndim != 3:
            raise ValueError(
                f"write_sphp_sequence: frames[{m!r}] must be (T, H, W) uint8, got {a.dtype} "
                f"{a.shape}"
            )
        if a.shape[0] != t_len:
            raise ValueError(
                f"write_sphp_sequence: frames[{m!r}] has {a.shape[0]} frames, labels {t_len}"
            )
        if strict and a.shape[1:] != (SPHP_HEIGHT, SPHP_WIDTH):
            raise ValueError(f"write_sphp_sequence: frames[{m!r}] are {a.shape[1:]}, not 480x640")
        arrays[m] = a
    if strict and t_len != SPHP_FRAMES:
        raise ValueError(f"write_sphp_sequence: {t_len} frames; strict=True needs {SPHP_FRAMES}")

    root = Path(folder)
    digits = max(3, len(str(max(t_len - 1, 0))))
    names = [f"{t:0{digits}d}" for t in range(t_len)]
    for sub in [*arrays, SPHP_LABEL_DIR]:
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        old = [f for f in d.iterdir() if f.is_file() and f.suffix.lower() in (".png", ".npy")]
        if old and not overwrite:
            raise FileExistsError(f"{d} already holds {len(old)} files (use overwrite=True)")
        for f in old:
            f.unlink()
    for m, a in arrays.items():
        for name, img in zip(names, a, strict=True):
            target = root / m / f"{name}.png"
            if not cv2.imwrite(str(target), np.ascontiguousarray(img)):
                raise OSError(f"cv2.imwrite failed for {target}")
    for name, row in zip(names, lab, strict=True):
        np.save(root / SPHP_LABEL_DIR / f"{name}.npy", row)
    return read_sphp_sequence(root, strict=strict, modalities=list(arrays))

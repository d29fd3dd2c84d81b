"""Leeds Sports Pose (LSP) and LSP-extended (LSPET) ``joints.mat`` (``docs/datasets.md``
§ LSP and LSP-extended).

=========  ==============================  =======================================
variant    array ``joints``                third value
=========  ==============================  =======================================
``lsp``    3 x 14 x N (x; y; flag), N=2000  **1 = occluded**, 0 = visible (inverted)
``lspet``  14 x 3 x N, N = 10000            **1 = visible**, 0 = not visible
=========  ==============================  =======================================

Coordinates are 1-based MATLAB pixels; posekit keypoints are 0-based (``- 1`` on reading,
``+ 1`` on writing). Joint order = ``posekit.skeletons.LSP14``.

Flag mapping to posekit ``v``: visible -> 2, not visible -> 1. A joint stored at MATLAB
``(0, 0)`` -- a pixel that does not exist in 1-based coordinates -- is read as not labelled
(v = 0), and the writers store v = 0 joints there with the "not visible" flag; so
``write -> read`` round-trips every v in {0, 1, 2}.

A NaN/inf (or beyond-float32) coordinate or a flag other than 0/1 raises ``FormatError``
naming the file and the element, 1-based as in MATLAB (``joints(1,3,2)``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posekit.datasets.formats.errors import (
    FormatError,
    check_file,
    first_nonfinite32,
    load_mat,
    mat_array,
)

NUM_JOINTS = 14
VARIANTS = ("lsp", "lspet")
#: Image count of the released datasets.
LSP_IMAGE_COUNT = {"lsp": 2000, "lspet": 10000}
#: LSP images 1..1000 (0-based 0..999) are train, 1001..2000 test; LSPET is all train.
LSP_NUM_TRAIN = 1000


def detect_lsp_variant(shape: tuple[int, ...]) -> str:
    """``"lsp"`` for a 3 x 14 x N ``joints`` array, ``"lspet"`` for 14 x 3 x N (also the 2-D
    3 x 14 / 14 x 3 that MATLAB leaves for N = 1); ``ValueError`` for any other shape."""
    shape = tuple(int(s) for s in shape)
    if len(shape) in (2, 3):
        if shape[:2] == (3, NUM_JOINTS):
            return "lsp"
        if shape[:2] == (NUM_JOINTS, 3):
            return "lspet"
    raise ValueError(f"shape {shape} is neither 3x14xN (LSP) nor 14x3xN (LSPET)")


def read_lsp_joints(path: str | os.PathLike, variant: str = "auto") -> np.ndarray:
    """Read ``joints.mat`` of LSP or LSPET as ``(N, 14, 3)`` float32 posekit keypoints.

    Args:
        path: the ``.mat`` file; its variable ``joints`` is read.
        variant: ``"lsp"`` (3 x 14 x N, flag 1 = occluded), ``"lspet"`` (14 x 3 x N, flag 1 =
            visible) or ``"auto"`` (by the array's shape; the two layouts cannot be confused
            since 3 != 14). A shape that fits neither -- or not the variant asked for --
            raises ``FormatError`` naming the file and the field.
    """
    if variant not in (*VARIANTS, "auto"):
        raise ValueError(f"variant must be 'lsp', 'lspet' or 'auto', got {variant!r}")
    p = check_file(path)
    arr = mat_array(p, load_mat(p), "joints")
    try:
        found = detect_lsp_variant(arr.shape)
    except ValueError:
        found = None
    if found is None or (variant != "auto" and found != variant):
        want = {
            "auto": "3x14xN (LSP) or 14x3xN (LSPET)",
            "lsp": "3x14xN for variant 'lsp'",
            "lspet": "14x3xN for variant 'lspet'",
        }[variant]
        raise FormatError(p, f"has shape {tuple(arr.shape)}; expected {want}", "joints")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    a = arr.astype(np.float64)
    _check_values(p, a, found)
    kp = a.transpose(2, 1, 0) if found == "lsp" else a.transpose(2, 0, 1)  # (N, 14, 3)
    flags = kp[..., 2]
    visible = flags == (0 if found == "lsp" else 1)
    unlabelled = (kp[..., 0] == 0) & (kp[..., 1] == 0)
    out = np.zeros(kp.shape, np.float32)
    out[..., :2] = np.where(unlabelled[..., None], 0.0, kp[..., :2] - 1.0)
    out[..., 2] = np.where(unlabelled, 0, np.where(visible, 2, 1))
    return out


def _check_values(p: Path, joints: np.ndarray, variant: str) -> None:
    """Finite coordinates and 0/1 flags in the stored layout; errors name the element."""
    flag_axis = 0 if variant == "lsp" else 1
    coords = np.delete(joints, 2, axis=flag_axis)
    bad = first_nonfinite32(coords)  # x/y keep their index: the flag row/column is the last
    if bad is not None:
        _raise_at(p, joints, bad, "expected a finite coordinate")
    flags = np.take(joints, 2, axis=flag_axis)
    bad_flags = np.argwhere(~np.isin(flags, (0, 1)))
    if bad_flags.size:
        index = list(bad_flags[0])
        index.insert(flag_axis, 2)
        _raise_at(p, joints, tuple(index), "visibility flags must be 0 or 1")


def _raise_at(p: Path, joints: np.ndarray, index: tuple[int, ...], expected: str) -> None:
    where = ",".join(str(int(i) + 1) for i in index)
    raise FormatError(p, f"is {joints[index].item()!r}; {expected}", f"joints({where})")


def write_lsp_joints(path: str | os.PathLike, keypoints: np.ndarray, variant: str = "lsp") -> Path:
    """Write ``(N, 14, 3)`` posekit keypoints as ``joints.mat`` in the layout of ``variant``
    (``"lsp"``: 3 x 14 x N, flag 1 = occluded; ``"lspet"``: 14 x 3 x N, flag 1 = visible), as
    MATLAB doubles, 1-based. v = 0 joints are written at ``(0, 0)``, flagged not visible."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be 'lsp' or 'lspet', got {variant!r}")
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"write_lsp_joints: keypoints must be (N, 14, 3), got {kp.shape}")
    v = kp[..., 2]
    labelled = v > 0
    out = np.zeros(kp.shape, np.float64)
    out[..., :2] = np.where(labelled[..., None], kp[..., :2].astype(np.float64) + 1.0, 0.0)
    if variant == "lsp":
        out[..., 2] = (v < 2).astype(np.float64)  # 1 = occluded (or not labelled)
        joints = out.transpose(2, 1, 0)
    else:
        out[..., 2] = (v >= 2).astype(np.float64)  # 1 = visible
        joints = out.transpose(1, 2, 0)
    import scipy.io

    p = Path(path)
    scipy.io.savemat(p, {"joints": np.ascontiguousarray(joints)})
    return p


def lsp_image_name(index: int, variant: str = "lsp") -> str:
    """File name of the 0-based ``index``-th image: ``im0001.jpg`` (LSP), ``im00001.jpg``
    (LSPET)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be 'lsp' or 'lspet', got {variant!r}")
    digits = 4 if variant == "lsp" else 5
    return f"im{index + 1:0{digits}d}.jpg"


def lsp_split(index: int, variant: str = "lsp") -> str:
    """``"train"`` or ``"test"`` for the 0-based image ``index`` (LSP: 0..999 train, 1000..
    test; LSPET: all train)."""
    if variant == "lspet":
        return "train"
    if variant != "lsp":
        raise ValueError(f"variant must be 'lsp' or 'lspet', got {variant!r}")
    return "train" if index < LSP_NUM_TRAIN else "test"

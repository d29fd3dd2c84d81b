"""Privacy-enhancing sensor images computed from RGB frames, in SPHP's encodings.

SPHP (Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation for Human Pose
Estimation", BMVC 2023) records, instead of RGB, a greyscale image (``GRA``), an edge image
(``EDG``) and horizontal / vertical motion vectors (``MVH``, ``MVV``; uint8 with 128 = no
motion, which its loader normalises as ``(v - 128) / 128``). Their sensor is proprietary
hardware: edges from "an efficient hardware implementation of edge detection, similar to
Canny", motion from pixel-level sensing of illumination changes. posekit **synthesises**
comparable inputs from rendered or recorded RGB frames; they approximate the sensor, they are
not its pipeline:

* ``grayscale``, ``edges``: BT.601 luma; Canny on a 5×5 binomial pre-blur.
* ``motion_vectors``: dense optical flow (Farnebäck) averaged per macroblock (``"flow"``,
  the default) or a codec's exhaustive block matching (``"block"``, ``block_motion``),
  encoded by ``encode_motion``.
* ``events``: what a dynamic vision sensor (DVS) would report between frames.
* ``active_fraction``, ``sparsity_by_class``: how sparse each input is (what sparse
  convolutions gain), per SPHP action class C1..C4 on SynthPose exercise clips.

Conventions: images are ``H×W`` (rows, columns); a motion vector ``(dx, dy)`` is the
displacement of image content from the previous frame to the current one, x right and y
down, in pixels: ``current[y, x] ≈ previous[y - dy, x - dx]`` (the sign of optical flow; a
video codec stores the opposite vector, from the current block to its reference). Lesson 06
builds on these.
"""

from __future__ import annotations

import cv2
import numpy as np

from posekit.validate import check_int, check_positive_ints

MV_ZERO = 128
MV_GAIN = 4.0  # default code levels per pixel of motion: ±32 px fit the uint8 range
INPUTS = ("EDG", "MV_flow", "MV_block", "EVT")  # the inputs sparsity_by_class measures


def _check_rgb(image: np.ndarray, arg: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{arg}: expected H×W×3 uint8 RGB, got {image.shape} {image.dtype}")
    return image


def _check_gray(image: np.ndarray, arg: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8 or image.size == 0:
        raise ValueError(f"{arg}: expected a non-empty H×W uint8 image, got "
                         f"{image.shape} {image.dtype}")  # fmt: skip
    return image


def _check_pair(previous, current, rgb: bool) -> tuple[np.ndarray, np.ndarray]:
    check = _check_rgb if rgb else _check_gray
    a, b = check(previous, "previous"), check(current, "current")
    if a.shape != b.shape:
        raise ValueError(f"current: shape {b.shape} differs from previous {a.shape}")
    return a, b


def grayscale(image: np.ndarray) -> np.ndarray:
    """``H×W×3 uint8 RGB`` → ``H×W uint8`` luma (ITU-R BT.601, as OpenCV)."""
    return cv2.cvtColor(_check_rgb(image), cv2.COLOR_RGB2GRAY)


# ------------------------------------------------------------------------------------ edges
def edges(image: np.ndarray, low: int = 50, high: int = 150, blur: int = 5) -> np.ndarray:
    """Canny edge image ``H×W uint8`` in {0, 255} (SPHP's ``EDG``) of an ``H×W×3`` RGB frame.

    A hardware-like Canny (Canny 1986, as OpenCV): Gaussian pre-blur, 3×3 Sobel gradients,
    L1 magnitude ``|gx| + |gy|`` (no square root, as fixed-point hardware computes it),
    non-maximum suppression, hysteresis between ``low`` and ``high``.

    Defaults and why: ``blur=5`` is OpenCV's fixed 5×5 kernel for that size, the binomial
    ``[1, 4, 6, 4, 1] / 16`` per axis (σ ≈ 1.1; shifts and adds in hardware). It removes the
    one-pixel texture and noise edges (fabric, brick grain, render noise) and keeps object
    outlines; 3 keeps much of that texture, 7 starts merging limbs. ``low=50, high=150`` are in
    Sobel-L1 units of 0..255 grey levels (a one-pixel step of ``s`` grey levels gives about
    ``4 s``): strong edges start where a step of ~40 levels is, and weaker pixels joined to them
    survive down to ~12 levels; the high/low ratio 3 is within Canny's recommended 2..3.

    Args:
        image: ``H×W×3`` uint8 RGB. low, high: hysteresis thresholds. blur: odd side of the
            Gaussian pre-blur; 0 or 1 for none.
    """
    gray = grayscale(image)
    if not isinstance(blur, int | np.integer) or blur < 0 or (blur > 1 and blur % 2 == 0):
        raise ValueError(f"blur: expected 0, 1 or an odd kernel side, got {blur!r}")
    if not 0 <= low <= high:
        raise ValueError(f"low: expected 0 <= low <= high, got low={low}, high={high}")
    if blur > 1:
        gray = cv2.GaussianBlur(gray, (blur, blur), 0)
    return cv2.Canny(gray, low, high)


# ---------------------------------------------------------------------------- motion vectors
def encode_motion(displacement: np.ndarray, gain: float = MV_GAIN) -> np.ndarray:
    """Displacements in pixels → SPHP's motion code, ``uint8(clip(rint(128 + gain * d), 0,
    255))``: 128 = no motion, ``gain`` code levels per pixel (1 / gain pixels per level).

    The code spans ±128 around 128, clipped to uint8: ``d`` from ``-128 / gain`` to ``127 /
    gain`` pixels (−32 .. +31.75 at the default 4); larger motion saturates. Back to pixels:
    ``decode_motion(code) * 128 / gain``. Any shape in, the same shape out.
    """
    if not gain > 0:
        raise ValueError(f"gain: expected > 0 code levels per pixel, got {gain!r}")
    d = np.asarray(displacement, np.float64)
    return np.clip(np.rint(MV_ZERO + gain * d), 0, 255).astype(np.uint8)


def decode_motion(mv: np.ndarray) -> np.ndarray:
    """SPHP's loader normalisation of an ``MVH``/``MVV`` image: ``(mv - 128) / 128`` float32."""
    return (np.asarray(mv, np.float32) - MV_ZERO) / MV_ZERO


def _spread(values: np.ndarray, block: int, shape: tuple[int, int]) -> np.ndarray:
    """``(hb, wb, ...)`` per-block values → ``(H, W, ...)``, each block's value on its pixels."""
    return np.repeat(np.repeat(values, block, axis=0), block, axis=1)[: shape[0], : shape[1]]


def _flow_blocks(a: np.ndarray, b: np.ndarray, block: int) -> np.ndarray:
    """Farnebäck flow ``a → b`` averaged over ``block × block`` macroblocks: ``(hb, wb, 2)``."""
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    h, w = a.shape
    hb, wb = -(-h // block), -(-w // block)
    padded = np.zeros((hb * block, wb * block, 2), np.float32)
    padded[:h, :w] = flow
    counts = np.zeros((hb * block, wb * block), np.float32)
    counts[:h, :w] = 1
    sums = padded.reshape(hb, block, wb, block, 2).sum(axis=(1, 3))
    return sums / counts.reshape(hb, block, wb, block).sum(axis=(1, 3))[..., None]


def _offsets(search: int) -> list[tuple[int, int]]:
    """Candidate ``(dx, dy)`` in the order ties are broken: shortest first, then dy, dx."""
    r = range(-search, search + 1)
    return sorted(((dx, dy) for dy in r for dx in r), key=lambda d: (d[0] ** 2 + d[1] ** 2,
                                                                     d[1], d[0]))  # fmt: skip


def block_motion(
    previous: np.ndarray, current: np.ndarray, block: int = 16, search: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """A video codec's motion search: per macroblock, the integer ``(dx, dy)`` in ±``search``
    px minimising the sum of absolute differences (SAD), by exhaustive (full) search.

    Block ``(i, j)`` covers ``current[i*block:(i+1)*block, j*block:(j+1)*block]``; the
    candidate ``(dx, dy)`` compares it with the ``previous`` block shifted by ``(-dx, -dy)``,
    so ``(dx, dy)`` is the content's displacement from ``previous`` to ``current`` (x right,
    y down; module docstring). As an encoder pads the picture to whole macroblocks, frames are
    extended by repeating their last row / column; candidates must lie inside that padded
    ``previous`` frame. Ties (flat or repeating texture) go to the shortest vector, then the
    smaller dy, then dx: a static or textureless block gets ``(0, 0)``. Integer-pel only (no
    sub-pixel refinement, no rate term, no predicted-vector bias).

    Vectorised: one whole-image ``absdiff`` and integral image per candidate offset, the
    per-block SADs read from the integral image: (2·search+1)² passes, 289 at the defaults
    (``posekit.lab.sensor_speed`` measures it).

    Args:
        previous, current: ``H×W`` uint8 grey frames of the same shape.
        block: macroblock side (16 as MPEG / H.264 macroblocks). search: search range (px).
    Returns:
        ``(dx, dy)``, each ``(ceil(H / block), ceil(W / block))`` int16.
    """
    a, b = _check_pair(previous, current, rgb=False)
    block, search = check_int("block", block), check_int("search", search, minimum=0)
    h, w = a.shape
    hb, wb = -(-h // block), -(-w // block)
    hp, wp = hb * block, wb * block
    b = cv2.copyMakeBorder(b, 0, hp - h, 0, wp - w, cv2.BORDER_REPLICATE)
    a = cv2.copyMakeBorder(a, 0, hp - h, 0, wp - w, cv2.BORDER_REPLICATE)
    a = cv2.copyMakeBorder(a, search, search, search, search, cv2.BORDER_CONSTANT, value=0)
    depth = cv2.CV_32S if hp * wp * 255 < 2**31 else cv2.CV_64F
    ys, xs = np.arange(hb) * block, np.arange(wb) * block
    best = np.full((hb, wb), np.inf)
    dx_best, dy_best = np.zeros((hb, wb), np.int16), np.zeros((hb, wb), np.int16)
    for dx, dy in _offsets(search):
        candidate = a[search - dy : search - dy + hp, search - dx : search - dx + wp]
        table = cv2.integral(cv2.absdiff(b, candidate), sdepth=depth)[::block, ::block]
        sad = (table[1:, 1:] - table[:-1, 1:] - table[1:, :-1] + table[:-1, :-1]).astype(float)
        inside_y = (ys - dy >= 0) & (ys - dy + block <= hp)
        inside_x = (xs - dx >= 0) & (xs - dx + block <= wp)
        better = (sad < best) & inside_y[:, None] & inside_x[None, :]
        best[better], dx_best[better], dy_best[better] = sad[better], dx, dy
    return dx_best, dy_best


def motion_vectors(
    previous: np.ndarray,
    current: np.ndarray,
    block: int = 8,
    gain: float = MV_GAIN,
    method: str = "flow",
    search: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Codec-like motion vectors between two RGB frames, encoded as SPHP's ``MVH``/``MVV``.

    ``method="flow"`` (default): the dense optical flow from ``previous`` to ``current``
    (Farnebäck 2003) averaged over ``block × block`` macroblocks (sub-pixel, smooth).
    ``method="block"``: ``block_motion`` on the grey frames (integer, exhaustive SAD search
    within ±``search`` px, as an encoder). Either way each block's ``(dx, dy)`` is spread over
    its pixels and encoded with ``encode_motion(d, gain)``: 128 = no motion, ``gain`` levels
    per pixel (4 → −32 .. +31.75 px).

    Args:
        previous, current: ``H×W×3`` uint8 RGB frames of the same shape.
    Returns:
        ``(mvh, mvv)``, each ``H×W uint8``: horizontal (x, right positive) and vertical
        (y, down positive) displacement of the content from ``previous`` to ``current``.
    """
    a, b = _check_pair(previous, current, rgb=True)
    check_int("block", block)
    if method == "flow":
        d = _flow_blocks(grayscale(a), grayscale(b), block)
    elif method == "block":
        d = np.stack(block_motion(grayscale(a), grayscale(b), block, search), axis=-1)
    else:
        raise ValueError(f"method: expected 'flow' or 'block', got {method!r}")
    coded = encode_motion(_spread(d, block, a.shape[:2]), gain)
    return coded[..., 0], coded[..., 1]


# ------------------------------------------------------------------------------------ events
def _gray_frames(frames) -> np.ndarray:
    f = np.asarray(frames)
    if f.dtype != np.uint8 or not (f.ndim == 3 or (f.ndim == 4 and f.shape[3] == 3)):
        raise ValueError(f"frames: expected (T, H, W) grey or (T, H, W, 3) RGB uint8, got "
                         f"{f.shape} {f.dtype}")  # fmt: skip
    if f.shape[0] == 0 or f[0].size == 0:
        raise ValueError(f"frames: expected at least one non-empty frame, got {f.shape}")
    return f if f.ndim == 3 else np.stack([grayscale(x) for x in f])


def events(frames, threshold: float = 0.2, offset: float = 1.0) -> np.ndarray:
    """Dynamic-vision-sensor (DVS) events between video frames, as per-frame event images.

    A DVS pixel (Lichtsteiner, Posch & Delbruck 2008, "A 128×128 120 dB 15 µs latency
    asynchronous temporal contrast vision sensor") fires an event of polarity +1 / −1 each time
    its log intensity moves ``threshold`` above / below a reference level, and resets the
    reference to the level it fired at. Here log intensity is ``log(grey + offset)`` (grey in
    0..255; ``offset`` avoids log 0 and damps the darkest levels), the reference starts at
    frame 0 and intensity is taken to change linearly between frames (as frame-based event
    simulators do): a change of ``Δ`` from the reference fires ``floor(|Δ| / threshold)``
    events and moves the reference by that many thresholds, so the remainder carries over and
    a static pixel never fires again. No noise, refractory period or threshold mismatch.

    Events are accumulated over each frame interval (t−1, t] into frame t; DHP19 (Calabrese
    et al. 2019, "DHP19: Dynamic Vision Sensor 3D Human Pose Dataset") instead accumulates a
    fixed number of events per frame. Within one interval a pixel's events share a polarity,
    so the signed sum loses nothing: ``abs`` gives the count, ``sign`` the polarity.

    Args:
        frames: ``(T, H, W)`` uint8 grey or ``(T, H, W, 3)`` uint8 RGB (converted by
            ``grayscale``). threshold: contrast threshold in log units (0.2 ≈ a 22 % change).
    Returns:
        ``(T, H, W)`` int8: signed event count per pixel (clipped to ±127); frame 0 is zeros.
    """
    if not threshold > 0:
        raise ValueError(f"threshold: expected > 0 (log units), got {threshold!r}")
    if not offset > 0:
        raise ValueError(f"offset: expected > 0 grey levels, got {offset!r}")
    gray = _gray_frames(frames)
    out = np.zeros(gray.shape, np.int8)
    reference = np.log(gray[0] + float(offset))
    for t in range(1, len(gray)):
        change = np.log(gray[t] + float(offset)) - reference
        n = np.floor(np.abs(change) / threshold) * np.sign(change)
        reference += n * threshold
        out[t] = np.clip(n, -127, 127)
    return out


# ---------------------------------------------------------------------------------- sparsity
def active_fraction(image, zero: int = 0) -> float:
    """Fraction of active pixels: those a sparse convolution would visit (value != ``zero``).

    ``image``: an array (``H×W``, or ``T×H×W`` for a whole clip: the fraction over all of
    it), or a tuple / list of same-shape arrays = channels of one input, a pixel being active
    where **any** channel differs from ``zero``. Edges: ``active_fraction(edg)`` (> 0);
    events: ``active_fraction(ev)`` (!= 0); motion vectors: ``active_fraction((mvh, mvv),
    zero=MV_ZERO)`` (either channel != 128).
    """
    channels = [np.asarray(c) for c in (image if isinstance(image, tuple | list) else [image])]
    if not channels or any(c.shape != channels[0].shape for c in channels):
        raise ValueError(f"image: expected an array or same-shape channels, got "
                         f"{[c.shape for c in channels]}")  # fmt: skip
    if channels[0].size == 0:
        raise ValueError("image: expected a non-empty array")
    active = np.zeros(channels[0].shape, bool)
    for c in channels:
        active |= c != zero
    return float(active.mean())


def clip_inputs(clip: np.ndarray, search: int = 8, threshold: float = 0.2) -> dict:
    """The sensor inputs of a ``(T, H, W, 3)`` uint8 RGB clip for frames 1..T−1 (frame 0 has
    no motion): ``EDG`` ``(T−1, H, W)`` uint8, ``MV_flow`` and ``MV_block`` ``(mvh, mvv)``
    pairs of ``(T−1, H, W)`` uint8 (``motion_vectors`` defaults, block search ±``search``),
    ``EVT`` ``(T−1, H, W)`` int8 (``events``)."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or len(clip) < 2:
        raise ValueError(f"clip: expected (T >= 2, H, W, 3) uint8 RGB, got {clip.shape}")
    flow = [motion_vectors(p, c) for p, c in zip(clip[:-1], clip[1:], strict=True)]
    blk = [motion_vectors(p, c, method="block", search=search)
           for p, c in zip(clip[:-1], clip[1:], strict=True)]  # fmt: skip
    return {
        "EDG": np.stack([edges(f) for f in clip[1:]]),
        "MV_flow": tuple(np.stack(m) for m in zip(*flow, strict=True)),
        "MV_block": tuple(np.stack(m) for m in zip(*blk, strict=True)),
        "EVT": events(clip, threshold)[1:],
    }


def input_sparsity(inputs: dict) -> dict[str, float]:
    """``active_fraction`` of each of ``clip_inputs``' results (MVs against 128)."""
    zero = {"MV_flow": MV_ZERO, "MV_block": MV_ZERO}
    return {k: active_fraction(v, zero.get(k, 0)) for k, v in inputs.items()}


def sparsity_by_class(
    n_per_action: int = 1,
    frames: int = 8,
    size: tuple[int, int] = (384, 288),
    seed: int = 0,
    fps: float = 30.0,
    split: str = "val",
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    """Mean active fraction of each synthesised input per SPHP action class, on SynthPose
    exercise clips (``posekit.datasets.SynthPoseSequences``: fixed camera, light and
    background, so only the person moves).

    Classes: C1 upper body, C2 lower body, C3 slow whole body, C4 fast whole body. Every one
    of the 16 actions gets ``n_per_action`` clips of ``frames`` frames at ``fps``; each clip
    is measured on frames 1..frames−1 (``clip_inputs``) and a class averages its clips.

    Args:
        size: frame ``(width, height)`` (SPHP's network input by default). progress: tqdm bar.
    Returns:
        ``{"C1": {"EDG": f, "MV_flow": f, "MV_block": f, "EVT": f}, ..., "all": {...}}``,
        fractions in [0, 1].
    """
    from tqdm.auto import tqdm

    from posekit.datasets.synthpose import SynthPoseSequences

    check_positive_ints(n_per_action=n_per_action)
    check_int("frames", frames, minimum=2)
    ds = SynthPoseSequences(split, length=16 * n_per_action, n_frames=frames, fps=fps,
                            size=size, seed=seed, frames="uint8")  # fmt: skip
    per_class: dict[str, list[dict[str, float]]] = {f"C{c}": [] for c in range(1, 5)}
    for i in tqdm(range(len(ds)), desc="sensor sparsity", disable=not progress, leave=False):
        item = ds[i]
        stats = input_sparsity(clip_inputs(item["frames"].numpy()))
        per_class[f"C{item['action_class'] + 1}"].append(stats)
    per_class["all"] = [s for c in list(per_class) for s in per_class[c]]
    return {c: {k: float(np.mean([s[k] for s in runs])) for k in INPUTS}
            for c, runs in per_class.items()}  # fmt: skip


def format_sparsity(result: dict[str, dict[str, float]]) -> str:
    """A ``sparsity_by_class`` result as a text table of active-pixel percentages."""
    head = ["class", *INPUTS]
    rows = [[c, *(f"{100 * v[k]:.2f} %" for k in INPUTS)] for c, v in result.items()]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *rows)]  # fmt: skip
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)

"""Do SPHP's inputs hide who a person is? Identity recognition on SynthPose, faces on photos.

Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation for Human Pose Estimation"
(BMVC 2023) argue that edge and motion-vector inputs keep the pose and hide the identity. Their
evidence is face recognition on CelebA: RGB 88.9 % accuracy / 84.1 % recall, greyscale 88.7 /
84.2, edges 84.8 / 73.9 (``PAPER``). This module asks the same question of posekit's own
inputs (``posekit.sensors``) on synthetic people whose identities are known and persist
across frames, and hands the face question to an off-the-shelf face detector on real photos.

**Identity experiment** (``run``). ``identities`` SynthPose people (``identity_from_id(i,
seed)``: body shape, skin, face, hair, clothing) each perform every one of the 16 SPHP
exercises in ``clips`` clips per exercise. Every clip has its own camera (elevation, distance,
roll, framing), facing direction, light and cluttered background, drawn independently of the
identity. The camera frames the whole clip (the body spans 60–85 % of the image: a crop
around the person); the clip is rendered and every sensor runs at ``sensor_scale · size`` px
square (192 by default), then each input is area-averaged to the classifier's ``size × size``
(64). The split separates poses, motions and views:

* **train**: actions ``TRAIN_ACTIONS`` (12 exercises), the person facing the camera within
  ±``TRAIN_YAW_DEG`` (30°);
* **test**: actions ``TEST_ACTIONS`` = 4, 7, 10, 13 (one per SPHP class C1–C4, never seen in
  training), the person turned ``TEST_YAW_DEG`` = 30–60° to the left or right (views never
  seen in training).

No clip is in both splits, every identity is in both, with the same number of frames. A clip
has ``frames + 1`` frames at ``fps``; frame 0 is only the previous frame of the motion inputs,
frames 1..``frames`` are labelled samples. The default 20 fps at 192 px gives the pixel
displacement per frame of SPHP's 30 fps at 288 rows.

**Inputs** (``frame_inputs``; ``(T − 1, C, H, W)`` float32 per clip, frames 1..T−1; after
area averaging an edge or event pixel is the mean over the sensor pixels it covers):

=========  ====  ==========================================================================
name       C     channels and scaling
=========  ====  ==========================================================================
rgb        3     R, G, B / 255 in [0, 1]
gray       1     ``sensors.grayscale`` / 255 (BT.601 luma)
edge       1     ``sensors.edges`` / 255 in {0, 1} (Canny)
mv         2     MVH, MVV of ``sensors.motion_vectors`` (previous → current frame),
                 ``decode_motion``: (code − 128) / 128, 0 = no motion
events     1     ``sensors.events`` of the clip: signed event count, clipped to ±4, / 4
fused      3     [EDG, MVV, MVH] as above: SPHP's early-fusion input
=========  ====  ==========================================================================

**Classifier** (``IdentityNet``): the same small CNN for every input (five 3×3 conv-BN-ReLU
layers, four of stride 2, global average pooling, a linear layer; only the first conv's input
channels differ), the same seed, batches, augmentation (a random horizontal mirror, which
negates the horizontal motion channels, and a shift of up to ``size // 16`` px), optimiser
(AdamW, cosine learning rate) and number of steps. Reported on the test frames: top-1 accuracy,
macro recall and macro precision (``confusion_matrix``), and the drop from RGB in percentage
points. With every identity holding the same number of test frames, macro recall *equals*
top-1 accuracy (the mean of per-identity hit rates of equal-size groups); it is printed for
the paper's table shape, and macro precision is the column that can differ.

**Controls**: chance (1 / N) and the majority (constant) classifier; a clothing-colour
shortcut, a small MLP (trained like the CNNs) on per-channel colour histograms of the
person's pixels only (no spatial layout: ``colour_histogram``), i.e. what RGB can win from
colour alone; the same on greyscale histograms (``gray_histogram``). The person's pixels come
from the renderer (``person_mask``): an oracle segmentation no real attacker has, so these
controls are upper bounds of what colour statistics alone can do.

**Pose side** (``privacy_vs_pose``, ``plot_privacy_vs_pose``): each input's identity
accuracy beside its pose error, the U-Net-Small MPJPE that ``posekit.lab.sphp_table``
measured (``POSE_MPJPE``) and the one SPHP published.

**Faces on real photos** (``face_detection``): mediapipe's BlazeFace short-range detector
(Bazarevsky et al. 2019, "BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs";
its model ships inside the mediapipe wheel, nothing is downloaded) on ``posekit.real``'s photos
and their greyscale, edge, event and motion-vector versions. Motion needs two frames: the
previous frame is the photo moved by a small known warp (``shift`` px, ``rotate_deg`` about
the image centre), the photo is the current frame. Events follow the DVS model of
Lichtsteiner, Posch & Delbruck 2008 ("A 128×128 120 dB 15 µs latency asynchronous temporal
contrast vision sensor"), as ``posekit.sensors.events``.

``python -m posekit.privacy [--quick]`` or ``posekit privacy``; ``RESULTS`` holds a measured
full run.
"""

from __future__ import annotations

import argparse
import math
import textwrap
import time
import warnings
from dataclasses import dataclass

import numpy as np

from posekit import sensors
from posekit.validate import check_int

__all__ = [
    "CHANNELS", "FACE_REPRESENTATIONS", "INPUTS", "LABELS", "PAPER", "POSE_MPJPE", "QUICK",
    "RESULTS", "TEST_ACTIONS", "TRAIN_ACTIONS", "ClipSpec", "IdentityNet", "accuracy",
    "build_dataset", "clip_plan", "colour_histogram", "confusion_matrix", "face_detection",
    "face_representations", "format_faces", "format_table", "frame_inputs", "gray_histogram",
    "macro_precision", "macro_recall", "main", "person_mask", "plot_privacy_vs_pose",
    "privacy_vs_pose", "render_clip", "run",
]  # fmt: skip

INPUTS = ("rgb", "gray", "edge", "mv", "events", "fused")
CHANNELS = {"rgb": 3, "gray": 1, "edge": 1, "mv": 2, "events": 1, "fused": 3}
LABELS = {
    "rgb": "RGB", "gray": "Grayscale", "edge": "Edge", "mv": "MV [MVH, MVV]",
    "events": "Events", "fused": "Fused [EDG, MVV, MVH]",
}  # fmt: skip
FLIP_SIGN = {"mv": (-1.0, 1.0), "fused": (1.0, 1.0, -1.0)}
"""Per-channel sign under a horizontal mirror: horizontal motion (MVH) changes sign."""
EVENT_CLIP = 4  # events: signed counts clipped to ±EVENT_CLIP, then / EVENT_CLIP

# test actions, one per SPHP class: punch up forward (C1), leg pulling (C2), squat (C3),
# jumping jack (C4)
TEST_ACTIONS = (4, 7, 10, 13)
TRAIN_ACTIONS = tuple(a for a in range(1, 17) if a not in TEST_ACTIONS)
TRAIN_YAW_DEG = 30.0  # training clips face the camera within ±30°
TEST_YAW_DEG = (30.0, 60.0)  # test clips are turned 30-60° to the left or right

PAPER = {"rgb": (88.9, 84.1), "gray": (88.7, 84.2), "edge": (84.8, 73.9)}
"""Face recognition on CelebA, (accuracy %, recall %) per input (Lin, Hsieh et al. 2023)."""

POSE_MPJPE = {"edge": 8.25, "mv": 38.23, "fused": 8.51}
"""Pose error of each input: mean MPJPE (px of 384×288) of the dense U-Net-Small trained on
ED, MV and FS in ``posekit.lab.sphp_table.RESULTS`` (posekit's own run: a synthetic SPHP export,
128×96 input, 240 Adam steps). No RGB, greyscale or event network was trained there."""

PUBLISHED_INPUT = {"gray": "gr", "edge": "ed", "mv": "mv", "fused": "fs"}
"""``INPUTS`` name → SPHP's input name in ``posekit.lab.sphp_table.PUBLISHED``."""

QUICK = dict(identities=4, clips=1, frames=1, steps=12, size=32, batch=16, sensor_scale=2)
"""Settings of a seconds-long run for tests and CI (numbers meaningless: a smoke test)."""

FACE_REPRESENTATIONS = ("rgb", "gray", "edge", "edge_inverted", "events", "mv", "fused")
"""What ``face_detection`` shows the detector, each as ``H×W×3`` uint8: the photo; its luma
in three channels; Canny edges (white on black) and inverted (black lines on white, a
sketch); events as grey 128 + 64 · count (ON brighter, OFF darker); motion as RGB = [MVH,
MVV, 128]; SPHP's fusion as RGB = [EDG, MVV, MVH]."""

RESULTS = """\
2026-12-05, `posekit privacy` = ``run()``'s defaults (16 identities × 16 actions × 4 clips, 2
labelled frames a clip; sensors at 192×192 px and 20 fps, classifier at 64×64; 800 AdamW steps
of 64, lr 3e-3 cosine; seed 0; one torch thread) on 2 CPU cores shared with two other jobs
(load average 2.7-3.6): 239 s wall, faces included (an earlier run of the same settings gave
the same numbers in 225 s: one thread, deterministic).

Identity recognition on SynthPose: 16 identities; sensors at 192×192 px, 20 fps, classifier at
64×64; 1536 train / 512 test frames (test: unseen actions 4, 7, 10, 13, views turned 30-60°); 800
steps of 64, seed 0; 236 s
Input                 | Acc % | Drop | Recall % | Drop | Prec % | paper Acc | Drop | Recall | Drop
----------------------|-------|------|----------|------|--------|-----------|------|--------|-----
RGB                   | 93.9  | 0.0  | 93.9     | 0.0  | 94.7   | 88.9      | 0.0  | 84.1   | 0.0
Grayscale             | 85.5  | 8.4  | 85.5     | 8.4  | 85.7   | 88.7      | 0.2  | 84.2   | -0.1
Edge                  | 24.0  | 69.9 | 24.0     | 69.9 | 23.5   | 84.8      | 4.1  | 73.9   | 10.2
MV [MVH, MVV]         | 6.6   | 87.3 | 6.6      | 87.3 | 6.3    | –         | –    | –      | –
Events                | 29.3  | 64.6 | 29.3     | 64.6 | 30.0   | –         | –    | –      | –
Fused [EDG, MVV, MVH] | 21.3  | 72.7 | 21.3     | 72.7 | 21.2   | –         | –    | –      | –
colour histogram      | 100.0 |      | 100.0    |      | 100.0  |           |      |        |
grey histogram        | 98.0  |      | 98.0     |      | 98.2   |           |      |        |
majority (constant)   | 6.2   |      | 6.2      |      | 0.4    |           |      |        |
chance 1/16           | 6.2   |      | 6.2      |      |        |           |      |        |
Drop = RGB minus the input, in points. Balanced test set: macro recall equals accuracy. The last
four rows are controls; the histogram ones are an MLP on the per-channel histograms of the person's
pixels (no layout; the renderer's mask). Paper: face recognition on CelebA (Lin, Hsieh et al. 2023).

Privacy vs pose (U-Net-Small MPJPE, px of 384×288):
Input                 | identity acc % | MPJPE px, ours | MPJPE px, SPHP
----------------------|----------------|----------------|---------------
RGB                   | 93.9           | –              | –
Grayscale             | 85.5           | –              | 2.15
Edge                  | 24.0           | 8.25           | 3.35
MV [MVH, MVV]         | 6.6            | 38.23          | 8.52
Events                | 29.3           | –              | –
Fused [EDG, MVV, MVH] | 21.3           | 8.51           | 3.07

Face detection: BlazeFace short-range (mediapipe 0.10.14, model_selection=0); found = score >= 0.5
(scores shown down to 0.1); motion: the photo is the current frame, content moving from the previous
one by a 0° rotation about the centre, then (3, 2) px (x right, y down)
photo        | rgb    | gray   | edge | edge_inverted | events | mv | fused
-------------|--------|--------|------|---------------|--------|----|------
astronaut    | ✓ 0.92 | ✓ 0.84 | ✗    | ✗             | ✗      | ✗  | ✗
camera       | ✓ 0.77 | ✓ 0.77 | ✗    | ✗             | ✗      | ✗  | ✗
grace_hopper | ✓ 0.94 | ✓ 0.91 | ✗    | ✗             | ✗      | ✗  | ✗

A second run, ``--seed 1`` (other people, clips and batches; 223 s), accuracy %: RGB 91.8, grey
74.8, edge 29.3, MV 6.6, events 27.9, fused 32.0; colour histogram 100.0, grey histogram 91.2.
So one seed moves a row by up to 11 points (512 test frames, two per clip): the order RGB >
grey >> edge ≈ events ≈ fused (3.4-5× chance) >> MV (chance) holds, the order within the middle
group does not.

Reading. Colour is the identity here: an MLP on the person's colour histogram alone scores
100 %, above the RGB CNN, and a grey histogram 91-98 %; SynthPose people differ mostly by clothing
colour, hair and skin, and at 64 px the face is a few pixels. Edges drop 62-70 points (SPHP,
faces on CelebA: 4.1) because they remove exactly that; what they keep (outline, hair, sleeves,
prints, stripes) still identifies a fifth to a third of the frames (3.4-5× chance) after 800
CPU steps: a weak attacker, so a lower bound of the leak. Motion vectors alone (8 px blocks)
are at chance, and they are also the input whose pose error is worst (38 px vs 8 for edges and
fusion, ``POSE_MPJPE``). BlazeFace finds every face in RGB and grey and none in any sensor
image; a detector trained on photos is not a recogniser trained on edges (the paper's edge
recogniser reaches 84.8 %).
"""  # noqa: E501 (the tables, as printed)


# --------------------------------------------------------------------------------------------
# The split and the clips
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipSpec:
    """One clip of the experiment: ``identity`` (0..N−1) performing SPHP ``action`` (1..16),
    repetition ``clip`` of that pair, in ``split`` ``"train"`` or ``"test"``, facing
    ``yaw_deg`` from the camera (0 = facing it)."""

    identity: int
    action: int
    clip: int
    split: str
    yaw_deg: float


def clip_plan(identities: int, clips: int = 1, seed: int = 0) -> list[ClipSpec]:
    """Every clip of the experiment, identity-major: for each identity, each of the 16 SPHP
    actions, ``clips`` clips. Actions ``TRAIN_ACTIONS`` go to ``"train"`` with a facing yaw
    uniform in ±``TRAIN_YAW_DEG``; ``TEST_ACTIONS`` to ``"test"`` with ``|yaw|`` uniform in
    ``TEST_YAW_DEG`` and a random side. The yaw of clip ``(i, a, c)`` comes from
    ``default_rng([seed, i, a, c, 1])``: a pure function of its key."""
    check_int("identities", identities, minimum=2)
    check_int("clips", clips)
    plan = []
    for i in range(identities):
        for a in range(1, 17):
            for c in range(clips):
                u = np.random.default_rng([seed, i, a, c, 1]).random(2)
                if a in TEST_ACTIONS:
                    lo, hi = TEST_YAW_DEG
                    yaw = (lo + (hi - lo) * u[0]) * (1 if u[1] < 0.5 else -1)
                    split = "test"
                else:
                    yaw, split = TRAIN_YAW_DEG * (2 * u[0] - 1), "train"
                plan.append(ClipSpec(i, a, c, split, float(yaw)))
    return plan


def _light(rng: np.random.Generator):
    from posekit.synth.render import Light

    u = rng.random(3).tolist()  # the distribution of SynthPose's sequences
    ang = math.radians(-160 + 140 * u[0])
    return Light((math.cos(ang), math.sin(ang)), 0.5 + 0.25 * u[1], 0.8 + 0.35 * u[2])


def render_clip(
    spec: ClipSpec, n_frames: int, size: int = 192, fps: float = 20.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``spec``: identity ``identity_from_id(spec.identity, seed)`` performing
    ``spec.action`` for ``n_frames`` frames at ``fps``, facing ``spec.yaw_deg`` (plus the
    motion's slow drift), seen by one fixed camera framing the whole clip (SynthPose's sequence
    camera: elevation −5..30°, distance 2.5–6 m, roll ±5°, the body spanning 60–85 % of the
    image), on a cluttered background with 0–4 distractors, one light. Camera, light and
    background come from ``default_rng([seed, identity, action, clip, 2])``: they do not
    depend on the identity.

    Returns:
        ``frames (n_frames, size, size, 3)`` uint8 RGB and the ``background (size, size, 3)``
        uint8 the person was drawn on (``person_mask`` compares the two).
    """
    from dataclasses import replace

    from posekit.synth import body as B
    from posekit.synth.backgrounds import random_background
    from posekit.synth.motions import motion_sequence
    from posekit.synth.render import render_batch
    from posekit.synth.scenes import DEFAULT, rig_cameras

    rng = np.random.default_rng([seed, spec.identity, spec.action, spec.clip, 2])
    shape = B.body_shape(B.identity_from_id(spec.identity, seed))
    motion = motion_sequence(spec.action, n_frames, fps, rng, height=shape.identity.height,
                             yaw_deg=(spec.yaw_deg, spec.yaw_deg))  # fmt: skip
    points, _ = B.pose_points([shape], motion.angles, motion.root_euler, motion.root_pos)
    cfg = replace(DEFAULT, truncate_prob=0.0, fill=(0.6, 0.85))
    cam = rig_cameras(rng.random(7), points, (size, size), cfg, (0.0,))[0]
    background = random_background(rng, (size, size), DEFAULT.distractors)
    frames = [background.copy() for _ in range(n_frames)]
    render_batch(frames, [shape] * n_frames, points, [cam] * n_frames,
                 [_light(rng)] * n_frames, DEFAULT.antialias)  # fmt: skip
    return np.stack(frames), background


def person_mask(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``H×W`` bool: the pixels where the person was drawn (any channel differs from the
    background it was rendered on; anti-aliased outline pixels included)."""
    return np.any(np.asarray(frame) != np.asarray(background), axis=-1)


# --------------------------------------------------------------------------------------------
# Inputs and histogram features
# --------------------------------------------------------------------------------------------
def _check_inputs(inputs) -> tuple[str, ...]:
    inputs = tuple(inputs) if not isinstance(inputs, str) else (inputs,)
    bad = [i for i in inputs if i not in INPUTS]
    if not inputs or bad or len(set(inputs)) != len(inputs):
        raise ValueError(f"inputs: expected distinct names from {INPUTS}, got {inputs!r}")
    return inputs


def frame_inputs(clip: np.ndarray, inputs=INPUTS, out_size: int | None = None):
    """Every requested input of frames 1..T−1 of a ``(T, H, W, 3)`` uint8 RGB clip, each
    ``(T − 1, CHANNELS[name], H, W)`` float32 (channels and scaling: module docstring), as a
    dict in ``inputs`` order. The sensors run at the clip's resolution with their defaults
    (Canny on a 5×5 blur; Farnebäck flow per 8 px block, from frame t−1 to t; events over
    (t−1, t], the reference starting at frame 0); with ``out_size`` every channel is then
    area-averaged to ``out_size × out_size`` (an edge pixel becomes the fraction of edge
    pixels it covers)."""
    inputs = _check_inputs(inputs)
    if out_size is not None:
        check_int("out_size", out_size)
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] != 3 or clip.dtype != np.uint8 or len(clip) < 2:
        raise ValueError(f"clip: expected (T >= 2, H, W, 3) uint8 RGB, got {clip.shape} "
                         f"{clip.dtype}")  # fmt: skip
    cur = clip[1:]
    out: dict[str, np.ndarray] = {}
    need = set(inputs)
    edge = mv = None
    if need & {"edge", "fused"}:
        edge = np.stack([sensors.edges(f) for f in cur]).astype(np.float32)[:, None] / 255
    if need & {"mv", "fused"}:
        pairs = [sensors.motion_vectors(p, c) for p, c in zip(clip[:-1], cur, strict=True)]
        mv = sensors.decode_motion(np.array(pairs))  # (T-1, 2, H, W): MVH, MVV
    for name in inputs:
        if name == "rgb":
            out[name] = cur.transpose(0, 3, 1, 2).astype(np.float32) / 255
        elif name == "gray":
            out[name] = np.stack([sensors.grayscale(f) for f in cur])[:, None] / np.float32(255)
        elif name == "edge":
            out[name] = edge
        elif name == "mv":
            out[name] = mv
        elif name == "events":
            ev = sensors.events(clip)[1:].astype(np.float32)
            out[name] = np.clip(ev, -EVENT_CLIP, EVENT_CLIP)[:, None] / EVENT_CLIP
        else:  # fused: [EDG, MVV, MVH]
            out[name] = np.concatenate([edge, mv[:, 1:2], mv[:, 0:1]], axis=1)
    if out_size is not None and clip.shape[1:3] != (out_size, out_size):
        out = {k: _shrink(v, out_size) for k, v in out.items()}
    return out


def _shrink(x: np.ndarray, side: int) -> np.ndarray:
    """``(T, C, H, W)`` float32 → ``(T, C, side, side)`` by area averaging (``INTER_AREA``)."""
    import cv2

    t, c, h, w = x.shape
    planes = np.ascontiguousarray(x.reshape(t * c, h, w).transpose(1, 2, 0))
    chunks = [  # OpenCV resizes at most 512 channels at once
        cv2.resize(planes[..., i : i + 256], (side, side), interpolation=cv2.INTER_AREA)
        for i in range(0, t * c, 256)
    ]
    small = np.concatenate([ch.reshape(side, side, -1) for ch in chunks], axis=-1)
    return np.ascontiguousarray(small.transpose(2, 0, 1)).reshape(t, c, side, side)


def _masked(channel: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        return channel.reshape(-1)
    mask = np.asarray(mask, bool)
    if mask.shape != channel.shape:
        raise ValueError(f"mask: expected shape {channel.shape}, got {mask.shape}")
    return channel[mask]


def colour_histogram(image: np.ndarray, mask: np.ndarray | None = None, bins: int = 16):
    """Per-channel histograms of an ``H×W×3`` uint8 RGB image's pixels under ``mask`` (all
    pixels if None): ``(3 · bins,)`` float32, R then G then B, each ``bins`` equal bins of
    0..255 normalised to sum 1 (zeros for an empty mask). Three marginal histograms of a set of
    pixels: no spatial layout (any permutation of the pixels gives the same features)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected H×W×3 uint8 RGB, got {image.shape} {image.dtype}")
    check_int("bins", bins)
    return np.concatenate([_hist(_masked(image[..., c], mask), bins) for c in range(3)])


def gray_histogram(image: np.ndarray, mask: np.ndarray | None = None, bins: int = 32):
    """``(bins,)`` float32 histogram of the BT.601 luma of an ``H×W×3`` uint8 RGB image
    under ``mask``, normalised as ``colour_histogram``."""
    check_int("bins", bins)
    return _hist(_masked(sensors.grayscale(image), mask), bins)


def _hist(values: np.ndarray, bins: int) -> np.ndarray:
    h = np.bincount((values.astype(np.int64) * bins) // 256, minlength=bins).astype(np.float32)
    return h / max(float(h.sum()), 1.0)


def build_dataset(
    identities: int = 16,
    clips: int = 4,
    frames: int = 2,
    size: int = 64,
    seed: int = 0,
    fps: float = 20.0,
    inputs=INPUTS,
    sensor_scale: int = 3,
    progress: bool = True,
) -> dict:
    """Render the whole plan (``clip_plan``) at ``sensor_scale · size`` px, compute every
    input of every labelled frame there (``frame_inputs``) and area-average it to ``size``.

    Returns a dict of per-sample arrays (``S`` samples = clips × ``frames``, plan order):
    ``inputs`` {name: ``(S, C, size, size)`` float16}, ``identity`` ``(S,)`` int64, ``train``
    ``(S,)`` bool, ``clip`` ``(S,)`` int64 (index into ``plan``), ``frame`` ``(S,)`` int64
    (1..frames, index in its clip), ``action`` ``(S,)``, ``yaw`` ``(S,)`` float32,
    ``hist_rgb`` ``(S, 48)`` and ``hist_gray`` ``(S, 32)`` float32 (person pixels), and
    ``plan`` (the ``ClipSpec`` list)."""
    from tqdm.auto import tqdm

    inputs = _check_inputs(inputs)
    check_int("frames", frames)
    check_int("size", size, minimum=16)
    check_int("sensor_scale", sensor_scale)
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps: expected a finite number > 0, got {fps!r}")
    plan = clip_plan(identities, clips, seed)
    n = len(plan) * frames
    data: dict = {
        "inputs": {k: np.empty((n, CHANNELS[k], size, size), np.float16) for k in inputs},
        "hist_rgb": np.empty((n, 48), np.float32),
        "hist_gray": np.empty((n, 32), np.float32),
    }
    for k, spec in enumerate(tqdm(plan, desc="render SynthPose clips", disable=not progress,
                                  leave=False)):  # fmt: skip
        clip, background = render_clip(spec, frames + 1, sensor_scale * size, fps, seed)
        rows = slice(k * frames, (k + 1) * frames)
        for name, x in frame_inputs(clip, inputs, out_size=size).items():
            data["inputs"][name][rows] = x
        for j, f in enumerate(clip[1:]):
            mask = person_mask(f, background)
            data["hist_rgb"][k * frames + j] = colour_histogram(f, mask)
            data["hist_gray"][k * frames + j] = gray_histogram(f, mask)
    per = np.repeat(np.arange(len(plan)), frames)
    data.update(
        identity=np.array([plan[i].identity for i in per], np.int64),
        train=np.array([plan[i].split == "train" for i in per]),
        clip=per.astype(np.int64),
        frame=np.tile(np.arange(1, frames + 1), len(plan)).astype(np.int64),
        action=np.array([plan[i].action for i in per], np.int64),
        yaw=np.array([plan[i].yaw_deg for i in per], np.float32),
        plan=plan,
    )
    return data


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------
def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` int64 counts, rows = true class, columns = predicted."""
    check_int("n_classes", n_classes)
    t, p = np.asarray(y_true, np.int64).ravel(), np.asarray(y_pred, np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.shape[0]} labels like y_true, got {p.shape[0]}")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"y_true, y_pred: labels must lie in 0..{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)


def _cm(cm) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.sum() <= 0:
        raise ValueError(f"cm: expected a square confusion matrix with counts, got {cm.shape}")
    return cm.astype(np.float64)


def accuracy(cm) -> float:
    """Top-1 accuracy: ``trace / total``."""
    cm = _cm(cm)
    return float(np.trace(cm) / cm.sum())


def macro_recall(cm) -> float:
    """Mean over the classes that occur (row sum > 0) of ``diag / row sum``."""
    cm = _cm(cm)
    rows = cm.sum(axis=1)
    return float(np.mean(np.diag(cm)[rows > 0] / rows[rows > 0]))


def macro_precision(cm) -> float:
    """Mean over the classes that occur (row sum > 0) of ``diag / column sum``; a class that
    is never predicted has precision 0 (scikit-learn's ``zero_division=0``)."""
    cm = _cm(cm)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    prec = np.divide(np.diag(cm), cols, out=np.zeros(len(cm)), where=cols > 0)
    return float(np.mean(prec[rows > 0]))


def _scores(y_true, y_pred, n: int) -> dict:
    cm = confusion_matrix(y_true, y_pred, n)
    return dict(accuracy=accuracy(cm), recall=macro_recall(cm), precision=macro_precision(cm),
                confusion=cm.tolist())  # fmt: skip


# --------------------------------------------------------------------------------------------
# Classifiers
# --------------------------------------------------------------------------------------------
def IdentityNet(in_channels: int, n_classes: int, width: int = 16):  # noqa: N802 (a factory)
    """The identity CNN, identical for every input but for ``in_channels``: 3×3 conv-BN-ReLU
    with ``width, 2w, 4w, 4w, 8w`` channels and strides 2, 2, 2, 1, 2 (an input of ``S × S``
    becomes ``S/16 × S/16``), global average pooling, a linear layer to ``n_classes`` logits.
    Input ``(B, in_channels, S, S)`` float32."""
    import torch.nn as nn

    check_int("in_channels", in_channels)
    chans = (width, 2 * width, 4 * width, 4 * width, 8 * width)
    layers, c = [], in_channels
    for o, s in zip(chans, (2, 2, 2, 1, 2), strict=True):
        layers += [nn.Conv2d(c, o, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(o),
                   nn.ReLU(inplace=True)]  # fmt: skip
        c = o
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_classes))


def _mlp(features: int, n_classes: int, hidden: int = 128):
    import torch.nn as nn

    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, n_classes))  # fmt: skip


def _augment(x, gen, shift: int, sign):
    """Random horizontal mirror (``sign`` per channel: MVH negated) and shift ±``shift`` px
    (zero padding) of a ``(B, C, H, W)`` batch, one draw per sample from ``gen``."""
    import torch

    b, _, h, w = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    if flip.any():
        x = x.clone()
        x[flip] = x[flip].flip(-1) * torch.tensor(sign, dtype=x.dtype).view(1, -1, 1, 1)
    if shift:
        d = torch.randint(0, 2 * shift + 1, (b, 2), generator=gen).tolist()
        padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
        x = torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(d)])
    return x


def _train(model, x, y, steps: int, batch: int, lr: float, seed: int, progress: bool,
           desc: str, shift: int = 0, sign=None):  # fmt: skip
    """AdamW (weight decay 1e-4), cosine learning rate, cross-entropy; ``steps`` batches of
    ``batch`` drawn with replacement by a generator seeded ``seed`` (the same batches for every
    model of a run)."""
    import torch
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    y = torch.as_tensor(y)
    model.train()
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        idx = torch.randint(0, len(y), (batch,), generator=gen)
        xb = torch.as_tensor(x[idx.numpy()]).float()
        if sign is not None:
            xb = _augment(xb, gen, shift, sign)
        loss = torch.nn.functional.cross_entropy(model(xb), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model


def _predict(model, x, batch: int = 256) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        out = [model(torch.as_tensor(x[i : i + batch]).float()).argmax(1)
               for i in range(0, len(x), batch)]  # fmt: skip
    return torch.cat(out).numpy()


def run(
    identities: int = 16,
    clips: int = 4,
    frames: int = 2,
    steps: int = 800,
    size: int = 64,
    seed: int = 0,
    inputs=INPUTS,
    batch: int = 64,
    lr: float = 3e-3,
    fps: float = 20.0,
    sensor_scale: int = 3,
    threads: int = 1,
    progress: bool = True,
) -> dict:
    """The identity experiment (module docstring): render, compute the inputs, train one
    ``IdentityNet`` per input and the histogram controls on the train split, score the test
    split.

    Args:
        identities: N people (>= 2). clips: clips per (identity, action). frames: labelled
            frames per clip. steps, batch, lr: every classifier's budget. size: the
            classifier's input side (>= 16). seed: identities, clips, initialisation and
            batches. inputs: names from ``INPUTS``. fps: clip frame rate. sensor_scale: render
            and sensors at ``sensor_scale · size`` px, inputs area-averaged to ``size``.
            threads: torch / OpenCV threads while running. progress: tqdm bars.
    Returns:
        ``{"settings": {...}, "n_train", "n_test", "rows": {input: {"accuracy", "recall",
        "precision", "drop_accuracy", "drop_recall" (RGB minus this, points; None without an
        RGB row), "confusion", "seconds"}}, "controls": {"chance": 1/N, "majority",
        "colour_histogram", "gray_histogram": scores}, "seconds": {"data", "total"}}``;
        scores are fractions in [0, 1].
    """
    import cv2
    import torch

    check_int("identities", identities, minimum=2)
    check_int("clips", clips)
    check_int("frames", frames)
    check_int("steps", steps)
    check_int("size", size, minimum=16)
    check_int("batch", batch)
    check_int("threads", threads)
    check_int("seed", seed, minimum=0)
    inputs = _check_inputs(inputs)
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a finite number > 0, got {lr!r}")
    saved = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    start = time.perf_counter()
    try:
        data = build_dataset(identities, clips, frames, size, seed, fps, inputs, sensor_scale,
                             progress)  # fmt: skip
        t_data = time.perf_counter() - start
        tr, te = data["train"], ~data["train"]
        y_tr, y_te = data["identity"][tr], data["identity"][te]
        rows: dict = {}
        for name in inputs:
            t0 = time.perf_counter()
            torch.manual_seed(seed)
            model = IdentityNet(CHANNELS[name], identities)
            x = data["inputs"][name]
            sign = FLIP_SIGN.get(name, (1.0,) * CHANNELS[name])
            _train(model, x[tr], y_tr, steps, batch, lr, seed, progress, f"train {name}",
                   shift=max(1, size // 16), sign=sign)  # fmt: skip
            rows[name] = _scores(y_te, _predict(model, x[te]), identities)
            rows[name]["seconds"] = round(time.perf_counter() - t0, 1)
        controls: dict = {"chance": 1.0 / identities}
        majority = np.bincount(y_tr, minlength=identities).argmax()
        controls["majority"] = _scores(y_te, np.full_like(y_te, majority), identities)
        for key, feat in (("colour_histogram", "hist_rgb"), ("gray_histogram", "hist_gray")):
            f = data[feat]
            mu, sd = f[tr].mean(0), f[tr].std(0) + 1e-3
            z = ((f - mu) / sd).astype(np.float32)
            torch.manual_seed(seed)
            mlp = _mlp(f.shape[1], identities)
            _train(mlp, z[tr], y_tr, steps, batch, lr, seed, progress, f"train {key}")
            controls[key] = _scores(y_te, _predict(mlp, z[te]), identities)
    finally:
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
    ref = rows.get("rgb")
    for r in rows.values():
        r["drop_accuracy"] = None if ref is None else ref["accuracy"] - r["accuracy"]
        r["drop_recall"] = None if ref is None else ref["recall"] - r["recall"]
    settings = dict(identities=identities, clips=clips, frames=frames, steps=steps, size=size,
                    seed=seed, inputs=list(inputs), batch=batch, lr=lr, fps=fps,
                    sensor_scale=sensor_scale, threads=threads)  # fmt: skip
    return dict(settings=settings, n_train=int(tr.sum()), n_test=int(te.sum()), rows=rows,
                controls=controls, seconds=dict(data=round(t_data, 1),
                total=round(time.perf_counter() - start, 1)))  # fmt: skip


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _drop(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _px(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def _table(head, rows) -> list[str]:
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *rows)]  # fmt: skip
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return lines


def format_table(result: dict) -> str:
    """A ``run`` result as text: per input top-1 accuracy, drop from RGB, macro recall, drop,
    macro precision (all %, drops in points), beside SPHP's CelebA face recognition
    (``PAPER``); then the controls and each input's pose error (``privacy_vs_pose``)."""
    s = result["settings"]
    n = s["identities"]
    side = s.get("sensor_scale", 1) * s["size"]
    title = (f"Identity recognition on SynthPose: {n} identities; sensors at {side}×{side} px, "
             f"{s['fps']:g} fps, classifier at {s['size']}×{s['size']}; {result['n_train']} "
             f"train / {result['n_test']} test frames (test: unseen actions "
             f"{', '.join(map(str, TEST_ACTIONS))}, views turned 30-60°); {s['steps']} steps of "
             f"{s['batch']}, seed {s['seed']}; {result['seconds']['total']:.0f} s")  # fmt: skip
    head = ("Input", "Acc %", "Drop", "Recall %", "Drop", "Prec %", "paper Acc", "Drop",
            "Recall", "Drop")  # fmt: skip
    rows = []
    paper_rgb = PAPER["rgb"]
    for name, r in result["rows"].items():
        p = PAPER.get(name)
        paper = ("–",) * 4
        if p is not None:
            paper = (f"{p[0]:.1f}", f"{paper_rgb[0] - p[0]:.1f}", f"{p[1]:.1f}",
                     f"{paper_rgb[1] - p[1]:.1f}")  # fmt: skip
        ours = (_pct(r["accuracy"]), _drop(r["drop_accuracy"]), _pct(r["recall"]),
                _drop(r["drop_recall"]), _pct(r["precision"]))  # fmt: skip
        rows.append((LABELS[name], *ours, *paper))
    c = result["controls"]
    for key, label in (("colour_histogram", "colour histogram"),
                       ("gray_histogram", "grey histogram"),
                       ("majority", "majority (constant)")):  # fmt: skip
        r = c[key]
        rows.append((label, _pct(r["accuracy"]), "", _pct(r["recall"]), "", _pct(r["precision"]),
                     *("",) * 4))  # fmt: skip
    rows.append((f"chance 1/{n}", _pct(c["chance"]), "", _pct(c["chance"]), "",
                 "", *("",) * 4))  # fmt: skip
    notes = ("Drop = RGB minus the input, in points. Balanced test set: macro recall equals "
             "accuracy. The last four rows are controls; the histogram ones are an MLP on the "
             "per-channel histograms of the person's pixels (no layout; the renderer's mask). "
             "Paper: face recognition on CelebA (Lin, Hsieh et al. 2023).")  # fmt: skip
    pose = privacy_vs_pose(result)
    pose_rows = [(LABELS[k], _pct(v["identity_accuracy"]), _px(v["mpjpe"]),
                  _px(v["mpjpe_published"])) for k, v in pose.items()]  # fmt: skip
    pose_head = ("Input", "identity acc %", "MPJPE px, ours", "MPJPE px, SPHP")
    return "\n".join([textwrap.fill(title, 100), *_table(head, rows), textwrap.fill(notes, 100),
                      "", "Privacy vs pose (U-Net-Small MPJPE, px of 384×288):",
                      *_table(pose_head, pose_rows)])  # fmt: skip


# --------------------------------------------------------------------------------------------
# The trade: identity accuracy vs pose error
# --------------------------------------------------------------------------------------------
def privacy_vs_pose(result: dict) -> dict[str, dict]:
    """Per input of a ``run`` result: ``identity_accuracy`` (the privacy leak, fraction),
    ``mpjpe`` (``POSE_MPJPE``: posekit's measured U-Net-Small error, px of 384×288; None where
    not measured) and ``mpjpe_published`` (SPHP's dense U-Net-Small mean, ``posekit.lab.
    sphp_table.PUBLISHED``; None for inputs SPHP did not train: RGB, events)."""
    from posekit.lab.sphp_table import PUBLISHED

    out = {}
    for name, r in result["rows"].items():
        pub = PUBLISHED.get(("unet_small", PUBLISHED_INPUT.get(name, "")))
        out[name] = dict(identity_accuracy=r["accuracy"], mpjpe=POSE_MPJPE.get(name),
                         mpjpe_published=None if pub is None else pub[-1])  # fmt: skip
    return out


def plot_privacy_vs_pose(result: dict, ax=None):
    """Identity accuracy (%, y) against pose MPJPE (px, x) per input: filled markers at
    posekit's measured MPJPE, hollow ones at SPHP's published; chance as a dashed line; an
    input without a pose error is listed in the legend only. Returns the ``Figure``."""
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6, 4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for i, (name, v) in enumerate(privacy_vs_pose(result).items()):
        col = f"C{i}"
        acc = 100 * v["identity_accuracy"]
        label = f"{LABELS[name]} ({acc:.0f} %)"
        if v["mpjpe"] is not None:
            ax.plot(v["mpjpe"], acc, "o", color=col, label=label + ", ours")
            label = None
        if v["mpjpe_published"] is not None:
            ax.plot(v["mpjpe_published"], acc, "o", mfc="none", color=col,
                    label=(label + ", SPHP") if label else None)  # fmt: skip
        elif label is not None:
            ax.plot([], [], "o", color=col, label=label + ", no pose error")
    ax.plot([], [], "o", mfc="none", color="grey", label="hollow: SPHP's published MPJPE")
    ax.axhline(100 * result["controls"]["chance"], ls="--", color="grey", label="chance")
    ax.set_xlabel("pose error: MPJPE (px of 384×288), U-Net-Small")
    ax.set_ylabel("identity accuracy (%): privacy leak")
    ax.set_title("Privacy vs pose: lower-left is better")
    ax.legend(fontsize=7)
    return fig


# --------------------------------------------------------------------------------------------
# Faces on real photos
# --------------------------------------------------------------------------------------------
def face_representations(
    image: np.ndarray, shift=(3.0, 2.0), rotate_deg: float = 0.0
) -> dict[str, np.ndarray]:
    """The photo and what SPHP-style sensors would record of it, each ``H×W×3`` uint8
    (``FACE_REPRESENTATIONS``). The photo is the current frame; the previous frame is the
    photo warped so that its content then moves by the warp — a rotation by ``rotate_deg``
    (counter-clockwise on screen) about the image centre, then a shift of ``shift = (dx,
    dy)`` px (x right, y down) — to the photo (borders replicated)."""
    import cv2

    image = sensors._check_rgb(image)
    dx, dy = (float(v) for v in shift)
    h, w = image.shape[:2]
    forward = np.vstack([cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), rotate_deg, 1.0),
                         [0, 0, 1]])  # fmt: skip
    forward[:2, 2] += (dx, dy)
    # previous = forward^-1 applied to the photo: the forward warp carries it back to the photo
    previous = cv2.warpAffine(image, np.linalg.inv(forward)[:2], (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    gray, edge = sensors.grayscale(image), sensors.edges(image)
    mvh, mvv = sensors.motion_vectors(previous, image)
    ev = sensors.events(np.stack([previous, image]))[1].astype(np.int16)
    ev_img = np.clip(128 + 64 * ev, 0, 255).astype(np.uint8)

    def rep3(x):
        return np.repeat(x[..., None], 3, axis=2)

    return {
        "rgb": image, "gray": rep3(gray), "edge": rep3(edge), "edge_inverted": rep3(255 - edge),
        "events": rep3(ev_img), "mv": np.dstack([mvh, mvv, np.full_like(mvh, sensors.MV_ZERO)]),
        "fused": np.dstack([edge, mvv, mvh]),
    }  # fmt: skip


def face_detection(
    images: dict | None = None,
    shift=(3.0, 2.0),
    rotate_deg: float = 0.0,
    threshold: float = 0.5,
    floor: float = 0.1,
) -> dict:
    """Run BlazeFace (mediapipe's short-range face detector, ``model_selection=0``) on every
    ``face_representations`` of each photo.

    Args:
        images: ``{name: H×W×3 uint8 RGB}``; None: ``posekit.real.PHOTOS`` (astronaut, camera,
            grace_hopper). shift, rotate_deg: the warp that makes the previous frame (motion,
            events). threshold: the score that counts as a face found (mediapipe's default
            0.5). floor: the detector's own minimum score, below ``threshold``, so that
            near-misses show their score.
    Returns:
        ``{"available": True, "model", "warp", "threshold", "representations", "rows": {photo:
        {representation: {"found": bool, "score": best score or None, "faces": count}}},
        "seconds"}``; or ``{"available": False, "reason": str}`` when mediapipe cannot be used
        (never raises for that).
    """
    from posekit import real

    if not (isinstance(threshold, int | float) and 0 < threshold <= 1):
        raise ValueError(f"threshold: expected a score in (0, 1], got {threshold!r}")
    if not (isinstance(floor, int | float) and 0 < floor <= threshold):
        raise ValueError(f"floor: expected a score in (0, threshold], got {floor!r}")
    if images is not None and not isinstance(images, dict):
        raise ValueError(f"images: expected a dict name -> H×W×3 uint8 image, got {type(images)}")
    why_not = real.mediapipe_unavailable()
    if why_not:
        return {"available": False, "reason": why_not.removeprefix("skipped: ")}
    try:
        mp = real.import_mediapipe()
        detector_cls = mp.solutions.face_detection.FaceDetection
    except (ImportError, AttributeError) as err:
        return {"available": False, "reason": f"mediapipe has no face detector: {err}"}
    if images is None:
        images = {name: real.photo(name) for name in real.PHOTOS}
    start = time.perf_counter()
    rows: dict = {}
    with (
        warnings.catch_warnings(),
        real.quiet_native_stderr(),
        detector_cls(model_selection=0, min_detection_confidence=floor) as det,
    ):
        warnings.simplefilter("ignore")  # protobuf deprecation warnings inside mediapipe
        for photo_name, img in images.items():
            rows[photo_name] = {}
            for rep, x in face_representations(img, shift, rotate_deg).items():
                found = det.process(np.ascontiguousarray(x)).detections or []
                best = max((float(d.score[0]) for d in found), default=None)
                rows[photo_name][rep] = dict(found=best is not None and best >= threshold,
                                             score=best, faces=len(found))  # fmt: skip
    warp = (f"motion: the photo is the current frame, content moving from the previous one "
            f"by a {rotate_deg:g}° rotation about the centre, then ({shift[0]:g}, "
            f"{shift[1]:g}) px (x right, y down)")  # fmt: skip
    return {
        "available": True, "model": "BlazeFace short-range (mediapipe "
        f"{getattr(mp, '__version__', '?')}, model_selection=0)", "warp": warp,
        "threshold": threshold, "floor": floor, "representations": list(FACE_REPRESENTATIONS),
        "rows": rows, "seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip


def format_faces(result: dict) -> str:
    """A ``face_detection`` result as a table: per photo × representation ``✓ score`` (a face
    at or above the threshold), ``✗ score`` (best score below it) or ``✗`` (nothing above the
    detector's floor); or one line saying why the detector is unavailable."""
    if not result.get("available"):
        return f"face detection unavailable: {result.get('reason', 'unknown reason')}"
    reps = result["representations"]
    rows = []
    for photo_name, r in result["rows"].items():
        cells = []
        for rep in reps:
            c = r[rep]
            mark = "✓" if c["found"] else "✗"
            cells.append(mark if c["score"] is None else f"{mark} {c['score']:.2f}")
        rows.append((photo_name, *cells))
    title = (f"Face detection: {result['model']}; found = score >= {result['threshold']:g} "
             f"(scores shown down to {result['floor']:g}); {result['warp']}")  # fmt: skip
    return "\n".join([textwrap.fill(title, 100), *_table(("photo", *reps), rows)])


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """``python -m posekit.privacy [--identities N --steps S --size S --seed K --quick
    --faces-only --no-faces]``: run, print the tables; 0 on success, 2 on bad arguments."""
    p = argparse.ArgumentParser(prog="posekit privacy", description=__doc__.split("\n")[0])
    add_arguments(p)
    return run_cli(p.parse_args(argv), p.prog)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``posekit privacy`` / ``python -m posekit.privacy``."""
    p.add_argument("--identities", type=int, help="people N (default: privacy.run's)")
    p.add_argument("--steps", type=int, help="training steps per classifier")
    p.add_argument("--size", type=int, help="classifier input side in px")
    p.add_argument("--clips", type=int, help="clips per identity and action")
    p.add_argument("--frames", type=int, help="labelled frames per clip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="seconds-long smoke test")
    p.add_argument("--faces-only", action="store_true", help="only the face table")
    p.add_argument("--no-faces", action="store_true", help="skip the face table")
    p.add_argument("--no-progress", action="store_true")


def run_cli(args: argparse.Namespace, prog: str = "posekit privacy") -> int:
    """Run what ``args`` (``add_arguments``) ask for and print; errors as ``prog: error: ...``
    on stderr with return code 2."""
    import sys

    if args.faces_only and args.no_faces:
        print(f"{prog}: error: --faces-only and --no-faces exclude each other", file=sys.stderr)
        return 2
    settings = dict(QUICK) if args.quick else {}
    for key in ("identities", "steps", "size", "clips", "frames"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    try:
        if not args.faces_only:
            result = run(seed=args.seed, progress=not args.no_progress, **settings)
            print(format_table(result))
        if not args.no_faces:
            if not args.faces_only:
                print()
            print(format_faces(face_detection()))
    except ValueError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Interactive explorers for the notebooks, testable without a browser.

Each explorer is an ``Explorer``: a dict of ipywidgets controls, a pure ``render(**params)``
that returns a plain ``dict`` (arrays and numbers), and a ``figure(result)`` that pictures
it. Changing a control's ``.value`` calls ``update()``, which re-renders, stores
``.result`` and puts the new figure into an ``ipywidgets.Output``, so nothing is printed
to the cell's stdout. A notebook cell just ends with the explorer (or ``display(explorer)``);
a test sets ``explorer.controls["flip"].value = True`` and reads ``explorer.result``.

Every explorer renders once when it is built, with cheap defaults (CI runs the cell once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure

from posekit import viz
from posekit.codecs.heatmap import decode_argmax, gaussian_heatmaps, heatmap_to_image
from posekit.skeletons import SKELETONS, convert, flip_keypoints, get_skeleton

__all__ = [
    "CascadeExplorer",
    "DEFAULT_CANVAS_HW",
    "DEFAULT_PERSON_COCO17",
    "Explorer",
    "GaussianExplorer",
    "PAFExplorer",
    "PoseCameraExplorer",
    "ScalingExplorer",
    "SkeletonExplorer",
    "SparsityExplorer",
    "StackExplorer",
]


class Explorer:
    """Base class: controls + pure ``render`` + ``update`` that redraws into an ``Output``.

    Subclasses build their controls, call ``super().__init__(controls)`` last (it renders
    once), and implement ``render(**params) -> dict`` (pure: no widgets, no drawing on
    screen) and ``figure(result) -> Figure | None``.

    Attributes:
        controls: name → ipywidgets control; ``render`` receives ``{name: control.value}``.
        output: the ``ipywidgets.Output`` the figure is drawn into.
        result: what the last ``render`` returned.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget]) -> None:
        self.controls = controls
        self.output = widgets.Output()
        self.result: dict[str, Any] = {}
        self._held = False
        self._box: widgets.VBox | None = None
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def params(self) -> dict[str, Any]:
        """The controls' current values, by control name."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self, **params: Any) -> dict[str, Any]:
        """Compute the result for these control values (pure; override)."""
        raise NotImplementedError

    def figure(self, result: dict[str, Any]) -> Figure | None:
        """A small figure picturing ``result`` (override; ``None`` draws nothing)."""
        return None

    def update(self) -> dict[str, Any]:
        """Render with the controls' values, store ``.result`` and redraw the output."""
        self.result = self.render(**self.params())
        self._show(self.figure(self.result))
        return self.result

    def _show(self, fig: Figure | None) -> None:
        """Replace the ``Output``'s content with ``fig``.

        The formatted figure goes straight into ``output.outputs`` (what
        ``Output.append_display_data`` does), so nothing reaches the cell's own output even
        without a front end (nbval). Outside IPython there is nowhere to show it.
        """
        shell = get_ipython()
        if shell is None:
            return
        outputs = []
        if fig is not None:
            data, metadata = shell.display_formatter.format(fig)
            outputs.append({"output_type": "display_data", "data": data, "metadata": metadata})
        self.output.outputs = tuple(outputs)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls with one ``update()`` at the end."""
        held, self._held = self._held, True
        try:
            yield
        finally:
            self._held = held
        if not held:
            self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._held:
            self.update()

    @property
    def widget(self) -> widgets.VBox:
        """The controls above the output, ready to display (built once)."""
        if self._box is None:
            row = widgets.HBox(
                list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
            )
            self._box = widgets.VBox([row, self.output])
        return self._box

    def _ipython_display_(self) -> None:
        display(self.widget)


def _closed_figure(width: float, height: float) -> tuple[Figure, Any]:
    """One-axes pyplot figure, closed so that only the ``Output`` shows it."""
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    plt.close(fig)
    return fig, ax


# ---------------------------------------------------------------------------------------------
# Skeletons
# ---------------------------------------------------------------------------------------------

DEFAULT_CANVAS_HW = (256, 192)
"""Height and width of the default canvas (the COCO top-down input size, portrait)."""

# fmt: off
DEFAULT_PERSON_COCO17 = np.array([
    [96.0, 40.0, 2],     # nose
    [101.0, 35.0, 2],    # left_eye
    [91.0, 35.0, 2],     # right_eye
    [108.0, 39.0, 2],    # left_ear
    [84.0, 39.0, 1],     # right_ear (occluded)
    [121.0, 70.0, 2],    # left_shoulder
    [71.0, 70.0, 2],     # right_shoulder
    [141.5, 52.0, 2],    # left_elbow: the left arm waves
    [60.0, 108.0, 2],    # right_elbow
    [150.0, 20.5, 2],    # left_wrist
    [55.5, 146.0, 2],    # right_wrist
    [111.0, 140.0, 2],   # left_hip
    [81.0, 140.0, 2],    # right_hip
    [120.0, 188.0, 2],   # left_knee
    [78.0, 189.0, 2],    # right_knee
    [128.0, 236.0, 2],   # left_ankle
    [74.5, 236.0, 2],    # right_ankle
], dtype=np.float32)
"""A standing person facing the camera (their left is the image's right), left arm raised,
hand-placed in COCO-17 order on the ``DEFAULT_CANVAS_HW`` canvas; the right ear is occluded."""
# fmt: on

_HIGHLIGHT_COLOR = (250, 210, 0)


def _blank_canvas(height: int, width: int) -> np.ndarray:
    return np.full((height, width, 3), 245, np.uint8)


def _draw_highlight(image: np.ndarray, xy: tuple[float, float], radius: int = 7) -> None:
    """A yellow ring around one joint, drawn in place."""
    center = (round(xy[0] * 16), round(xy[1] * 16))
    cv2.circle(image, center, radius * 16, _HIGHLIGHT_COLOR, 2, cv2.LINE_AA, 4)


class SkeletonExplorer(Explorer):
    """Explore the joint sets: convert a pose, highlight a joint, flip it, label it.

    Controls: ``joint_set`` (Dropdown of the registered sets), ``highlight`` (Dropdown of the
    set's joint names), ``flip`` (Checkbox: mirror with ``flip_keypoints``), ``labels``
    (Checkbox: joint names on the figure).

    Args:
        keypoints: ``(K, 3)`` or ``(N, K, 3)`` in ``source``'s joint set; default
            ``DEFAULT_PERSON_COCO17``.
        image: ``H×W×3 uint8`` to draw on; default a light-grey ``256×192`` canvas.
        source: joint set of ``keypoints`` (default ``"coco17"``).

    ``result`` keys: ``image`` (``H×W×3 uint8`` drawing), ``keypoints`` (``(N, K, 3)`` in the
    chosen set, flipped if asked), ``joint_set``, ``missing`` (names of the set's joints
    with ``v=0`` after conversion: not derivable from the source), ``highlight`` (its name),
    ``highlight_xy`` (``(x, y)`` of the first person's highlighted joint, ``None`` if missing),
    ``labels`` (bool).
    """

    def __init__(
        self,
        keypoints: np.ndarray | None = None,
        image: np.ndarray | None = None,
        *,
        source: str = "coco17",
    ) -> None:
        self.source = get_skeleton(source)
        kp = DEFAULT_PERSON_COCO17 if keypoints is None else keypoints
        self.keypoints = viz._check_keypoints(kp, self.source, "keypoints")
        self.image = _blank_canvas(*DEFAULT_CANVAS_HW) if image is None else image
        self.image = viz._check_image(self.image)
        joints = list(self.source.joints)
        controls = {
            "joint_set": widgets.Dropdown(
                options=list(SKELETONS), value=self.source.name, description="joint set"
            ),
            "highlight": widgets.Dropdown(
                options=joints,
                value="left_wrist" if "left_wrist" in joints else joints[0],
                description="highlight",
            ),
            "flip": widgets.Checkbox(value=False, description="flip horizontally"),
            "labels": widgets.Checkbox(value=False, description="joint names"),
        }
        super().__init__(controls)

    def _on_change(self, change: dict[str, Any]) -> None:
        if change["owner"] is self.controls["joint_set"]:
            with self.hold():  # one update, after the joint names follow the new set
                self._offer_joints_of(change["new"])
        else:
            super()._on_change(change)

    def _offer_joints_of(self, joint_set: str) -> None:
        """Offer the set's joints, keeping the highlighted one when the set has it."""
        joints = list(get_skeleton(joint_set).joints)
        highlight = self.controls["highlight"]
        keep = highlight.value if highlight.value in joints else joints[0]
        highlight.options = joints
        highlight.value = keep

    def render(self, *, joint_set: str, highlight: str, flip: bool, labels: bool) -> dict[str, Any]:
        """Convert, optionally flip, and draw; see the class docstring for the keys."""
        sk = get_skeleton(joint_set)
        kp = convert(self.keypoints, self.source, sk)
        image = self.image
        if flip:
            kp = flip_keypoints(kp, image.shape[1], sk)
            image = np.ascontiguousarray(image[:, ::-1])
        missing = [name for k, name in enumerate(sk.joints) if not (kp[:, k, 2] > 0).any()]
        drawn = viz.draw_skeleton(image, kp, sk)
        xy = None
        if highlight in sk.joints and kp[0, sk.index(highlight), 2] > 0:
            x, y = kp[0, sk.index(highlight), :2]
            xy = (float(x), float(y))
            _draw_highlight(drawn, xy)
        return {
            "image": drawn,
            "keypoints": kp,
            "joint_set": sk.name,
            "missing": missing,
            "highlight": highlight,
            "highlight_xy": xy,
            "labels": bool(labels),
        }

    def figure(self, result: dict[str, Any]) -> Figure:
        h, w = result["image"].shape[:2]
        fig, ax = _closed_figure(3.0, 3.0 * h / w + 0.3)
        ax.imshow(result["image"])
        ax.set_axis_off()
        if result["labels"]:
            viz.annotate_joints(ax, result["keypoints"], result["joint_set"])
        missing = ", ".join(result["missing"]) or "none"
        ax.set_title(f"{result['joint_set']}: missing {missing}", fontsize=7)
        return fig


# ---------------------------------------------------------------------------------------------
# Gaussian heatmaps and quantisation
# ---------------------------------------------------------------------------------------------


def _encode_decode(points: np.ndarray, side: int, stride: int, sigma: float):
    """posekit's codec on ``points`` ``(P, 2)`` (image pixels): the whole-map Gaussians
    ``(P, side, side)`` and their argmax decoded back to image pixels ``(P, 2)``."""
    kp = np.concatenate([points, np.full((len(points), 1), 2.0, np.float32)], axis=1)
    maps, _ = gaussian_heatmaps(kp, (side, side), stride, sigma, truncate=None)
    return maps, decode_argmax(maps, stride)[:, :2]


class GaussianExplorer(Explorer):
    """How output stride limits argmax decoding: a Gaussian target at a sub-pixel keypoint.

    A keypoint at image position ``(x, y)`` on a ``size × size`` image is encoded by posekit's
    codec (``codecs.heatmap.gaussian_heatmaps``, untruncated) as a Gaussian (``sigma`` in
    heatmap pixels) on the ``size/stride`` heatmap, centred at ``u = (x - (stride - 1) / 2) /
    stride``; ``decode_argmax`` takes the argmax pixel and maps it back with ``x = u * stride +
    (stride - 1) / 2``. The error is the distance in image pixels.
    ``mean_error`` averages it over ``num_samples`` fixed random sub-pixel keypoints: it
    grows with the stride (about ``0.38 * stride``) and does not depend on ``sigma``, which
    is why real decoders refine the argmax (lesson 02).

    Controls: ``sigma`` (FloatSlider), ``stride`` (Dropdown 1, 2, 4, 8), ``x`` and ``y``
    (FloatSliders, image pixels).

    ``result`` keys: ``heatmap`` (``(size/stride, size/stride)`` float32), ``keypoint`` and
    ``decoded`` (``(x, y)`` in image pixels), ``error`` (pixels), ``mean_error`` (pixels),
    ``stride``, ``sigma``, ``size``.
    """

    def __init__(self, size: int = 64, num_samples: int = 256, seed: int = 0) -> None:
        if size % 8:
            raise ValueError(f"size: expected a multiple of 8 (largest stride), got {size}")
        self.size = size
        rng = np.random.default_rng(seed)
        self.samples = rng.uniform(0, size - 1, size=(num_samples, 2)).astype(np.float32)
        slider = dict(continuous_update=False, readout_format=".1f")
        controls = {
            "sigma": widgets.FloatSlider(
                value=2.0, min=0.5, max=4.0, step=0.25, description="sigma", **slider
            ),
            "stride": widgets.Dropdown(options=[1, 2, 4, 8], value=4, description="stride"),
            "x": widgets.FloatSlider(
                value=29.3, min=0.0, max=size - 1, step=0.1, description="x", **slider
            ),
            "y": widgets.FloatSlider(
                value=34.7, min=0.0, max=size - 1, step=0.1, description="y", **slider
            ),
        }
        super().__init__(controls)

    def render(self, *, sigma: float, stride: int, x: float, y: float) -> dict[str, Any]:
        """Encode, decode and measure; see the class docstring for the keys."""
        side = self.size // stride
        keypoint = np.array([[x, y]], np.float32)
        heatmap, decoded = _encode_decode(keypoint, side, stride, sigma)
        errors = np.linalg.norm(_encode_decode(self.samples, side, stride, sigma)[1] - self.samples,
                                axis=1)  # fmt: skip
        return {
            "heatmap": heatmap[0],
            "keypoint": (float(x), float(y)),
            "decoded": (float(decoded[0, 0]), float(decoded[0, 1])),
            "error": float(np.linalg.norm(decoded[0] - keypoint[0])),
            "mean_error": float(errors.mean()),
            "stride": int(stride),
            "sigma": float(sigma),
            "size": self.size,
        }

    def figure(self, result: dict[str, Any]) -> Figure:
        fig, ax = _closed_figure(3.2, 3.4)
        edge = result["size"] - 0.5
        ax.imshow(
            result["heatmap"],
            cmap="magma",
            extent=(-0.5, edge, edge, -0.5),
            interpolation="nearest",
        )
        ax.plot(*result["keypoint"], "c+", markersize=11, mew=2, label="keypoint")
        ax.plot(*result["decoded"], "rx", markersize=8, mew=2, label="argmax")
        ax.legend(loc="lower right", fontsize=6)
        ax.set_title(
            f"stride {result['stride']}, σ_h = {result['sigma']:g}: error "
            f"{result['error']:.2f} px (mean {result['mean_error']:.2f})",
            fontsize=7,
        )
        ax.tick_params(labelsize=6)
        return fig


# ---------------------------------------------------------------------------------------------
# SynthPose: pose and camera
# ---------------------------------------------------------------------------------------------


class PoseCameraExplorer(Explorer):
    """Explore a SynthPose person: exercise motion, frame, camera yaw/pitch, joint set.

    Controls: ``action`` (Dropdown of the 16 SPHP exercises), ``frame`` (IntSlider), ``yaw``
    (person's facing direction in degrees, 0 = facing the camera), ``pitch`` (camera
    elevation in degrees, positive looks down), ``joint_set`` (Dropdown).

    ``result`` keys: ``image`` (``H×W×3 uint8`` with the skeleton drawn), ``keypoints``
    (``(1, K, 3)`` in the chosen set), ``joint_set``, ``visible`` / ``occluded`` /
    ``outside`` (counts of v = 2 / 1 / 0 joints), ``action`` (its name), ``frame``.
    A sequence is rendered once per (action, yaw, pitch) and cached, so moving the frame
    slider only redraws.
    """

    def __init__(self, seed: int = 0, n_frames: int = 24, size: tuple[int, int] = (192, 192)):
        from posekit import synth

        self.seed, self.n_frames, self.size = seed, n_frames, size
        self._synth = synth
        self._cache: dict[tuple, Any] = {}
        actions = [(f"{i:02d} {entry[0]}", i) for i, entry in synth.ACTIONS.items()]
        controls = {
            "action": widgets.Dropdown(options=actions, value=10, description="exercise"),
            "frame": widgets.IntSlider(0, 0, n_frames - 1, description="frame",
                                       continuous_update=False),
            "yaw": widgets.IntSlider(0, -180, 180, step=15, description="yaw °",
                                     continuous_update=False),
            "pitch": widgets.IntSlider(10, -10, 45, step=5, description="pitch °",
                                       continuous_update=False),
            "joint_set": widgets.Dropdown(options=list(SKELETONS), value="coco17",
                                          description="joint set"),
        }  # fmt: skip
        super().__init__(controls)

    def sequence(self, action: int, yaw: float, pitch: float):
        """The rendered ``posekit.synth.Sequence`` for these settings (cached)."""
        key = (action, float(yaw), float(pitch))
        if key not in self._cache:
            config = self._synth.SynthConfig(
                yaw_deg=(yaw, yaw), back_prob=0.0, pitch_deg=(pitch, pitch), roll_deg=(0, 0),
                distractors=(0, 0),
            )  # fmt: skip
            self._cache[key] = self._synth.sample_sequence(
                self.seed, action_id=action, n_frames=self.n_frames, fps=12.0,
                size=self.size, config=config,
            )  # fmt: skip
        return self._cache[key]

    def render(self, *, action: int, frame: int, yaw: int, pitch: int, joint_set: str):
        """Render (or reuse) the sequence and draw frame ``frame`` in ``joint_set``."""
        seq = self.sequence(action, yaw, pitch)
        frame = int(np.clip(frame, 0, len(seq) - 1))
        sk = get_skeleton(joint_set)
        kp = self._synth.synth_to(sk.name, seq.keypoints[frame])
        v = kp[..., 2]
        return {
            "image": viz.draw_skeleton(seq.images[frame], kp, sk),
            "keypoints": kp,
            "joint_set": sk.name,
            "visible": int((v == 2).sum()),
            "occluded": int((v == 1).sum()),
            "outside": int((v == 0).sum()),
            "action": seq.action_name,
            "frame": frame,
        }

    def figure(self, result: dict[str, Any]) -> Figure:
        fig, ax = _closed_figure(3.0, 3.3)
        ax.imshow(result["image"])
        ax.set_axis_off()
        ax.set_title(
            f"{result['action']} frame {result['frame']}: {result['visible']} visible, "
            f"{result['occluded']} occluded, {result['outside']} outside",
            fontsize=7,
        )
        return fig


# ---------------------------------------------------------------------------------------------
# DeepPose: the cascade, stage by stage (lesson 01)
# ---------------------------------------------------------------------------------------------


class CascadeExplorer(Explorer):
    """Step through a DeepPose cascade on one image: each stage's estimate and its crops.

    Stage 1 regresses every joint from the whole input. Stage t ≥ 2 looks at one square crop
    per joint, centred on the joint's stage t − 1 estimate, of side ``σ_c · diam`` (``diam``:
    the torso diameter of that estimate, ``DeepPoseCascade.diameter``), and moves the joint
    by the displacement it regresses inside the crop.

    Args:
        cascade: a ``posekit.models.DeepPoseCascade`` (put in eval mode; never trained here).
        images: ``(N, 3, H, W)`` normalised image tensors, as the cascade takes them.
        keypoints: ``(N, K, 3)`` ground truth ``(x, y, v)`` in pixels of ``images``.
        head_boxes: optional ``(N, 2, 2)`` MPII head boxes (same pixels) for a per-image PCKh.
        index: the image shown first.

    Controls: ``index`` (IntSlider, the image), ``stage`` (IntSlider 1..S), ``joint``
    (Dropdown: ``"all"`` or one joint name, whose crop is shown and box highlighted).

    ``result`` keys: ``index``, ``stage``, ``joint`` (name or ``"all"``), ``image``
    (``H×W×3 uint8``, denormalised input), ``estimate`` (``(K, 2)`` after ``stage``),
    ``previous`` (``(K, 2)`` the stage t − 1 estimate, None at stage 1), ``gt`` (``(K, 3)``),
    ``boxes`` (``(K, 4)`` ``[x0, y0, x1, y1]`` of the crops stage t looked at, pixel-area
    edges; None at stage 1), ``side`` (crop side σ_c·diam in pixels, None at stage 1),
    ``crop`` (the selected joint's crop, ``crop_size × crop_size × 3 uint8``, at stage ≥ 2, else
    None),
    ``crop_points`` (``{"previous", "estimate", "gt"}`` of that joint in crop pixels, or
    None), ``errors`` (``(K,)`` pixel error per joint, NaN where unlabelled),
    ``mean_error`` (over labelled joints), ``stage_errors`` (the mean error after every
    stage, a list of S floats), ``pckh`` (``stage_pckh``: PCKh@0.5 of this image after
    ``stage``, resp. every stage; None without head boxes).

    The cascade runs once per image (``return_all=True``) and is cached, so moving the stage
    slider or choosing a joint only redraws.
    """

    def __init__(self, cascade, images, keypoints, head_boxes=None, index: int = 0) -> None:
        import torch

        self.cascade = cascade.eval()
        self.images = torch.as_tensor(images).float()
        self.keypoints = np.asarray(keypoints, np.float32)
        n = len(self.images)
        if self.images.ndim != 4 or n == 0:
            raise ValueError(f"images: expected (N, 3, H, W), got {tuple(self.images.shape)}")
        k = cascade.num_joints
        if self.keypoints.shape != (n, k, 3):
            raise ValueError(f"keypoints: expected ({n}, {k}, 3), got {self.keypoints.shape}")
        self.head_boxes = None if head_boxes is None else np.asarray(head_boxes, np.float64)
        self.skeleton = cascade.skeleton
        self._cache: dict[int, list[np.ndarray]] = {}
        controls = {
            "index": widgets.IntSlider(int(index), 0, n - 1, description="image",
                                       continuous_update=False),
            "stage": widgets.IntSlider(cascade.num_stages, 1, cascade.num_stages,
                                       description="stage", continuous_update=False),
            "joint": widgets.Dropdown(options=["all", *self.skeleton.joints], value="all",
                                      description="joint"),
        }  # fmt: skip
        super().__init__(controls)

    def stages(self, index: int) -> list[np.ndarray]:
        """The ``(K, 2)`` estimates of image ``index`` after each stage (cached)."""
        import torch

        if index not in self._cache:
            with torch.inference_mode():
                outs = self.cascade(self.images[index : index + 1], return_all=True)
            self._cache[index] = [o[0].detach().cpu().double().numpy() for o in outs]
        return self._cache[index]

    def _pckh(self, index: int, estimate: np.ndarray) -> float | None:
        if self.head_boxes is None or self.skeleton.num_joints != 16:
            return None
        from posekit.metrics import pckh

        gt = self.keypoints[index : index + 1]
        if not (gt[..., 2] > 0).any():
            return None
        return float(pckh(estimate[None], gt, self.head_boxes[index : index + 1]).mean)

    def render(self, *, index: int, stage: int, joint: str) -> dict[str, Any]:
        """Estimates, crop boxes and errors of image ``index`` after ``stage``."""
        import torch

        from posekit.datasets.synthpose import denormalize_image
        from posekit.models.deeppose import joint_crops

        index = int(np.clip(index, 0, len(self.images) - 1))
        stage = int(np.clip(stage, 1, self.cascade.num_stages))
        all_stages = self.stages(index)
        estimate = all_stages[stage - 1]
        gt = self.keypoints[index]
        labelled = gt[:, 2] > 0

        def errors_of(est: np.ndarray) -> np.ndarray:
            e = np.linalg.norm(est - gt[:, :2], axis=-1)
            return np.where(labelled, e, np.nan)

        def mean_of(e: np.ndarray) -> float:
            return float(np.nanmean(e)) if labelled.any() else float("nan")

        errors = errors_of(estimate)
        result: dict[str, Any] = {
            "index": index,
            "stage": stage,
            "joint": joint,
            "image": denormalize_image(self.images[index]),
            "estimate": estimate,
            "previous": None,
            "gt": gt,
            "boxes": None,
            "side": None,
            "crop": None,
            "crop_points": None,
            "errors": errors,
            "mean_error": mean_of(errors),
            "stage_errors": [mean_of(errors_of(s)) for s in all_stages],
            "pckh": self._pckh(index, estimate),
            "stage_pckh": [self._pckh(index, s) for s in all_stages],
        }
        if stage == 1:
            return result
        previous = all_stages[stage - 2]
        image = self.images[index : index + 1]
        prev_t = torch.as_tensor(previous[None], dtype=image.dtype)
        diam = self.cascade.diameter(prev_t, image)
        side = float(self.cascade.sigma * diam[0])
        half = side / 2
        boxes = np.concatenate([previous - half, previous + half], axis=1)
        result.update(previous=previous, boxes=boxes, side=side)
        if joint != "all":
            j = self.skeleton.index(joint)
            s = self.cascade.crop_size
            crops, mats = joint_crops(image, prev_t, diam, self.cascade.sigma, s)
            m = mats[j]

            def to_crop(xy) -> tuple[float, float]:
                p = m[:, :2] @ np.asarray(xy[:2], np.float64) + m[:, 2]
                return float(p[0]), float(p[1])

            result["crop"] = denormalize_image(crops[j])
            result["crop_points"] = {
                "previous": to_crop(previous[j]),
                "estimate": to_crop(estimate[j]),
                "gt": to_crop(gt[j]) if labelled[j] else None,
            }
        return result

    def figure(self, result: dict[str, Any]) -> Figure:
        from matplotlib.patches import Rectangle

        with_crop = result["crop"] is not None
        fig, axes = plt.subplots(
            1, 2 if with_crop else 1, figsize=(6.4 if with_crop else 3.4, 3.5),
            layout="constrained", squeeze=False,
        )  # fmt: skip
        plt.close(fig)
        ax = axes[0, 0]
        sk = self.skeleton
        gt = result["gt"]
        est = np.concatenate([result["estimate"], np.full((len(gt), 1), 2.0)], axis=1)
        ax.imshow(result["image"])
        ax.plot(*gt[gt[:, 2] > 0, :2].T, "w+", markersize=6, mew=1.2, label="truth")
        viz.plot_skeleton(ax, est, sk, linewidth=1.5, markersize=10)
        selected = None if result["joint"] == "all" else sk.index(result["joint"])
        if result["boxes"] is not None:
            prev = result["previous"]
            for j, (x0, y0, x1, y1) in enumerate(result["boxes"]):
                if selected is not None and j != selected:
                    continue
                color = "yellow" if j == selected else "w"
                box = Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=0.8, ec=color)
                ax.add_patch(box)
            move = est[:, :2] - prev
            ax.quiver(*prev.T, *move.T, angles="xy", scale_units="xy", scale=1, color="yellow",
                      width=0.006)  # fmt: skip
        h, w = result["image"].shape[:2]
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_axis_off()
        errs = ", ".join(f"{e:.1f}" for e in result["stage_errors"])
        title = (
            f"image {result['index']}, stage {result['stage']}: error {result['mean_error']:.1f} px"
        )
        if result["pckh"] is not None:
            title += f", PCKh {result['pckh']:.0f} %"
        ax.set_title(f"{title}\nmean error per stage: {errs} px", fontsize=7)
        if with_crop:
            cx = axes[0, 1]
            cx.imshow(result["crop"])
            pts = result["crop_points"]
            cx.plot(*pts["previous"], "o", mfc="none", mec="w", ms=8, label="previous")
            cx.plot(*pts["estimate"], "x", color="yellow", ms=8, mew=2, label="refined")
            if pts["gt"] is not None:
                cx.plot(*pts["gt"], "+", color="lime", ms=10, mew=2, label="truth")
            cx.legend(loc="lower right", fontsize=6)
            side = result["crop"].shape[0]
            cx.set_xlim(-0.5, side - 0.5)
            cx.set_ylim(side - 0.5, -0.5)  # points outside the crop are clipped
            cx.set_axis_off()
            cx.set_title(
                f"{result['joint']}: crop {result['side']:.0f} px -> "
                f"{result['crop'].shape[1]} px, error {result['errors'][selected]:.1f} px",
                fontsize=7,
            )
        return fig


class StackExplorer(Explorer):
    """Each hourglass stack's heatmap of one joint on one image (lesson 03).

    A Stacked Hourglass predicts heatmaps after every stack and is supervised on all of them;
    later stacks see the earlier stacks' predictions (re-injected) and refine them. Pick an
    image and a joint: one panel per stack shows its heatmap over the image, its decoded
    point and the truth.

    Args:
        model: a ``posekit.models.HourglassNet`` (or any model returning a list of
            ``(B, K, h, w)`` heatmaps); put in eval mode, never trained here.
        images: ``(N, 3, H, W)`` normalised image tensors.
        keypoints: ``(N, K, 3)`` ground truth in pixels of ``images``.
        codec: a ``HeatmapCodec`` for ``images`` (decodes each stack's maps).
        skeleton: joint set of the heatmaps (``"mpii16"``).
        index: the image shown first.

    Controls: ``index`` (IntSlider), ``joint`` (Dropdown of joint names).

    ``result`` keys: ``index``, ``joint``, ``image`` (``H×W×3 uint8``), ``heatmaps``
    (``(S, h, w)``: the joint's map after each of the S stacks), ``points`` (``(S, 3)``
    decoded ``(x, y, score)`` per stack, input pixels), ``gt`` (``(3,)``), ``errors``
    (``(S,)`` pixel errors, NaN when unlabelled), ``stack_errors`` (``(S,)`` mean error over
    the image's labelled joints per stack).

    The model runs once per image and is cached: changing the joint only redraws.
    """

    def __init__(self, model, images, keypoints, codec, skeleton="mpii16", index: int = 0):
        import torch

        self.model = model.eval()
        self.images = torch.as_tensor(images).float()
        self.keypoints = np.asarray(keypoints, np.float32)
        self.codec = codec
        self.skeleton = get_skeleton(skeleton)
        n, k = len(self.images), self.skeleton.num_joints
        if self.images.ndim != 4 or n == 0:
            raise ValueError(f"images: expected (N, 3, H, W), got {tuple(self.images.shape)}")
        if self.keypoints.shape != (n, k, 3):
            raise ValueError(f"keypoints: expected ({n}, {k}, 3), got {self.keypoints.shape}")
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        controls = {
            "index": widgets.IntSlider(int(index), 0, n - 1, description="image",
                                       continuous_update=False),
            "joint": widgets.Dropdown(options=list(self.skeleton.joints),
                                      value=self.skeleton.joints[0], description="joint"),
        }  # fmt: skip
        super().__init__(controls)

    def stacks(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(S, K, h, w)`` heatmaps and ``(S, K, 3)`` decoded points of image ``index``."""
        import torch

        if index not in self._cache:
            with torch.inference_mode():
                outs = self.model(self.images[index : index + 1])
            outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
            maps = np.stack([o[0].float().cpu().numpy() for o in outs])
            points = np.stack([self.codec.decode(o)[0].keypoints[0] for o in outs])
            self._cache[index] = (maps, points)
        return self._cache[index]

    def render(self, *, index: int, joint: str) -> dict[str, Any]:
        """The joint's heatmap, decoded point and error after every stack."""
        from posekit.datasets.synthpose import denormalize_image

        index = int(np.clip(index, 0, len(self.images) - 1))
        j = self.skeleton.index(joint)
        maps, points = self.stacks(index)
        gt = self.keypoints[index]
        labelled = gt[:, 2] > 0
        dist = np.linalg.norm(points[..., :2] - gt[None, :, :2], axis=-1)  # (S, K)
        dist = np.where(labelled[None], dist, np.nan)
        stack_errors = np.nanmean(dist, axis=1) if labelled.any() else np.full(len(maps), np.nan)
        return {
            "index": index,
            "joint": joint,
            "image": denormalize_image(self.images[index]),
            "heatmaps": maps[:, j],
            "points": points[:, j],
            "gt": gt[j],
            "errors": dist[:, j],
            "stack_errors": stack_errors,
        }

    def figure(self, result: dict[str, Any]) -> Figure:
        maps = result["heatmaps"]
        s = len(maps)
        fig, axes = plt.subplots(1, s, figsize=(2.6 * s, 2.9), layout="constrained",
                                 squeeze=False)  # fmt: skip
        plt.close(fig)
        image = result["image"]
        h, w = image.shape[:2]
        for i, ax in enumerate(axes[0]):
            heat = cv2.resize(np.clip(maps[i], 0, None), (w, h), interpolation=cv2.INTER_LINEAR)
            ax.imshow(image)
            ax.imshow(heat, cmap="magma", alpha=0.6, vmin=0, vmax=max(float(maps.max()), 1e-6))
            x, y, _ = result["points"][i]
            ax.plot(x, y, "c+", markersize=10, mew=2, label="decoded")
            if result["gt"][2] > 0:
                ax.plot(*result["gt"][:2], "wx", markersize=7, mew=1.5, label="truth")
            err = result["errors"][i]
            err_text = "unlabelled" if np.isnan(err) else f"{err:.1f} px"
            ax.set_title(
                f"stack {i + 1}: {err_text}\n(all joints {result['stack_errors'][i]:.1f} px)",
                fontsize=8,
            )
            ax.set_axis_off()
        fig.suptitle(f"image {result['index']}, {result['joint']}", fontsize=9)
        return fig


# ---------------------------------------------------------------------------------------------
# Part affinity fields (lesson 04)
# ---------------------------------------------------------------------------------------------


def _openpose_limb_names() -> tuple[str, ...]:
    from posekit.skeletons import OPENPOSE18

    return tuple(f"{OPENPOSE18.joints[a]} → {OPENPOSE18.joints[b]}" for a, b in OPENPOSE18.limbs)


def _single_map(x, arg: str, channels: tuple[int, ...]) -> np.ndarray:
    """``(C, h, w)`` float32 numpy from an array or tensor, with an optional batch of 1."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    a = np.asarray(x, np.float32)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3 or a.shape[0] not in channels:
        want = " or ".join(str(c) for c in channels)
        raise ValueError(f"{arg}: expected ({want}, h, w) (or a batch of 1), got {a.shape}")
    return a


class PAFExplorer(Explorer):
    """How OpenPose connects the joints of one limb type (lesson 04, Cao et al. 2017 §2.3-2.4).

    For one image and its OpenPose-18 maps (a network's last stage, or the codec's targets),
    pick a limb: the figure shows its part affinity field (arrows), the peaks of its two joint
    types, and every candidate pair (a, b) coloured by what grouping does with it. Each pair
    is scored by the PAF line integral (``posekit.codecs.grouping.pair_scores``: ``num_samples``
    points from a to b, dot products with the unit vector a → b, *valid* when above
    ``min_paf``; score = mean over the valid samples); it is **accepted** when its valid
    fraction exceeds ``min_fraction`` and its score is > 0, and the accepted pairs are then
    **matched** greedily by decreasing score, each peak used once (Lightweight OpenPose's
    ``connections_nms``). These are ``grouping.find_peaks``, ``score_limbs`` and
    ``match_limbs(method="greedy")`` restricted to one limb.

    Args:
        image: ``H×W×3`` uint8 RGB, or a normalised ``(3, H, W)`` tensor (shown through
            ``denormalize_image``).
        heatmaps: ``(19, h, w)`` or ``(18, h, w)`` OpenPose-18 maps (background ignored); a
            leading batch of 1 is allowed (numpy or torch).
        pafs: ``(38, h, w)``, x then y per limb of ``OPENPOSE18.limbs``.
        stride: input pixels per map pixel; default ``W / w`` (must be the same integer for
            both axes).
        limb: the limb shown first (index into ``LIMB_NAMES`` or a name).
        step: draw the field's arrows on every ``step``-th map pixel.
        num_samples, interpolation: the line integral's (as ``grouping.group``).
        min_magnitude: arrows shorter than this are not drawn (nor returned in ``quiver``).

    Controls: ``limb`` (Dropdown of ``LIMB_NAMES``, e.g. ``"neck → right_shoulder"``),
    ``threshold`` (peak threshold), ``min_paf`` (valid-sample threshold), ``min_fraction``
    (share of valid samples a candidate needs).

    ``result`` keys: ``limb`` (name), ``limb_index``, ``joints`` (the two joint names),
    ``image``; ``quiver`` (dict of float arrays ``x``, ``y`` (image pixels of the map pixel
    centres), ``u``, ``v`` (the field), subsampled by ``step``, vectors shorter than
    ``min_magnitude`` left out); ``peaks_a`` / ``peaks_b`` (``(P, 3)`` ``(x, y, score)`` in
    image pixels);
    ``pairs`` (``(M, 2)`` int indices into ``peaks_a`` / ``peaks_b``, every pair); ``scores``
    and ``fractions`` (``(M,)``); ``accepted`` (``(M,)`` bool); ``matches`` (``(C, 2)``
    int pairs kept by the greedy matching, by decreasing score); ``matched`` (``(M,)`` bool);
    ``segments`` (``(M, 2, 2)`` the pairs' end points in image pixels); ``threshold``,
    ``min_paf``, ``min_fraction``, ``stride``.
    """

    LIMB_NAMES = _openpose_limb_names()
    MAX_DRAWN = 200
    """With more pairs than this, the figure leaves the rejected ones out (noisy maps)."""

    def __init__(
        self,
        image,
        heatmaps,
        pafs,
        stride: int | None = None,
        limb: int | str = 0,
        step: int = 1,
        num_samples: int = 10,
        interpolation: str = "bilinear",
        min_magnitude: float = 0.2,
    ) -> None:
        if hasattr(image, "detach"):
            from posekit.datasets.synthpose import denormalize_image

            image = denormalize_image(image[0] if image.ndim == 4 else image)
        self.image = viz._check_image(np.asarray(image))
        self.heatmaps = _single_map(heatmaps, "heatmaps", (18, 19))[:18]
        self.pafs = _single_map(pafs, "pafs", (2 * len(self.LIMB_NAMES),))
        if self.heatmaps.shape[1:] != self.pafs.shape[1:]:
            raise ValueError(
                f"heatmaps {self.heatmaps.shape} and pafs {self.pafs.shape}: map sizes differ"
            )
        h, w = self.heatmaps.shape[1:]
        H, W = self.image.shape[:2]
        if stride is None:
            if W % w or H % h or W // w != H // h:
                raise ValueError(
                    f"stride: cannot infer it from the image {W}×{H} and maps {w}×{h}; pass it"
                )
            stride = W // w
        if int(stride) != stride or stride < 1:
            raise ValueError(f"stride: expected a positive integer, got {stride!r}")
        self.stride, self.step = int(stride), int(step)
        if self.step < 1:
            raise ValueError(f"step: expected a positive integer, got {step!r}")
        self.num_samples, self.interpolation = int(num_samples), interpolation
        self.min_magnitude = float(min_magnitude)
        if isinstance(limb, str):
            if limb not in self.LIMB_NAMES:
                raise ValueError(f"limb: expected one of {self.LIMB_NAMES}, got {limb!r}")
            limb = self.LIMB_NAMES.index(limb)
        if not 0 <= int(limb) < len(self.LIMB_NAMES):
            raise ValueError(f"limb: expected an index in 0..{len(self.LIMB_NAMES) - 1}")
        controls = {
            "limb": widgets.Dropdown(options=list(self.LIMB_NAMES),
                                     value=self.LIMB_NAMES[int(limb)], description="limb"),
            "threshold": widgets.FloatSlider(0.1, min=0.01, max=0.9, step=0.01,
                                             description="peak thr.", continuous_update=False),
            "min_paf": widgets.FloatSlider(0.05, min=0.0, max=0.5, step=0.01,
                                           description="min PAF", continuous_update=False),
            "min_fraction": widgets.FloatSlider(0.8, min=0.0, max=0.95, step=0.05,
                                                description="min fraction",
                                                continuous_update=False),
        }  # fmt: skip
        super().__init__(controls)

    @classmethod
    def from_outputs(cls, image, outputs, index: int = 0, **kwargs) -> PAFExplorer:
        """From a network's output (a list of ``(heatmaps, pafs)`` per stage, batched): the
        last stage's maps of image ``index``; ``image`` as in the constructor."""
        stages = isinstance(outputs, (list, tuple)) and len(outputs) > 0
        if stages and isinstance(outputs[-1], (list, tuple)):
            outputs = outputs[-1]  # the last stage
        hm, paf = outputs
        return cls(image, hm[index], paf[index], **kwargs)

    def _quiver(self, limb: int) -> dict[str, np.ndarray]:
        _, h, w = self.pafs.shape
        rows, cols = np.mgrid[0 : h : self.step, 0 : w : self.step]
        u = self.pafs[2 * limb, :: self.step, :: self.step]
        v = self.pafs[2 * limb + 1, :: self.step, :: self.step]
        keep = np.hypot(u, v) >= self.min_magnitude
        xy = heatmap_to_image(np.stack([cols[keep], rows[keep]], axis=-1), self.stride)
        return {"x": xy[:, 0], "y": xy[:, 1],
                "u": u[keep].astype(np.float64), "v": v[keep].astype(np.float64)}  # fmt: skip

    def render(
        self, *, limb: str, threshold: float, min_paf: float, min_fraction: float
    ) -> dict[str, Any]:
        """Peaks, scored candidate pairs and greedy matches of one limb (see the class doc)."""
        from posekit.codecs import grouping
        from posekit.skeletons import OPENPOSE18

        l = self.LIMB_NAMES.index(limb)
        ja, jb = OPENPOSE18.limbs[l]
        peaks = grouping.find_peaks(self.heatmaps, threshold)
        sel_a, sel_b = peaks.joint == ja, peaks.joint == jb
        a_xy, b_xy = peaks.xy[sel_a], peaks.xy[sel_b]
        score, fraction = grouping.pair_scores(
            self.pafs, l, a_xy, b_xy, self.num_samples, min_paf, self.interpolation
        )
        ia, ib = np.divmod(np.arange(score.size), max(len(b_xy), 1))
        pairs = np.stack([ia, ib], axis=1).astype(np.int64).reshape(-1, 2)
        scores, fractions = score.ravel(), fraction.ravel()
        lengths = np.hypot(*(b_xy[ib] - a_xy[ia]).T) if len(pairs) else np.zeros(0)
        accepted = (fractions > min_fraction) & (scores > 0) & (lengths > 1e-6)
        order = np.flatnonzero(accepted)[np.argsort(-scores[accepted], kind="stable")]
        cands = grouping.Candidates(np.zeros(order.size, np.int64), pairs[order, 0],
                                    len(a_xy) + pairs[order, 1], scores[order])  # fmt: skip
        kept = grouping.match_limbs(cands, "greedy")
        matches = np.stack([kept.a, kept.b - len(a_xy)], axis=1).astype(np.int64).reshape(-1, 2)
        matched = np.zeros(len(pairs), bool)
        matched[matches[:, 0] * max(len(b_xy), 1) + matches[:, 1]] = True

        def in_image(xy, sc):
            return np.concatenate([heatmap_to_image(xy, self.stride).reshape(-1, 2),
                                   sc.reshape(-1, 1)], axis=1)  # fmt: skip

        pa, pb = in_image(a_xy, peaks.score[sel_a]), in_image(b_xy, peaks.score[sel_b])
        return {
            "limb": limb, "limb_index": l,
            "joints": (OPENPOSE18.joints[ja], OPENPOSE18.joints[jb]),
            "image": self.image, "quiver": self._quiver(l),
            "peaks_a": pa, "peaks_b": pb, "pairs": pairs, "scores": scores,
            "fractions": fractions, "accepted": accepted, "matches": matches,
            "matched": matched,
            "segments": np.stack([pa[pairs[:, 0], :2], pb[pairs[:, 1], :2]], axis=1),
            "threshold": float(threshold), "min_paf": float(min_paf),
            "min_fraction": float(min_fraction), "stride": self.stride,
        }  # fmt: skip

    def figure(self, result: dict[str, Any]) -> Figure:
        image = result["image"]
        h, w = image.shape[:2]
        fig, ax = _closed_figure(6.0, 6.0 * h / w + 0.5)
        viz.plot_pafs(ax, self.pafs, "openpose18", limb=result["limb_index"],
                      stride=self.stride, step=self.step, image=image,
                      min_magnitude=self.min_magnitude)  # fmt: skip
        styles = {"matched": ("lime", "-", 2.0), "accepted": ("yellow", "--", 1.2),
                  "rejected": ("red", ":", 0.8)}  # fmt: skip
        many = len(result["pairs"]) > self.MAX_DRAWN
        for m, (seg, acc, mat) in enumerate(
            zip(result["segments"], result["accepted"], result["matched"], strict=True)
        ):
            kind = "matched" if mat else "accepted" if acc else "rejected"
            if kind == "rejected" and many:
                continue
            color, ls, lw = styles[kind]
            ax.plot(*seg.T, color=color, ls=ls, lw=lw, alpha=0.5 if kind == "rejected" else 1)
            if acc:
                mid = seg.mean(axis=0)
                ax.text(*mid, f"{result['scores'][m]:.2f}", color=color, fontsize=6,
                        ha="center", va="bottom")  # fmt: skip
        ja, jb = result["joints"]
        for peaks, marker, name in ((result["peaks_a"], "o", ja), (result["peaks_b"], "s", jb)):
            if len(peaks):
                ax.plot(peaks[:, 0], peaks[:, 1], marker, mfc="none", mec="w", ms=7, mew=1.5,
                        label=name, ls="none")  # fmt: skip
        for kind, (color, ls, lw) in styles.items():
            ax.plot([], [], color=color, ls=ls, lw=lw, label=kind)
        ax.legend(loc="lower right", fontsize=6, framealpha=0.6)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_axis_off()
        n = len(result["pairs"])
        ax.set_title(
            f"{result['limb']}: {len(result['peaks_a'])} × {len(result['peaks_b'])} peaks "
            f"(> {result['threshold']:.2f}), {n} pairs\n{int(result['accepted'].sum())} accepted "
            f"(PAF > {result['min_paf']:.2f} on > {result['min_fraction']:.0%} of samples), "
            f"{len(result['matches'])} matched"
            + (f"\n(rejected pairs not drawn: more than {self.MAX_DRAWN} pairs)" if many else ""),
            fontsize=8,
        )
        return fig


# ---------------------------------------------------------------------------------------------
# Compound scaling (lesson 05)
# ---------------------------------------------------------------------------------------------

_SCALING_COSTS: dict[tuple[str, int | None], tuple[int, int]] = {}
"""``(model name, input side or None for its own) → (params, MACs)``, shared by every
``ScalingExplorer`` (counted once per process on the meta device)."""
_SCALING_META: dict[str, Any] = {}
"""model name → the model built on the meta device (shapes only, no memory)."""


def _scaling_builder(name: str):
    """A builder of EfficientNet ``"b0"`` … ``"b7"`` (with its 1000-class top) or
    EfficientPose ``"rt"`` … ``"iv"`` (inference outputs only)."""
    from functools import partial

    from posekit.models.efficientnet import efficientnet
    from posekit.models.efficientpose import efficientpose

    if name.startswith("b"):
        return partial(efficientnet, name)
    return partial(efficientpose, name, intermediate_heads=False)


def _native_side(name: str) -> int:
    from posekit.models.efficientnet import VARIANTS as EFFICIENTNET
    from posekit.models.efficientpose import VARIANTS as EFFICIENTPOSE

    return (EFFICIENTNET if name.startswith("b") else EFFICIENTPOSE)[name].resolution


def _scaling_cost(name: str, side: int | None) -> tuple[int, int]:
    """``(params, MACs)`` of ``name`` at ``side`` (its own resolution when None), counted on
    the meta device (``posekit.bench``: shapes only, no weights) and cached."""
    key = (name, side)
    if key not in _SCALING_COSTS:
        from posekit.bench import _on_meta, count_macs, count_params

        if name not in _SCALING_META:
            _SCALING_META[name] = _on_meta(_scaling_builder(name))()
        model = _SCALING_META[name]
        s = side or _native_side(name)
        _SCALING_COSTS[key] = (count_params(model), count_macs(model, (1, 3, s, s)))
    return _SCALING_COSTS[key]


class _TextExplorer(Explorer):
    """An explorer whose ``result["text"]`` is printed above its figure."""

    def _show(self, fig: Figure | None) -> None:
        """The text above the figure, both in the ``Output``."""
        super()._show(fig)
        if get_ipython() is None:
            return
        text = {"output_type": "stream", "name": "stdout", "text": self.result["text"] + "\n"}
        self.output.outputs = (text, *self.output.outputs)


class ScalingExplorer(_TextExplorer):
    """EfficientNet-B0 … B7 by compound scaling, beside EfficientPose (lesson 05).

    Compound scaling (Tan & Le 2019, "EfficientNet: Rethinking model scaling for
    convolutional neural networks") grows depth, width and input resolution together with
    one coefficient φ: EfficientNet-Bφ. EfficientPose (Groos, Ramampiaro & Ihlen 2021,
    "EfficientPose: Scalable single-person pose estimation") builds on the same backbones:
    RT on B0 (φ = 0), I on B2, II on B4, III on B5, IV on B7; other φ have no EfficientPose
    variant. Pick φ: the text and a small bar chart show Bφ's parameters, multiply-
    accumulates, input size and measured CPU latency, and the EfficientPose variant of that
    size; the chart has every φ, the MACs panel also the calculator's prediction
    ``MACs(B0) · (α·β²·γ²)^φ`` — the released B1–B7 use the authors' hand-rounded
    multipliers (``posekit.models.efficientnet.VARIANTS``) and channels and repeats are
    rounded, so the measured MACs stray from it (``posekit.checks.lesson05.scaling_table``).

    Params and MACs (``posekit.bench.count_params`` / ``count_macs``) are counted on the meta
    device — shapes only — once per model and input size, for every φ when the explorer is
    built (a few seconds the first time in a process, then cached for all explorers).
    Latency (``posekit.bench.latency_ms``, batch 1, eager, ``torch.get_num_threads()``
    threads) is measured lazily, the first time a φ is shown, and cached: one untimed warm-up
    call, then as many timed calls as fit in ``budget_s`` (at most ``runs``, the median; a
    model whose warm-up alone exceeds ``budget_s`` is timed by that one call). The first
    visit of a large φ at its own resolution takes seconds on a CPU (B7 at 600 × 600 about
    3 s per call on one thread); every later visit answers at once. Choose "224 px" to compare
    all of them at one small input (width and depth scaling only).

    Args:
        phi: the φ shown first (0 … 7).
        size: ``"own"`` (each model at its published resolution) or ``"224"`` (all at 224).
        measure: measure latency (``False``: params and MACs only).
        runs: the most timed calls per model.
        budget_s: seconds of timed calls per model.

    Controls: ``phi`` (IntSlider 0 … 7), ``size`` (ToggleButtons ``"own"`` / ``"224"``).

    ``result`` keys: ``phi``, ``variant`` (``"b3"``), ``size``, ``side`` (the input side used),
    ``width``, ``depth`` (the published multipliers), ``params`` (int), ``gmacs``,
    ``latency_ms`` (``None`` unless measured), ``predicted_ratio`` (``(α·β²·γ²)^φ``; at
    ``size="224"`` the input does not grow, so ``(α·β²)^φ``),
    ``measured_ratio`` (GMACs ÷ B0's at the same ``size``), ``efficientpose`` (``None``, or a
    dict ``name`` ("EfficientPose II"), ``key`` ("ii"), ``side``, ``params``,
    ``published_params_m``, ``gmacs``, ``latency_ms``), ``table`` (dict of ``(8,)`` float
    arrays over φ: ``params_m``, ``gmacs``, ``latency_ms``, ``ep_params_m``, ``ep_gmacs``,
    ``ep_latency_ms``; NaN where there is no variant or nothing measured yet; and
    ``predicted_gmacs``, B0's GMACs × the predicted ratio), ``threads``,
    ``text`` (the lines shown above the chart).
    """

    EFFICIENTPOSE = {0: "rt", 2: "i", 4: "ii", 5: "iii", 7: "iv"}
    """φ → the EfficientPose variant whose high-resolution backbone is EfficientNet-Bφ."""
    SIZES = {"own": None, "224": 224}

    def __init__(
        self,
        phi: int = 0,
        size: str = "own",
        measure: bool = True,
        runs: int = 5,
        budget_s: float = 0.3,
    ) -> None:
        if isinstance(phi, bool) or not isinstance(phi, (int, np.integer)) or not 0 <= phi <= 7:
            raise ValueError(f"phi: expected an integer 0…7, got {phi!r}")
        if size not in self.SIZES:
            raise ValueError(f"size: expected one of {', '.join(self.SIZES)}, got {size!r}")
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ValueError(f"runs: expected a positive integer, got {runs!r}")
        if not budget_s > 0:
            raise ValueError(f"budget_s: expected a positive number of seconds, got {budget_s!r}")
        self.measure, self.runs, self.budget_s = bool(measure), runs, float(budget_s)
        self._latency: dict[tuple[str, str], tuple[float, int]] = {}
        controls = {
            "phi": widgets.IntSlider(int(phi), 0, 7, description="φ", continuous_update=False),
            "size": widgets.ToggleButtons(
                options=[("own resolution", "own"), ("224 px", "224")],
                value=size,
                description="input",
            ),
        }
        super().__init__(controls)

    def latency(self, name: str, size: str) -> tuple[float, int]:
        """``(median ms, timed calls)`` of one forward pass of ``name`` (``"b3"``, ``"ii"``)
        at ``size``; measured the first time, then cached."""
        import time

        import torch

        from posekit.bench import latency_ms

        key = (name, size)
        if key not in self._latency:
            model = _scaling_builder(name)().eval()
            side = self.SIZES[size] or _native_side(name)
            x = torch.zeros(1, 3, side, side)
            with torch.inference_mode():
                start = time.perf_counter()
                model(x)  # warm-up
                first = time.perf_counter() - start
            if first >= self.budget_s:
                self._latency[key] = (1000.0 * first, 1)
            else:
                n = max(1, min(self.runs, int(self.budget_s / max(first, 1e-6))))
                self._latency[key] = (latency_ms(lambda: model(x), runs=n, warmup=0), n)
            del model
        return self._latency[key]

    def _measured(self, name: str, size: str) -> float:
        hit = self._latency.get((name, size))
        return np.nan if hit is None else hit[0]

    def render(self, *, phi: int, size: str) -> dict[str, Any]:
        """Costs of EfficientNet-Bφ and its EfficientPose variant (see the class doc)."""
        import torch

        from posekit.models.efficientnet import ALPHA, BETA, GAMMA, VARIANTS
        from posekit.models.efficientpose import VARIANTS as POSE_VARIANTS

        phi = int(np.clip(phi, 0, 7))
        side_of = self.SIZES[size]
        name = f"b{phi}"
        v = VARIANTS[name]
        params, macs = _scaling_cost(name, side_of)
        b0_macs = _scaling_cost("b0", side_of)[1]
        latency = self.latency(name, size)[0] if self.measure else None
        pose = None
        key = self.EFFICIENTPOSE.get(phi)
        if key is not None:
            p_params, p_macs = _scaling_cost(key, side_of)
            pose = {
                "name": f"EfficientPose {key.upper()}",
                "key": key,
                "side": side_of or POSE_VARIANTS[key].resolution,
                "params": p_params,
                "published_params_m": POSE_VARIANTS[key].params_m,
                "gmacs": p_macs / 1e9,
                "latency_ms": self.latency(key, size)[0] if self.measure else None,
            }
        keys = ("params_m", "gmacs", "latency_ms", "ep_params_m", "ep_gmacs", "ep_latency_ms")
        table: dict[str, np.ndarray] = {k: np.full(8, np.nan) for k in keys}
        base = ALPHA * BETA**2 * (GAMMA**2 if side_of is None else 1.0)  # 224: no γ
        table["predicted_gmacs"] = b0_macs / 1e9 * base ** np.arange(8)
        for f in range(8):
            p, m = _scaling_cost(f"b{f}", side_of)
            table["params_m"][f], table["gmacs"][f] = p / 1e6, m / 1e9
            table["latency_ms"][f] = self._measured(f"b{f}", size)
            if f in self.EFFICIENTPOSE:
                p, m = _scaling_cost(self.EFFICIENTPOSE[f], side_of)
                table["ep_params_m"][f], table["ep_gmacs"][f] = p / 1e6, m / 1e9
                table["ep_latency_ms"][f] = self._measured(self.EFFICIENTPOSE[f], size)
        result = {
            "phi": phi,
            "variant": name,
            "size": size,
            "side": side_of or v.resolution,
            "width": v.width,
            "depth": v.depth,
            "params": params,
            "gmacs": macs / 1e9,
            "latency_ms": latency,
            "predicted_ratio": base**phi,
            "measured_ratio": macs / b0_macs,
            "efficientpose": pose,
            "table": table,
            "threads": torch.get_num_threads(),
        }
        result["text"] = self._text(result)
        return result

    @staticmethod
    def _text(r: dict[str, Any]) -> str:
        def ms(value):
            return "not measured" if value is None else f"{value:.0f} ms"

        side = f"{r['side']} × {r['side']}" + (" (all at 224 px)" if r["size"] == "224" else "")
        formula = "(α·β²)^φ at a fixed input" if r["size"] == "224" else "(α·β²·γ²)^φ"
        lines = [
            f"EfficientNet-B{r['phi']}: width × {r['width']:g}, depth × {r['depth']:g}, "
            f"input {side}",
            f"  {r['params'] / 1e6:.2f} M params, {r['gmacs']:.2f} GMACs "
            f"({r['measured_ratio']:.1f} × B0; compound scaling predicts "
            f"{formula} = {r['predicted_ratio']:.1f} ×), CPU latency {ms(r['latency_ms'])} "
            f"({r['threads']} thread{'s' if r['threads'] != 1 else ''}, batch 1)",
        ]
        pose = r["efficientpose"]
        if pose is None:
            lines.append(f"  no EfficientPose variant at φ = {r['phi']} (RT φ = 0, I 2, II 4, "
                         "III 5, IV 7)")  # fmt: skip
        else:
            lines.append(
                f"{pose['name']} (B{r['phi']} backbone): input {pose['side']} × {pose['side']}, "
                f"{pose['params'] / 1e6:.2f} M params (published {pose['published_params_m']} M, "
                f"Keras count), {pose['gmacs']:.2f} GMACs, CPU latency {ms(pose['latency_ms'])}"
            )
        return "\n".join(lines)

    def figure(self, result: dict[str, Any]) -> Figure:
        t = result["table"]
        phis = np.arange(8)
        fig, axes = plt.subplots(1, 3, figsize=(10.0, 2.8), layout="constrained")
        plt.close(fig)
        colors = ["tab:blue" if f == result["phi"] else "lightsteelblue" for f in phis]
        ep_colors = ["tab:orange" if f == result["phi"] else "navajowhite" for f in phis]
        panels = (("params_m", "params (M)"), ("gmacs", "GMACs"), ("latency_ms", "CPU ms"))
        for ax, (key, title) in zip(axes, panels, strict=True):
            ax.bar(phis - 0.2, np.nan_to_num(t[key]), 0.4, color=colors, label="EfficientNet-Bφ")
            ax.bar(phis + 0.2, np.nan_to_num(t["ep_" + key]), 0.4, color=ep_colors,
                   label="EfficientPose")  # fmt: skip
            if np.nan_to_num(t[key]).max() > 0:
                ax.set_yscale("log")
            ax.set_xticks(phis)
            ax.set_xlabel("φ", fontsize=8)
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
        formula = "(αβ²)^φ" if result["size"] == "224" else "(αβ²γ²)^φ"
        axes[1].plot(phis, t["predicted_gmacs"], "k--", lw=1, label=f"B0 · {formula}")
        axes[1].legend(fontsize=6, loc="upper left")
        if np.isnan(t["latency_ms"]).all():
            axes[2].text(0.5, 0.5, "not measured", ha="center", va="center",
                         transform=axes[2].transAxes, fontsize=8)  # fmt: skip
        size = "all at 224 px" if result["size"] == "224" else "each at its own resolution"
        fig.suptitle(f"EfficientNet-B{result['phi']} ({size}); latency: visited φ only",
                     fontsize=9)  # fmt: skip
        return fig


# ---------------------------------------------------------------------------------------------
# Sparse and privacy-enhanced representations (lesson 06)
# ---------------------------------------------------------------------------------------------

_SPARSE_BACKBONES = {"dhp19": "DHP19", "unet_small": "U-Net-Small", "unet_large": "U-Net-Large"}


def _sparsity_clip(size: tuple[int, int], seed: int) -> np.ndarray:
    """A two-frame SynthPose exercise clip ``(2, H, W, 3)`` uint8 (validation split)."""
    from posekit.datasets.synthpose import SynthPoseSequences

    h, w = size
    ds = SynthPoseSequences("val", length=1, n_frames=2, size=(w, h), seed=seed, frames="uint8")
    return ds[0]["frames"].numpy()


class SparsityExplorer(_TextExplorer):
    """How sparse a privacy-enhancing input is, and what a sparse backbone saves on it.

    SPHP (Lin, Hsieh et al. 2023, "Sparse and Privacy-enhanced Representation for Human Pose
    Estimation") feeds its networks edges and motion instead of RGB and runs them on
    submanifold sparse convolutions (Graham & van der Maaten 2017, "Submanifold Sparse
    Convolutional Networks"), which compute only at the active (nonzero) pixels. Pick a
    representation of the last frame of a clip and its threshold:

    * ``"edges"``: Canny edges (Canny 1986; ``posekit.sensors.edges``) with hysteresis
      thresholds ``high / 3`` and ``high`` — a higher threshold keeps fewer edges;
    * ``"events"``: dynamic-vision-sensor events between the last two frames (Lichtsteiner,
      Posch & Delbruck 2008; ``posekit.sensors.events``), threshold in log-intensity units
      (0.2 ≈ a 22 % change) — a higher threshold fires fewer pixels;

    and a sparse backbone (``posekit.models.sphp_sparse.sparse_sphp_model``, 1 input channel:
    edges ÷ 255, or the signed event counts). Shown: the representation, its active fraction
    (``posekit.sensors.active_fraction``), the multiply-accumulates the sparse backbone does
    at the active sites beside the same layers run at every pixel (``posekit.sparse.
    count_macs``: ``active`` and ``dense``), and, when ``timing`` is ticked, the measured CPU
    time of the sparse backbone (posekit's pure-torch sparse layers, rulebooks included)
    against the dense ``posekit.models.sphp.sphp_model`` of the same backbone (NCHW), batch 1,
    at ``torch.get_num_threads()`` threads: ``runs`` rounds after one warm-up, the two taking
    turns call by call, medians.

    Everything is computed for the shown setting only and cached per setting (a revisit
    answers at once): the MACs need one forward pass of the sparse backbone (tens of ms at the
    default 144 × 192), the timing ``runs + 1`` calls of each network (U-Net-Large dense is
    the slow one, about 0.3 s a call on one core at 144 × 192). The networks have random
    weights (``seed``): MACs and speed do not depend on them.

    Args:
        frames: ``(T >= 2, H, W, 3)`` uint8 RGB clip; the last two frames are used. ``H`` and
            ``W`` multiples of 8. Default: a two-frame SynthPose exercise clip
            (``posekit.datasets.synthpose.SynthPoseSequences``, validation split, ``seed``)
            rendered at ``size``.
        representation: ``"edges"`` or ``"events"``.
        edge_threshold: Canny's high threshold (20 … 400; low = high / 3, rounded).
        event_threshold: event threshold in log units (0.05 … 1).
        backbone: ``"dhp19"``, ``"unet_small"`` or ``"unet_large"``.
        timing: measure the CPU time of each setting shown (else MACs only).
        size: ``(H, W)`` of the default clip (144 × 192: a quarter of SPHP's 288 × 384).
        runs: timed rounds per setting. seed: the default clip and the networks' weights.

    Controls: ``representation`` (ToggleButtons), ``edge_threshold`` (IntSlider),
    ``event_threshold`` (FloatSlider), ``backbone`` (ToggleButtons), ``timing`` (Checkbox).

    ``result`` keys: ``representation``, ``threshold`` (the one in use), ``image`` (``H×W``:
    uint8 edges in {0, 255}, or int8 signed event counts), ``active_fraction``, ``sites``,
    ``size`` ``(H, W)``, ``backbone``, ``active_macs``, ``dense_macs`` (ints), ``saving``
    (``1 − active / dense``), ``layers`` (conv calls counted), ``ms_sparse``, ``ms_dense``,
    ``speedup`` (``None`` unless timed), ``threads``, ``text``.
    """

    REPRESENTATIONS = ("edges", "events")
    BACKBONES = tuple(_SPARSE_BACKBONES)

    def __init__(
        self,
        frames: np.ndarray | None = None,
        representation: str = "edges",
        edge_threshold: int = 150,
        event_threshold: float = 0.2,
        backbone: str = "unet_small",
        timing: bool = False,
        size: tuple[int, int] = (144, 192),
        runs: int = 3,
        seed: int = 0,
    ) -> None:
        if representation not in self.REPRESENTATIONS:
            raise ValueError(
                f"representation: expected one of {self.REPRESENTATIONS}, got {representation!r}"
            )
        if backbone not in self.BACKBONES:
            raise ValueError(f"backbone: expected one of {self.BACKBONES}, got {backbone!r}")
        if not (isinstance(edge_threshold, (int, np.integer)) and 20 <= edge_threshold <= 400):
            raise ValueError(
                f"edge_threshold: expected an integer 20 … 400, got {edge_threshold!r}"
            )
        if isinstance(event_threshold, bool) or not (
            isinstance(event_threshold, (int, float, np.integer, np.floating))
            and 0.05 <= event_threshold <= 1
        ):
            raise ValueError(
                f"event_threshold: expected 0.05 … 1 (log units), got {event_threshold!r}"
            )
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ValueError(f"runs: expected a positive integer, got {runs!r}")
        if frames is None:
            if not (
                isinstance(size, (tuple, list))
                and len(size) == 2
                and all(isinstance(v, int) and v > 0 and v % 8 == 0 for v in size)
            ):
                raise ValueError(f"size: expected (H, W), positive multiples of 8, got {size!r}")
            frames = _sparsity_clip(tuple(size), seed)
        frames = np.asarray(frames)
        if (
            frames.ndim != 4
            or frames.shape[0] < 2
            or frames.shape[3] != 3
            or frames.dtype != np.uint8
        ):
            raise ValueError(
                f"frames: expected a (T >= 2, H, W, 3) uint8 RGB clip, got "
                f"{frames.shape} {frames.dtype}"
            )
        if frames.shape[1] % 8 or frames.shape[2] % 8:
            raise ValueError(
                f"frames: H and W must be multiples of 8 (the U-Nets pool 3 times), "
                f"got {frames.shape[1]}×{frames.shape[2]}"
            )
        self.frames = frames[-2:]
        self.runs, self.seed = runs, seed
        self._images: dict[tuple, np.ndarray] = {}
        self._costs: dict[tuple, tuple[int, int, int]] = {}
        self._times: dict[tuple, tuple[float, float]] = {}
        self._sparse: dict[str, Any] = {}
        self._dense: dict[str, Any] = {}
        controls = {
            "representation": widgets.ToggleButtons(
                options=[("edges (Canny)", "edges"), ("events (DVS)", "events")],
                value=representation,
                description="input",
            ),
            "edge_threshold": widgets.IntSlider(
                int(edge_threshold),
                20,
                400,
                step=10,
                description="Canny high",
                continuous_update=False,
            ),
            "event_threshold": widgets.FloatSlider(
                float(event_threshold),
                min=0.05,
                max=1.0,
                step=0.05,
                description="event thr.",
                continuous_update=False,
            ),
            "backbone": widgets.ToggleButtons(
                options=[(name, key) for key, name in _SPARSE_BACKBONES.items()],
                value=backbone,
                description="backbone",
            ),
            "timing": widgets.Checkbox(bool(timing), description="time sparse vs dense"),
        }
        super().__init__(controls)

    # ------------------------------------------------------------------ computed, cached
    def representation(self, kind: str, threshold: float) -> np.ndarray:
        """The ``H×W`` input image: uint8 Canny edges of the last frame (``threshold`` =
        high, low = high / 3) or int8 signed event counts between the last two frames."""
        from posekit import sensors

        key = (kind, float(threshold))
        if key not in self._images:
            if kind == "edges":
                high = int(threshold)
                image = sensors.edges(self.frames[-1], round(high / 3), high)
            else:
                image = sensors.events(self.frames, float(threshold))[-1]
            self._images[key] = image
        return self._images[key]

    def _networks(self, backbone: str, dense: bool = False):
        import torch

        from posekit.models.sphp import sphp_model
        from posekit.models.sphp_sparse import sparse_sphp_model

        cache, build = (self._dense, sphp_model) if dense else (self._sparse, sparse_sphp_model)
        if backbone not in cache:
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                cache[backbone] = build(backbone, "ed").eval()
        return cache[backbone]

    @staticmethod
    def model_input(image: np.ndarray):
        """``(1, 1, H, W)`` float32: edges ÷ 255 in {0, 1}, events as signed counts (0 where
        nothing happened: the inactive pixels)."""
        import torch

        x = image.astype(np.float32)
        if image.dtype == np.uint8:
            x = x / 255.0
        return torch.from_numpy(x)[None, None]

    def macs(self, kind: str, threshold: float, backbone: str) -> tuple[int, int, int]:
        """``(active, dense, layers)``: the sparse backbone's MACs on this input
        (``posekit.sparse.count_macs`` over one forward pass), cached."""
        import torch

        from posekit.sparse import count_macs

        key = (kind, float(threshold), backbone)
        if key not in self._costs:
            model = self._networks(backbone)
            x = self.model_input(self.representation(kind, threshold))
            with torch.inference_mode(), count_macs(model) as costs:
                model(x)
            self._costs[key] = (int(costs.active), int(costs.dense), len(costs.rows))
        return self._costs[key]

    def timing(self, kind: str, threshold: float, backbone: str) -> tuple[float, float]:
        """``(sparse ms, dense ms)``: medians of ``runs`` rounds (after one warm-up) in which
        the sparse and the dense backbone take turns on this input; cached."""
        import time

        import torch

        key = (kind, float(threshold), backbone)
        if key not in self._times:
            x = self.model_input(self.representation(kind, threshold))
            nets = {"sparse": self._networks(backbone), "dense": self._networks(backbone, True)}
            times: dict[str, list[float]] = {k: [] for k in nets}
            with torch.inference_mode():
                for i in range(self.runs + 1):
                    for name in list(nets)[i % 2 :] + list(nets)[: i % 2]:
                        start = time.perf_counter()
                        nets[name](x)
                        if i:
                            times[name].append(1000.0 * (time.perf_counter() - start))
            self._times[key] = (float(np.median(times["sparse"])), float(np.median(times["dense"])))
        return self._times[key]

    # ------------------------------------------------------------------ render
    def render(
        self,
        *,
        representation: str,
        edge_threshold: int,
        event_threshold: float,
        backbone: str,
        timing: bool,
    ) -> dict[str, Any]:
        """The input, its sparsity and the backbone's costs (see the class doc)."""
        import torch

        from posekit import sensors

        threshold = edge_threshold if representation == "edges" else round(event_threshold, 4)
        image = self.representation(representation, threshold)
        active, dense, layers = self.macs(representation, threshold, backbone)
        ms_sparse = ms_dense = speedup = None
        if timing:
            ms_sparse, ms_dense = self.timing(representation, threshold, backbone)
            speedup = ms_dense / ms_sparse
        result = {
            "representation": representation,
            "threshold": threshold,
            "image": image,
            "active_fraction": sensors.active_fraction(image),
            "sites": int(np.count_nonzero(image)),
            "size": image.shape,
            "backbone": backbone,
            "active_macs": active,
            "dense_macs": dense,
            "saving": 1.0 - active / dense if dense else 0.0,
            "layers": layers,
            "ms_sparse": ms_sparse,
            "ms_dense": ms_dense,
            "speedup": speedup,
            "threads": torch.get_num_threads(),
        }
        result["text"] = self._text(result)
        return result

    def _text(self, r: dict[str, Any]) -> str:
        (h, w), name = r["size"], _SPARSE_BACKBONES[r["backbone"]]
        if r["representation"] == "edges":
            high = int(r["threshold"])
            what = f"Edges (Canny, hysteresis {round(high / 3)} / {high})"
        else:
            change = 100 * (np.exp(r["threshold"]) - 1)
            what = f"Events (DVS, threshold {r['threshold']:g} log units ≈ {change:.0f} % change)"
        lines = [
            f"{what}: {100 * r['active_fraction']:.2f} % of the {h} × {w} pixels active "
            f"({r['sites']:,} sites)",
            f"Sparse {name}: {r['active_macs'] / 1e6:,.1f} M MACs at the active sites vs "
            f"{r['dense_macs'] / 1e6:,.1f} M for the same {r['layers']} conv layers at every "
            f"pixel: −{100 * r['saving']:.1f} %",
        ]
        if r["ms_sparse"] is None:
            lines.append("CPU time: not measured (tick “time sparse vs dense”)")
        else:
            faster = "faster" if r["speedup"] >= 1 else "slower"
            factor = r["speedup"] if r["speedup"] >= 1 else 1 / r["speedup"]
            threads = f"{r['threads']} thread{'s' if r['threads'] != 1 else ''}"
            lines.append(
                f"CPU time ({threads}, batch 1, median of {self.runs}): sparse "
                f"{r['ms_sparse']:.1f} ms, dense {r['ms_dense']:.1f} ms — sparse {factor:.1f}× "
                f"{faster} (rulebooks included)"
            )
        return "\n".join(lines)

    def figure(self, result: dict[str, Any]) -> Figure:
        fig, axes = plt.subplots(
            1,
            3,
            figsize=(10.5, 2.9),
            layout="constrained",
            gridspec_kw={"width_ratios": [1.6, 1, 1]},
        )
        plt.close(fig)
        ax = axes[0]
        image = result["image"]
        if result["representation"] == "edges":
            ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        else:
            lim = max(1, int(np.abs(image).max()))
            ax.imshow(image, cmap="bwr", vmin=-lim, vmax=lim)
        ax.set_title(
            f"{result['representation']}: {100 * result['active_fraction']:.2f} % active",
            fontsize=9,
        )
        ax.set_axis_off()
        name = _SPARSE_BACKBONES[result["backbone"]]
        ax = axes[1]
        ax.bar(
            [0, 1],
            [result["dense_macs"] / 1e6, max(result["active_macs"], 1) / 1e6],
            color=["lightsteelblue", "tab:blue"],
        )
        ax.set_xticks([0, 1], ["dense", "sparse"])
        ax.set_yscale("log")
        ax.set_title(f"{name}: M MACs (−{100 * result['saving']:.1f} %)", fontsize=9)
        ax = axes[2]
        if result["ms_sparse"] is None:
            ax.text(
                0.5,
                0.5,
                "not measured",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=8,
            )
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.bar(
                [0, 1],
                [result["ms_dense"], result["ms_sparse"]],
                color=["navajowhite", "tab:orange"],
            )
            ax.set_xticks([0, 1], ["dense", "sparse"])
            ax.set_title(f"CPU ms ({result['speedup']:.1f}× speed-up)", fontsize=9)
        for a in axes[1:]:
            a.tick_params(labelsize=7)
        return fig

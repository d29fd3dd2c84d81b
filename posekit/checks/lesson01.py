"""Checks for lesson 01 "DeepPose: direct regression and cascades".

Exercise 1.1 ``to_box_frame`` (the paper's box normalisation), 1.2 ``l2_loss`` (the
weighted L2 objective on the 2K network outputs), 1.3 ``displacement_target`` (what a cascade
stage regresses inside its crop of side σ_c·diam), 1.4 ``cascade_step`` (one stage at inference:
each joint's crop box of side σ_c·diam, and the refiner's crop-normalised displacement mapped
back to pixels, as ``DeepPoseCascade.refine_stage``). Each check compares the student's function
with posekit's reference on small cases first, and recognises the classic mistakes of each
exercise from the inputs of the failing case (custom diagnoses below).
"""

from __future__ import annotations

import numpy as np
import torch

from posekit.checks import Case, check_function, register_reference
from posekit.checks._compare import compare, is_tensor, type_name
from posekit.checks.diagnose import close
from posekit.codecs import regression
from posekit.models.deeppose import DeepPoseCascade

# ----------------------------------------------------------------- Exercise 1.1


def reference_to_box_frame(keypoints, center, size):
    """DeepPose's box normalisation ``((x - b_cx) / b_w, (y - b_cy) / b_h)``, v passed through."""
    return regression.to_box_frame(keypoints, center, size)


def _people(seed: int, n: int, k: int, width: float, height: float) -> np.ndarray:
    """``(n, k, 3)`` keypoints on a quarter-pixel grid, visibility in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    kp = np.zeros((n, k, 3), np.float32)
    kp[..., 0] = rng.integers(0, int(4 * width), (n, k)) / 4
    kp[..., 1] = rng.integers(0, int(4 * height), (n, k)) / 4
    kp[..., 2] = rng.choice([0, 1, 2, 2, 2], (n, k))
    return kp


def _box_inputs(kp, center, size) -> dict:
    return {
        "inputs": (
            np.array(kp, np.float64),
            np.asarray(center, np.float64),
            np.asarray(size, np.float64),
        )
    }


def _box_mistakes(expected, got, inputs=None, **ctx):
    """The usual slips of the box normalisation, recognised on the coordinates (x, y)."""
    if inputs is None or got.shape != expected.shape:
        return None
    kp, c, s = inputs
    xy = kp[..., :2]
    e_xy, g_xy = expected[..., :2], got[..., :2]
    if expected.shape[-1] == 3 and not close(got[..., 2], expected[..., 2], ctx):
        return None  # v is wrong: visibility_dropped speaks for that
    mistakes = [
        (
            (xy - c) / s[..., ::-1],
            "You divided x by the box height and y by its width: size is (b_w, b_h), so x "
            "goes with b_w = size[..., 0] and y with b_h = size[..., 1].",
        ),
        (
            xy / s,
            "You did not subtract the box centre: N(x; b) = (x - b_cx) / b_w, so the box "
            "centre maps to 0 and the box edges to -0.5 and +0.5.",
        ),
        (
            2 * (xy - c) / s,
            "Your values are twice too large: you divided by half the box size, which maps "
            "the box to [-1, 1]. DeepPose divides by the whole width and height: the box "
            "maps to [-0.5, 0.5].",
        ),
        (
            (c - xy) / s,
            "Your values have the opposite sign: subtract the centre from the point, "
            "(x - b_cx), not (b_cx - x).",
        ),
        (
            (xy - c) * s,
            "You multiplied by the box size: normalising divides by it, (x - b_cx) / b_w.",
        ),
    ]
    for wrong, hint in mistakes:
        wrong = np.broadcast_to(wrong, e_xy.shape)
        if close(g_xy, wrong, ctx) and not close(wrong, e_xy, ctx):
            return hint
    return None


def check_to_box_frame(fn):
    """Exercise 1.1: (x - b_cx) / b_w, (y - b_cy) / b_h; v unchanged; broadcasting boxes."""
    centre_only = np.array([[[50.0, 30.0, 2.0]]], np.float32)
    edges = np.array(
        [
            [
                [10.0, 30.0, 2.0],
                [89.0, 30.0, 2.0],
                [50.0, 0.0, 1.0],
                [50.0, 59.0, 2.0],
                [0.0, 0.0, 0.0],
            ]
        ],
        np.float32,
    )
    many = _people(11, 4, 16, 128, 128)
    centres = np.array([[[63.5, 63.5]], [[60.0, 70.0]], [[40.25, 90.0]], [[80.0, 50.0]]])
    sizes = np.array([[[128.0, 128.0]], [[96.0, 120.0]], [[60.0, 100.0]], [[150.0, 75.0]]])
    no_v = _people(12, 3, 14, 220, 220)[0, :, :2]
    cases = [
        Case(
            (centre_only, (50.0, 30.0), (80.0, 60.0)),
            label="a joint at the box centre",
            ctx=_box_inputs(centre_only, (50.0, 30.0), (80.0, 60.0)),
        ),
        Case(
            (edges, (49.5, 29.5), (80.0, 60.0)),
            label="joints on the border pixels of an 80 x 60 box",
            ctx=_box_inputs(edges, (49.5, 29.5), (80.0, 60.0)),
        ),
        Case(
            (many, centres, sizes),
            label="4 people, one box each (N, 1, 2)",
            ctx=_box_inputs(many, centres, sizes),
        ),
        Case(
            (no_v, (109.5, 109.5), (220.0, 220.0)),
            label="(K, 2) without v, 220 x 220 crop",
            ctx=_box_inputs(no_v, (109.5, 109.5), (220.0, 220.0)),
        ),
    ]
    return check_function(
        fn,
        "to_box_frame",
        cases,
        reference=reference_to_box_frame,
        forbid=(regression.to_box_frame,),
        diagnoses=[_box_mistakes, "visibility_dropped", "xy_swapped"],
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 1.2


def reference_l2_loss(pred, target, weight):
    """``(1/B) Σ_b Σ_k w_bk ‖pred_bk − target_bk‖²``; pred ``(B, 2K)`` or ``(B, K, 2)``."""
    return regression.l2_loss(pred, target, weight)


def _loss_case(seed: int, b: int, k: int, drop: float, flat: bool = True):
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(b, k, 2, generator=g) - 0.5
    pred = target + 0.2 * torch.randn(b, k, 2, generator=g)
    weight = (torch.rand(b, k, generator=g) >= drop).float()
    weight[0, 0] = 0.0 if drop > 0 else 1.0  # at least one unlabelled joint when dropping
    if flat:
        pred = pred.reshape(b, 2 * k)
    return pred, target, weight


def _loss_mistakes(expected, got, inputs=None, **ctx):
    """Unweighted, averaged over everything, not squared, wrong reshape, no batch mean..."""
    if inputs is None or got.shape != expected.shape:
        return None
    pred, target, weight = (t.double() for t in inputs)
    b, k = target.shape[:2]
    p = pred.reshape(b, k, 2)
    sq = ((p - target) ** 2).sum(-1)  # (B, K)
    mistakes = [
        (
            (weight * sq).sum() / weight.sum(),
            "You divided by the number of labelled joints. DeepPose's loss sums the squared "
            "distances over the K joints and averages over the B images only: divide by B.",
        ),
        (
            sq.sum() / b,
            "Unlabelled joints (weight 0) still count in your loss: multiply each joint's "
            "squared distance by its weight before summing.",
        ),
        (
            (weight[..., None] * (p - target) ** 2).mean(),
            "You averaged over joints and coordinates too (like F.mse_loss): DeepPose sums the "
            "squared distance over the K joints and averages over the B images only.",
        ),
        (
            (weight * sq.sqrt()).sum() / b,
            "Your loss uses the distance, not the squared distance: the L2 loss here is "
            "||pred - target||^2 (no square root).",
        ),
        (
            (weight * sq).sum(),
            "Your loss is summed over the batch: divide by the number of images B so that "
            "the loss does not grow with the batch size.",
        ),
    ]
    if pred.ndim == 2:
        swapped = pred.reshape(b, 2, k).transpose(1, 2)
        hint = (
            "The 2K outputs are ordered x0, y0, x1, y1, ...: reshape them to (B, K, 2) "
            "(pred.reshape(B, K, 2)), not to (B, 2, K)."
        )
        mistakes.append(((weight * ((swapped - target) ** 2).sum(-1)).sum() / b, hint))
    for wrong, hint in mistakes:
        wrong = np.asarray(float(wrong))
        if close(got.reshape(()), wrong, ctx) and not close(wrong, expected.reshape(()), ctx):
            return hint
    return None


def _loss_inputs(pred, target, weight) -> dict:
    return {"inputs": (pred.detach().clone(), target.clone(), weight.clone())}


NO_GRADIENT = (
    "the loss carries no gradient: return a tensor computed from pred (no .item(), float() "
    "or .detach())"
)


def _compare_loss(expected, got, atol=1e-5, rtol=1e-5):
    """The loss must be a tensor that carries pred's gradient (training calls backward() on
    it), then have the reference's value. A float, a numpy value, an ``.item()``, a detached
    tensor or one computed under ``torch.no_grad()`` fails first."""
    if got is not None and not (is_tensor(got) and got.requires_grad):
        what = (
            "a tensor that does not require grad (detached, or computed under torch.no_grad())"
            if is_tensor(got)
            else f"a {type_name(got)}"
        )
        return f"{NO_GRADIENT}; your function returned {what}"
    mismatch = compare(expected, got, atol=atol, rtol=rtol)
    if mismatch is None:
        return None
    details = " ".join("; ".join(mismatch.details).split())  # one line: expected and got
    return f"{mismatch.reason}; {details}" if details else mismatch.reason


def check_l2_loss(fn):
    """Exercise 1.2: weighted squared L2 summed over joints, averaged over images: a tensor
    that carries pred's gradient."""
    p1 = torch.tensor([[0.1, -0.2, 0.3, 0.0]])
    t1 = torch.tensor([[[0.0, 0.0], [0.0, 0.0]]])
    w1 = torch.tensor([[1.0, 1.0]])
    p2, t2, w2 = _loss_case(21, 2, 3, drop=0.3)
    p3, t3, w3 = _loss_case(22, 8, 16, drop=0.2)
    p4, t4, w4 = _loss_case(23, 3, 14, drop=0.2, flat=False)
    for p in (p1, p2, p3, p4):
        p.requires_grad_(True)  # a network's output: the loss must carry its gradient
    cases = [
        Case(
            (p1, t1, w1), label="one image, two joints, all labelled", ctx=_loss_inputs(p1, t1, w1)
        ),
        Case(
            (p2, t2, w2), label="2 images, 3 joints, one unlabelled", ctx=_loss_inputs(p2, t2, w2)
        ),
        Case(
            (p3, t3, w3), label="8 images, 16 joints, outputs (B, 2K)", ctx=_loss_inputs(p3, t3, w3)
        ),
        Case(
            (p4, t4, w4),
            label="3 images, 14 joints, outputs already (B, K, 2)",
            ctx=_loss_inputs(p4, t4, w4),
        ),
    ]
    with torch.enable_grad():  # even when the check is called under torch.no_grad()
        return check_function(
            fn,
            "l2_loss",
            cases,
            reference=reference_l2_loss,
            forbid=(regression.l2_loss,),
            diagnoses=[_loss_mistakes],
            compare=_compare_loss,
            atol=1e-5,  # for the diagnoses; _compare_loss uses the same tolerances
            rtol=1e-5,
        )


# ----------------------------------------------------------------- Exercise 1.3


def reference_displacement_target(gt, estimates, diam, sigma):
    """``(gt − estimate) / (σ_c · diam)`` per joint: ``(B, K, 2)`` float, as
    ``DeepPoseCascade.training_samples`` builds the refiner targets."""
    gt = np.asarray(gt, np.float64)
    est = np.asarray(estimates, np.float64)[..., :2]
    side = sigma * np.asarray(diam, np.float64).reshape(-1, 1, 1)
    return (gt[..., :2] - est) / side


def _cascade_case(seed: int, b: int, k: int):
    rng = np.random.default_rng(seed)
    gt = _people(seed, b, k, 128, 128)
    diam = rng.uniform(25, 45, b).round(2)
    est = gt[..., :2] + rng.normal(0, 6, (b, k, 2)).round(2)
    return gt, est, diam


def _target_mistakes(expected, got, inputs=None, **ctx):
    """Forgot σ, crop side as a half-width, diam broadcast over x/y, v kept."""
    if inputs is None:
        return None
    gt, est, diam, sigma = inputs
    delta = gt[..., :2] - est[..., :2]
    d = diam.reshape(-1, 1, 1)
    if got.shape == expected.shape[:-1] + (3,) and close(got[..., :2], expected, ctx):
        return "Return only the (x, y) displacement, shape (B, K, 2): leave out the v column."
    if got.shape != expected.shape:
        return None
    mistakes = [
        (
            delta / d,
            "You divided by diam only: the crop's side is sigma * diam, and the target is "
            "measured in units of that side.",
        ),
        (
            delta / (sigma * d / 2),
            "Your targets are twice too large: divide by the whole crop side sigma * diam, "
            "not by half of it (a joint on the crop's edge has |u| = 0.5).",
        ),
        (
            delta * sigma / d,
            "You multiplied by sigma: the crop side is sigma * diam, so divide by both.",
        ),
    ]
    if len(diam) == 2:
        mistakes.append(
            (
                delta / (sigma * diam),
                "diam has one value per image, but it divided the x and y columns instead: "
                "(B, K, 2) / (B,) broadcasts over the last axis. Reshape it to (B, 1, 1), "
                "e.g. diam[:, None, None].",
            )
        )
    for wrong, hint in mistakes:
        if close(got, wrong, ctx) and not close(wrong, expected, ctx):
            return hint
    return None


def _target_inputs(gt, est, diam, sigma) -> dict:
    return {
        "inputs": (
            np.array(gt, np.float64),
            np.array(est, np.float64),
            np.array(diam, np.float64),
            float(sigma),
        )
    }


def check_displacement_target(fn):
    """Exercise 1.3: u = (gt - estimate) / (sigma * diam), one diam per image, shape (B, K, 2)."""
    g1 = np.array([[[70.0, 40.0, 2.0]]], np.float32)
    e1 = np.array([[[60.0, 40.0]]], np.float32)
    d1 = np.array([40.0])
    g2, e2, d2 = _cascade_case(31, 2, 16)
    g3, e3, d3 = _cascade_case(32, 5, 14)
    cases = [
        Case(
            (g1, e1, d1, 1.0),
            label="one joint 10 px right of its estimate, diam 40",
            ctx=_target_inputs(g1, e1, d1, 1.0),
        ),
        Case(
            (g2, e2, d2, 2.0),
            label="2 images, 16 joints, sigma 2",
            ctx=_target_inputs(g2, e2, d2, 2.0),
        ),
        Case(
            (g3, e3, d3, 1.5),
            label="5 images, 14 joints, sigma 1.5",
            ctx=_target_inputs(g3, e3, d3, 1.5),
        ),
    ]
    return check_function(
        fn,
        "displacement_target",
        cases,
        reference=reference_displacement_target,
        forbid=(DeepPoseCascade.training_samples,),
        diagnoses=[_target_mistakes, "sign_flipped"],
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 1.4


def reference_cascade_step(estimates, displacement, diam, sigma):
    """One cascade stage at inference, the geometry of ``DeepPoseCascade.refine_stage``.

    Args:
        estimates: ``(B, K, 2)`` (or ``(B, K, 3)``, v ignored) previous estimates in pixels
            (pixel centres at integers, x = column).
        displacement: ``(B, K, 2)`` the refiner's output ``u``, in units of the crop side.
        diam: ``(B,)`` torso diameter per image, in pixels; sigma: σ_c, the crop side in diameters.
    Returns:
        ``(boxes, refined)``: ``(B, K, 4)`` float ``[x0, y0, x1, y1]`` = estimate ∓ σ_c·diam / 2
        (pixel-area edges, as ``CascadeExplorer``'s boxes), and ``(B, K, 2)`` float
        ``estimate + u · σ_c · diam``.
    """
    est = np.asarray(estimates, np.float64)[..., :2]
    u = np.asarray(displacement, np.float64)
    side = sigma * np.asarray(diam, np.float64).reshape(-1, 1, 1)
    boxes = np.concatenate([est - side / 2, est + side / 2], axis=-1)
    return boxes, est + u * side


def _step_inputs(est, u, diam, sigma) -> dict:
    return {
        "inputs": (
            np.array(est, np.float64)[..., :2],
            np.array(u, np.float64),
            np.array(diam, np.float64),
            float(sigma),
        )
    }


def _step_mistakes(expected, got, inputs=None, **ctx):
    """Half-side, σ forgotten, displacement left in crop units, x/y swapped, reversed sign,
    diam over the x/y columns; told apart on the boxes (last axis 4) or the joints (2)."""
    if inputs is None or got.shape != expected.shape or expected.shape[-1] not in (2, 4):
        return None
    est, u, diam, sigma = inputs
    d = diam.reshape(-1, 1, 1)

    def box(half, centre=est):
        return np.concatenate([centre - half, centre + half], axis=-1)

    if expected.shape[-1] == 4:
        side = sigma * d
        mistakes = [
            (
                box(side),
                "Your boxes are twice too large: sigma * diam is the box's whole side, so "
                "each edge lies sigma * diam / 2 from the estimate.",
            ),
            (
                box(side / 4),
                "Your boxes are twice too small: the side is sigma * diam, so the half-side "
                "is sigma * diam / 2 (not sigma * diam / 4).",
            ),
            (
                box(d / 2),
                "Your boxes have side diam: you forgot sigma. The crop side is sigma * diam.",
            ),
            (
                box(side / 2, est[..., ::-1]),
                "It looks like x and y are swapped: boxes are [x0, y0, x1, y1] with x the "
                "column, estimates are (x, y).",
            ),
            (
                np.concatenate([est - side / 2, np.broadcast_to(side, est.shape)], axis=-1),
                "The last two numbers of a box are its far corner (x1, y1), not its width and "
                "height: [x0, y0, x1, y1] = [x - side/2, y - side/2, x + side/2, y + side/2].",
            ),
        ]
        if len(diam) == 2:
            mistakes.append(
                (
                    box(sigma * diam / 2),
                    "diam has one value per image, but it scaled the x and y columns instead: "
                    "(B, K, 2) * (B,) broadcasts over the last axis. Reshape it to (B, 1, 1), "
                    "e.g. diam[:, None, None].",
                )
            )
    else:
        mistakes = [
            (
                est + u,
                "You added the displacement in crop units: u is measured in units of the "
                "crop side, so scale it back to pixels first: estimate + u * sigma * diam.",
            ),
            (
                est + u * d,
                "You scaled the displacement by diam only: the crop side is sigma * diam, "
                "so the refined joint is estimate + u * sigma * diam.",
            ),
            (
                est + u * sigma * d / 2,
                "Your correction is half as large as it should be: u is in units of the whole "
                "crop side sigma * diam, not of its half.",
            ),
            (
                est + 2 * u * sigma * d,
                "Your correction is twice too large: u is in units of the crop side "
                "sigma * diam (a joint on the crop's edge has |u| = 0.5), not of its half.",
            ),
            (
                est + u[..., ::-1] * sigma * d,
                "It looks like x and y of the displacement are swapped: u[..., 0] moves x "
                "(the column), u[..., 1] moves y (the row).",
            ),
            (
                est - u * sigma * d,
                "Your correction has the opposite sign: u = (y - estimate) / (sigma * diam), "
                "so the refined joint is estimate + u * sigma * diam.",
            ),
        ]
        if len(diam) == 2:
            mistakes.append(
                (
                    est + u * sigma * diam,
                    "diam has one value per image, but it scaled the x and y columns instead: "
                    "(B, K, 2) * (B,) broadcasts over the last axis. Reshape it to (B, 1, 1), "
                    "e.g. diam[:, None, None].",
                )
            )
    for wrong, hint in mistakes:
        wrong = np.broadcast_to(wrong, expected.shape)
        if close(got, wrong, ctx) and not close(wrong, expected, ctx):
            return hint
    return None


def _step_case(seed: int, b: int, k: int):
    rng = np.random.default_rng(seed)
    est = _people(seed, b, k, 128, 128)[..., :2]
    u = rng.uniform(-0.5, 0.5, (b, k, 2)).round(3)
    diam = rng.uniform(25, 45, b).round(2)
    return est, u, diam


def check_cascade_step(fn):
    """Exercise 1.4: boxes ``[x - σ_c·d/2, y - σ_c·d/2, x + σ_c·d/2, y + σ_c·d/2]`` around each
    estimate and refined joints ``estimate + u · σ_c · diam``, one diam per image."""
    e1 = np.array([[[60.0, 40.0]]])
    u1 = np.array([[[0.25, 0.0]]])
    d1 = np.array([40.0])
    e2 = np.array([[[30.0, 70.0], [50.0, 20.0]]])
    u2 = np.array([[[0.1, -0.3], [-0.2, 0.4]]])
    d2 = np.array([20.0])
    e3, u3, d3 = _step_case(41, 2, 16)
    e4, u4, d4 = _step_case(42, 5, 14)
    cases = [
        Case(
            (e1, u1, d1, 1.0),
            label="one joint, u = (0.25, 0): a quarter of a 40 px crop to the right",
            ctx=_step_inputs(e1, u1, d1, 1.0),
        ),
        Case(
            (e2, u2, d2, 1.5),
            label="two joints, diam 20, sigma 1.5",
            ctx=_step_inputs(e2, u2, d2, 1.5),
        ),
        Case(
            (e3, u3, d3, 2.5),
            label="2 images, 16 joints, sigma 2.5",
            ctx=_step_inputs(e3, u3, d3, 2.5),
        ),
        Case(
            (e4, u4, d4, 1.0),
            label="5 images, 14 joints, sigma 1",
            ctx=_step_inputs(e4, u4, d4, 1.0),
        ),
    ]
    return check_function(
        fn,
        "cascade_step",
        cases,
        reference=reference_cascade_step,
        forbid=(DeepPoseCascade.refine_stage,),
        diagnoses=[_step_mistakes],
        atol=1e-5,
    )


register_reference("to_box_frame", reference_to_box_frame)
register_reference("l2_loss", reference_l2_loss)
register_reference("displacement_target", reference_displacement_target)
register_reference("cascade_step", reference_cascade_step)

"""Lesson 01's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic mistakes with the right hint."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from test_checks import forbidden_call_tests

from posekit import checks
from posekit.checks import lesson01 as L
from posekit.codecs import regression
from posekit.models.deeppose import DeepPose, DeepPoseCascade


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# ----------------------------------------------------------------- 1.1 to_box_frame


# --------------------------------------------------------------- student-style solutions


def to_box_frame(keypoints, center, size):
    kp = np.array(keypoints, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    kp[..., :2] = (kp[..., :2] - center) / size
    return kp


def l2_loss(pred, target, weight):
    pred = pred.reshape(target.shape)
    squared = ((pred - target) ** 2).sum(dim=-1)
    return (weight * squared).sum() / target.shape[0]


def displacement_target(gt, estimates, diam, sigma):
    gt = np.asarray(gt, dtype=np.float64)
    side = sigma * np.asarray(diam, dtype=np.float64)[:, None, None]
    return (gt[..., :2] - np.asarray(estimates, dtype=np.float64)) / side


def cascade_step(estimates, displacement, diam, sigma):
    estimates = np.asarray(estimates, dtype=np.float64)[..., :2]
    side = sigma * np.asarray(diam, dtype=np.float64)[:, None, None]
    boxes = np.concatenate([estimates - side / 2, estimates + side / 2], axis=-1)
    return boxes, estimates + np.asarray(displacement, dtype=np.float64) * side


SOLUTIONS = {
    "to_box_frame": to_box_frame,
    "l2_loss": l2_loss,
    "displacement_target": displacement_target,
    "cascade_step": cascade_step,
}


def _split(kp):
    kp = np.asarray(kp, np.float64)
    return kp[..., :2], kp[..., 2:]


def _join(xy, rest):
    return np.concatenate([xy, rest], axis=-1)


def box_wh_swapped(kp, center, size):
    xy, rest = _split(kp)
    return _join((xy - center) / np.asarray(size, np.float64)[..., ::-1], rest)


def box_not_centred(kp, center, size):
    xy, rest = _split(kp)
    return _join(xy / size, rest)


def box_to_minus_one_one(kp, center, size):
    xy, rest = _split(kp)
    return _join((xy - center) / (np.asarray(size) / 2), rest)


def box_reversed_subtraction(kp, center, size):
    xy, rest = _split(kp)
    return _join((np.asarray(center) - xy) / size, rest)


def box_drops_v(kp, center, size):
    xy, _ = _split(kp)
    return (xy - center) / size


# ----------------------------------------------------------------- 1.2 l2_loss


def _sq(pred, target):
    return ((pred.reshape(target.shape) - target) ** 2).sum(-1)


def loss_unweighted(pred, target, weight):
    return _sq(pred, target).sum() / target.shape[0]


def loss_mse_mean(pred, target, weight):
    return (weight[..., None] * (pred.reshape(target.shape) - target) ** 2).mean()


def loss_not_squared(pred, target, weight):
    return (weight * _sq(pred, target).sqrt()).sum() / target.shape[0]


def loss_reshaped_b2k(pred, target, weight):
    b, k = target.shape[:2]
    p = pred.reshape(b, 2, k).transpose(1, 2) if pred.ndim == 2 else pred
    return (weight * ((p - target) ** 2).sum(-1)).sum() / b


def loss_per_labelled_joint(pred, target, weight):
    return (weight * _sq(pred, target)).sum() / weight.sum()


def loss_summed_over_batch(pred, target, weight):
    return (weight * _sq(pred, target)).sum()


def loss_as_python_float(pred, target, weight):
    return float((weight * _sq(pred, target)).sum().detach() / target.shape[0])


def loss_item(pred, target, weight):
    return ((weight * _sq(pred, target)).sum() / target.shape[0]).item()


def loss_detached(pred, target, weight):
    return l2_loss(pred, target, weight).detach()


def loss_under_no_grad(pred, target, weight):
    with torch.no_grad():
        return l2_loss(pred, target, weight)


# ----------------------------------------------------------------- 1.3 displacement_target


def target_without_sigma(gt, est, diam, sigma):
    return (np.asarray(gt)[..., :2] - est) / np.asarray(diam).reshape(-1, 1, 1)


def target_half_side(gt, est, diam, sigma):
    return (np.asarray(gt)[..., :2] - est) / (sigma * np.asarray(diam).reshape(-1, 1, 1) / 2)


def target_diam_over_xy(gt, est, diam, sigma):
    return (np.asarray(gt)[..., :2] - est) / (sigma * np.asarray(diam))


def target_reversed(gt, est, diam, sigma):
    return (est - np.asarray(gt)[..., :2]) / (sigma * np.asarray(diam).reshape(-1, 1, 1))


def target_keeps_v(gt, est, diam, sigma):
    out = np.array(gt, np.float64)
    out[..., :2] = (out[..., :2] - est) / (sigma * np.asarray(diam).reshape(-1, 1, 1))
    return out


# ----------------------------------------------------------------- 1.4 cascade_step


def _step(est, u, diam, sigma, *, half=0.5, scale=1.0, swap=False, per_image=True, sign=1.0):
    est = np.asarray(est, np.float64)[..., :2]
    u = np.asarray(u, np.float64)
    d = np.asarray(diam, np.float64)
    side = sigma * (d.reshape(-1, 1, 1) if per_image else d)
    centre = est[..., ::-1] if swap else est
    boxes = np.concatenate([centre - half * side, centre + half * side], axis=-1)
    return boxes, est + sign * scale * u * side


def step_box_half_side(est, u, diam, sigma):  # sigma * diam used as the half-side
    return _step(est, u, diam, sigma, half=1.0)


def step_box_quarter(est, u, diam, sigma):  # sigma * diam / 2 used as the side
    return _step(est, u, diam, sigma, half=0.25)


def step_box_without_sigma(est, u, diam, sigma):
    return _step(est, u, diam, 1.0)[0], _step(est, u, diam, sigma)[1]


def step_box_xy_swapped(est, u, diam, sigma):
    return _step(est, u, diam, sigma, swap=True)


def step_box_width_height(est, u, diam, sigma):
    boxes, refined = _step(est, u, diam, sigma)
    side = sigma * np.asarray(diam, np.float64).reshape(-1, 1, 1)
    boxes[..., 2:] = side
    return boxes, refined


def step_crop_units(est, u, diam, sigma):
    boxes, _ = _step(est, u, diam, sigma)
    return boxes, np.asarray(est, np.float64)[..., :2] + u


def step_without_sigma(est, u, diam, sigma):
    return _step(est, u, diam, sigma)[0], _step(est, u, diam, 1.0)[1]


def step_half_side(est, u, diam, sigma):
    return _step(est, u, diam, sigma)[0], _step(est, u, diam, sigma, scale=0.5)[1]


def step_double_side(est, u, diam, sigma):
    return _step(est, u, diam, sigma)[0], _step(est, u, diam, sigma, scale=2.0)[1]


def step_u_swapped(est, u, diam, sigma):
    return _step(est, np.asarray(u)[..., ::-1], diam, sigma)


def step_reversed(est, u, diam, sigma):
    return _step(est, u, diam, sigma, sign=-1.0)


def step_diam_over_xy(est, u, diam, sigma):
    boxes, _ = _step(est, u, diam, sigma)
    return boxes, _step(est, u, diam, sigma, per_image=False)[1]


def step_box_diam_over_xy(est, u, diam, sigma):
    return _step(est, u, diam, sigma, per_image=False)[0], _step(est, u, diam, sigma)[1]


def test_student_style_solutions_pass():
    for name, solution in SOLUTIONS.items():
        assert getattr(L, f"check_{name}")(solution).status == "PASS", name


# --------------------------------------------------------- calling posekit's own implementation


def _cascade(sigma):
    """What a stub needs to borrow DeepPoseCascade's methods (they are stopped on entry)."""
    return SimpleNamespace(sigma=sigma, crop_size=8, skeleton="lsp14")


def target_via_cascade(gt, estimates, diam, sigma):
    images = torch.zeros(len(gt), 3, 16, 16)
    out = DeepPoseCascade.training_samples(_cascade(sigma), images, gt, estimates, diam)
    return out[2].reshape(len(gt), -1, 2).numpy()


def step_via_cascade(estimates, displacement, diam, sigma):
    images = torch.zeros(len(estimates), 3, 16, 16)
    est = torch.as_tensor(np.asarray(estimates)[..., :2])
    return DeepPoseCascade.refine_stage(_cascade(sigma), 2, images, est)


POSEKIT_STUBS = [
    (
        "to_box_frame",
        lambda kp, center, size: regression.to_box_frame(kp, center, size),
        "posekit.geometry.to_box_frame",
    ),
    (
        "l2_loss",
        lambda pred, target, weight: regression.l2_loss(pred, target, weight),
        "posekit.codecs.regression.l2_loss",
    ),
    (
        "displacement_target",
        target_via_cascade,
        "posekit.models.deeppose.DeepPoseCascade.training_samples",
    ),
    ("cascade_step", step_via_cascade, "posekit.models.deeppose.DeepPoseCascade.refine_stage"),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


@pytest.mark.parametrize(
    "check,wrong,hint",
    [
        (L.check_to_box_frame, box_wh_swapped, "divided x by the box height"),
        (L.check_to_box_frame, box_not_centred, "did not subtract the box centre"),
        (L.check_to_box_frame, box_to_minus_one_one, "[-1, 1]"),
        (L.check_to_box_frame, box_reversed_subtraction, "opposite sign"),
        (L.check_to_box_frame, box_drops_v, "keep the visibility flag"),
        (L.check_l2_loss, loss_unweighted, "multiply each joint's squared distance by its"),
        (L.check_l2_loss, loss_mse_mean, "like F.mse_loss"),
        (L.check_l2_loss, loss_not_squared, "no square root"),
        (L.check_l2_loss, loss_reshaped_b2k, "not to (B, 2, K)"),
        (L.check_l2_loss, loss_per_labelled_joint, "number of labelled joints"),
        (L.check_l2_loss, loss_summed_over_batch, "divide by the number of images B"),
        (L.check_l2_loss, loss_as_python_float, "the loss carries no gradient"),
        (L.check_l2_loss, loss_item, "no .item(), float() or .detach()"),
        (L.check_l2_loss, loss_detached, "the loss carries no gradient"),
        (L.check_l2_loss, loss_under_no_grad, "the loss carries no gradient"),
        (L.check_displacement_target, target_without_sigma, "divided by diam only"),
        (L.check_displacement_target, target_half_side, "not by half of it"),
        (L.check_displacement_target, target_diam_over_xy, "diam[:, None, None]"),
        (L.check_displacement_target, target_reversed, "opposite sign"),
        (L.check_displacement_target, target_keeps_v, "leave out the v column"),
        (L.check_cascade_step, step_box_half_side, "boxes are twice too large"),
        (L.check_cascade_step, step_box_quarter, "boxes are twice too small"),
        (L.check_cascade_step, step_box_without_sigma, "side diam: you forgot sigma"),
        (L.check_cascade_step, step_box_xy_swapped, "x and y are swapped"),
        (L.check_cascade_step, step_box_width_height, "not its width and"),
        (L.check_cascade_step, step_box_diam_over_xy, "diam[:, None, None]"),
        (L.check_cascade_step, step_crop_units, "in crop units"),
        (L.check_cascade_step, step_without_sigma, "by diam only"),
        (L.check_cascade_step, step_half_side, "half as large"),
        (L.check_cascade_step, step_double_side, "twice too large: u is in units"),
        (L.check_cascade_step, step_u_swapped, "displacement are swapped"),
        (L.check_cascade_step, step_reversed, "opposite sign"),
        (L.check_cascade_step, step_diam_over_xy, "diam[:, None, None]"),
    ],
)
def test_classic_mistakes_fail_with_their_hint(check, wrong, hint, capsys):
    result = check(wrong)
    assert result.status == "FAIL"
    assert hint in capsys.readouterr().out


def test_the_edges_of_a_box_map_to_plus_minus_a_half():
    # an 80 x 60 box covering columns 10..89 and rows 0..59: centre (49.5, 29.5)
    kp = np.array([[[-0.5, -0.5, 2], [89.5, 59.5, 2], [49.5, 29.5, 1]]], np.float32)
    out = L.reference_to_box_frame(kp, (49.5, 29.5), (80.0, 60.0))
    np.testing.assert_allclose(out[0, 2], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(out[0, 1, :2], [0.5, 0.5])


def test_displacement_target_matches_the_cascade_training_samples():
    torch.manual_seed(0)
    stage1 = DeepPose(16, input_size=64, width_mult=0.125, fc_dim=32)
    cascade = DeepPoseCascade(stage1, num_stages=2, sigma=1.5, crop_size=40, skeleton="mpii16")
    gt, est, _ = L._cascade_case(5, 2, 16)
    gt[..., 2] = 2  # every joint labelled: the torso diameter exists
    images = torch.zeros(2, 3, 64, 64)
    _, _, targets, _ = cascade.training_samples(images, gt, est)
    from posekit.models.deeppose import torso_diameter

    diam = torso_diameter(gt, "mpii16")
    mine = L.reference_displacement_target(gt, est, diam, 1.5)
    np.testing.assert_allclose(targets.numpy().reshape(2, 16, 2), mine, rtol=1e-5, atol=1e-5)


def test_loss_reference_is_differentiable():
    pred, target, weight = L._loss_case(1, 4, 16, drop=0.2)
    pred.requires_grad_(True)
    loss = L.reference_l2_loss(pred, target, weight)
    loss.backward()
    assert pred.grad is not None and pred.grad.shape == pred.shape


def test_loss_check_passes_a_right_loss_even_under_no_grad():
    with torch.no_grad():
        assert L.check_l2_loss(l2_loss).status == "PASS"


def test_use_falls_back_to_the_reference_for_a_stub(capsys):
    def stub(*args):
        raise NotImplementedError

    assert L.check_displacement_target(stub).status == "TODO"
    assert checks.use(stub, "displacement_target") is L.reference_displacement_target
    assert "reference" in capsys.readouterr().out


def test_cascade_step_matches_the_cascade_refine_stage():
    torch.manual_seed(0)
    stage1 = DeepPose(16, input_size=64, width_mult=0.125, fc_dim=32)
    cascade = DeepPoseCascade(stage1, num_stages=2, sigma=1.5, crop_size=40, skeleton="mpii16")
    cascade.eval()
    images = torch.randn(2, 3, 64, 64)
    est, _, _ = L._step_case(6, 2, 16)
    est_t = torch.as_tensor(est, dtype=torch.float32)
    from posekit.models.deeppose import joint_crops

    with torch.no_grad():
        refined = cascade.refine_stage(2, images, est_t)
        diam = cascade.diameter(est_t, images)
        crops, _ = joint_crops(images, est_t, diam, cascade.sigma, cascade.crop_size)
        u = cascade.refiners[0](crops, torch.arange(16).repeat(2)).view(2, 16, 2)
    boxes, mine = L.reference_cascade_step(est, u.numpy(), diam.numpy(), cascade.sigma)
    np.testing.assert_allclose(mine, refined.numpy(), rtol=1e-4, atol=1e-3)
    side = boxes[..., 2:] - boxes[..., :2]
    np.testing.assert_allclose(side, 1.5 * diam.numpy()[:, None, None] * np.ones((1, 16, 2)))


def test_cascade_step_stub_is_todo_and_a_raising_function_fails():
    def stub(*args):
        raise NotImplementedError

    def broken(*args):
        raise ValueError("oops")

    assert L.check_cascade_step(stub).status == "TODO"
    assert checks.use(stub, "cascade_step") is L.reference_cascade_step
    assert L.check_cascade_step(broken).status == "FAIL"

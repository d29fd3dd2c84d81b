"""Lesson 05's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic E-swish, MBConv/SE and compound-scaling mistakes with the
right hint; the references agree with posekit's models, and the torch errors of a misplaced
residual or squeeze are explained."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_checks import forbidden_call_tests

from posekit import checks
from posekit.checks import lesson05 as L
from posekit.models.efficientnet import MBConv, SqueezeExcitation
from posekit.models.efficientnet import round_filters as posekit_round_filters
from posekit.models.efficientnet import round_repeats as posekit_round_repeats
from posekit.models.efficientpose import ESwish
from posekit.models.efficientpose import eswish as posekit_eswish
from posekit.models.optimize import randomise_batchnorm


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# --------------------------------------------------------------- student-style solutions


def eswish(x, beta=1.25):
    return beta * x / (1 + torch.exp(-x))


def mbconv_se(x, expand, depthwise, se_reduce, se_expand, project):
    h = F.silu(expand[1](expand[0](x)))
    h = F.silu(depthwise[1](depthwise[0](h)))
    s = torch.mean(h, dim=(2, 3), keepdim=True)
    s = torch.sigmoid(se_expand(F.silu(se_reduce(s))))
    out = project[1](project[0](h * s))
    if depthwise[0].stride == (1, 1) and x.shape[1] == out.shape[1]:
        out = out + x
    return out


def compound_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    d, w, r = alpha**phi, beta**phi, gamma**phi
    return d, w, r, d * w**2 * r**2


def round_filters(channels, width_mult, divisor=8):
    c = channels * width_mult
    new = max(divisor, int(c + divisor / 2) // divisor * divisor)
    if new < 0.9 * c:
        new += divisor
    return new


def round_repeats(repeats, depth_mult):
    return math.ceil(repeats * depth_mult)


def test_student_style_solutions_pass():
    assert L.check_eswish(eswish).status == "PASS"
    assert L.check_mbconv_se(mbconv_se).status == "PASS"
    assert L.check_compound_multipliers(compound_multipliers).status == "PASS"
    assert L.check_round_filters(round_filters).status == "PASS"
    assert L.check_round_repeats(round_repeats).status == "PASS"


def test_other_right_forms_pass():
    assert L.check_eswish(lambda x, beta=1.25: beta * F.silu(x)).status == "PASS"
    as_list = lambda *a, **k: list(compound_multipliers(*a, **k))  # noqa: E731
    assert L.check_compound_multipliers(as_list).status == "PASS"
    np_int = lambda *a, **k: np.int64(round_filters(*a, **k))  # noqa: E731
    assert L.check_round_filters(np_int).status == "PASS"

    def by_shape(x, expand, depthwise, se_reduce, se_expand, project):
        out = mbconv_se(x, expand, depthwise, se_reduce, se_expand, project)
        return out - x if out.shape == x.shape and depthwise[0].stride == (1, 1) else out

    def residual_by_shape(*args):
        out = by_shape(*args)
        return out + args[0] if out.shape == args[0].shape else out

    assert L.check_mbconv_se(residual_by_shape).status == "PASS"


SOLUTIONS = {
    "eswish": eswish,
    "mbconv_se": mbconv_se,
    "compound_multipliers": compound_multipliers,
    "round_filters": round_filters,
    "round_repeats": round_repeats,
}


# --------------------------------------------------------- calling posekit's own implementation


def mbconv_via_block(x, expand, depthwise, se_reduce, se_expand, project):
    block = SimpleNamespace(block=None, use_residual=x.shape[1] == project[0].out_channels)
    return MBConv.forward(block, x)


def mbconv_with_posekits_se(x, expand, depthwise, se_reduce, se_expand, project):
    h = F.silu(depthwise[1](depthwise[0](F.silu(expand[1](expand[0](x))))))
    h = SqueezeExcitation.forward(SimpleNamespace(fc1=se_reduce, fc2=se_expand), h)
    out = project[1](project[0](h))
    return out + x if out.shape == x.shape else out


POSEKIT_STUBS = [
    (
        "eswish",
        lambda x, beta=1.25: posekit_eswish(x, beta),
        "posekit.models.efficientpose.eswish",
    ),
    ("eswish", lambda x, beta=1.25: ESwish(beta)(x), "posekit.models.efficientpose.ESwish.forward"),
    ("mbconv_se", mbconv_via_block, "posekit.models.efficientnet.MBConv.forward"),
    ("mbconv_se", mbconv_with_posekits_se, "posekit.models.efficientnet.SqueezeExcitation.forward"),
    (  # no posekit model function computes the multipliers: the reference's import path
        "compound_multipliers",
        lambda phi, **kwargs: L.reference_compound_multipliers(phi, **kwargs),
        "posekit.checks.lesson05.reference_compound_multipliers",
    ),
    ("round_filters", posekit_round_filters, "posekit.models.efficientnet.round_filters"),
    (
        "round_filters",
        lambda channels, width_mult, divisor=8: posekit_round_filters(
            channels, width_mult, divisor
        ),
        "posekit.models.efficientnet.round_filters",
    ),
    ("round_repeats", posekit_round_repeats, "posekit.models.efficientnet.round_repeats"),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


# --------------------------------------------------------------- references vs posekit


def test_eswish_reference_hand_values():
    x = torch.tensor([-1.0, 0.0, 2.0])
    sig = 1 / (1 + np.exp(-np.array([-1.0, 0.0, 2.0])))
    np.testing.assert_allclose(L.reference_eswish(x).numpy(), 1.25 * x.numpy() * sig, rtol=1e-6)
    torch.testing.assert_close(L.reference_eswish(x, 1.0), F.silu(x))
    assert L.reference_eswish(x.double()).dtype == torch.float64
    assert L.reference_eswish(np.array([1.0, 2.0])).shape == (2,)


def test_mbconv_reference_is_posekits_block_in_eval_mode():
    for case in L._mbconv_cases():
        x = case.args[0]
        block = case.args[1][0]  # the expansion conv; rebuild the module from the layers
        assert isinstance(block, torch.nn.Conv2d)
    # the cases' layers are those of a real MBConv: its forward equals the reference
    for seed, cin, cout, k, s in ((1, 8, 8, 3, 1), (2, 8, 16, 5, 2), (3, 16, 16, 5, 1)):
        torch.manual_seed(seed)
        block = randomise_batchnorm(MBConv(cin, cout, k, s, 6), seed).eval()
        x = torch.randn(2, cin, 7, 6)
        with torch.no_grad():
            torch.testing.assert_close(L.reference_mbconv_se(x, **L.mbconv_layers(block)),
                                       block(x))  # fmt: skip
        assert block.use_residual == (s == 1 and cin == cout)


def test_mbconv_cases_cover_both_residual_kinds_and_are_not_trivial():
    shapes = []
    for case in L._mbconv_cases():
        with torch.no_grad():
            out = L.reference_mbconv_se(*case.args)
        shapes.append(out.shape == case.args[0].shape)
        assert out.abs().mean() > 0.05  # BN with random statistics: not the identity
    assert shapes[0] and not shapes[1] and not shapes[2] and True in shapes[3:]


def test_scaling_references_agree_with_efficientnet():
    for c in (8, 10, 16, 24, 32, 40, 80, 112, 192, 320, 1280):
        for w in (1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0):
            assert L.reference_round_filters(c, w) == posekit_round_filters(c, w)
    assert L.reference_round_filters(40, 1.1) == 48 and L.reference_round_filters(10, 1.1) == 16
    assert L.reference_round_filters(26, 2.0) == 56  # a tie rounds up, not to even
    assert L.reference_round_repeats(2, 1.1) == 3 and L.reference_round_repeats(2, 1.5) == 3
    d, w, r, f = L.reference_compound_multipliers(1)
    assert (d, w, r) == (1.2, 1.1, 1.15) and f == pytest.approx(1.92027, abs=1e-5)
    assert L.reference_compound_multipliers(0) == (1.0, 1.0, 1.0, 1.0)
    # α·β²·γ² ≈ 2: the FLOPs double with each step of φ, roughly
    assert L.reference_compound_multipliers(7)[3] == pytest.approx(2**7, rel=0.3)


def test_scaling_table_compares_predicted_and_measured():
    rows = L.scaling_table((0, 1, 7))
    assert [r["variant"] for r in rows] == ["b0", "b1", "b7"]
    b0, b1, b7 = rows
    assert b0["measured_ratio"] == 1.0 and b0["gmacs"] == pytest.approx(0.386, abs=0.01)
    assert b7["gmacs"] == pytest.approx(37.7, rel=0.02)  # the paper's 37 B multiply-adds
    # published multipliers are not α^φ: B7 has d = 3.1 where α^7 = 3.58
    assert b7["pub_depth"] == 3.1 and b7["depth"] == pytest.approx(3.583, abs=1e-3)
    assert b7["resolution"] == pytest.approx(596, abs=1) and b7["pub_resolution"] == 600
    # the measured ratio is near both predictions but equals neither
    assert 80 < b7["measured_ratio"] < 110 and b7["flops_ratio"] == pytest.approx(96.2, abs=0.1)
    assert abs(b7["measured_ratio"] - b7["flops_ratio"]) > 0.5
    text = L.format_scaling_table(rows)
    assert text.count("\n") == 4 and "| 7 |" in text
    with pytest.raises(ValueError, match="phis"):
        L.scaling_table((8,))


def test_references_reject_bad_input():
    with pytest.raises(ValueError, match="beta"):
        L.reference_eswish(torch.zeros(3), "1.25")
    with pytest.raises(ValueError, match="x:"):
        L.reference_eswish(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="x:"):
        L.reference_eswish("tensor")
    args = L._mbconv_cases()[0].args
    with pytest.raises(ValueError, match="x:"):
        L.reference_mbconv_se(args[0][0], *args[1:])
    with pytest.raises(ValueError, match="x:"):
        L.reference_mbconv_se(torch.zeros(1, 3, 5, 5), *args[1:])
    with pytest.raises(ValueError, match="expand"):
        L.reference_mbconv_se(args[0], args[1][0], *args[2:])
    with pytest.raises(ValueError, match="se_reduce"):
        L.reference_mbconv_se(*args[:3], None, *args[4:])
    with pytest.raises(ValueError, match="phi"):
        L.reference_compound_multipliers(float("nan"))
    with pytest.raises(ValueError, match="gamma"):
        L.reference_compound_multipliers(1, gamma=0)
    with pytest.raises(ValueError, match="channels"):
        L.reference_round_filters(40.0, 1.1)
    with pytest.raises(ValueError, match="width_mult"):
        L.reference_round_filters(40, -1)
    with pytest.raises(ValueError, match="divisor"):
        L.reference_round_filters(40, 1.1, 0)
    with pytest.raises(ValueError, match="repeats"):
        L.reference_round_repeats(True, 1.1)
    with pytest.raises(ValueError, match="depth_mult"):
        L.reference_round_repeats(2, None)
    with pytest.raises(ValueError, match="MBConv"):
        L.mbconv_layers(torch.nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match="expansion"):
        L.mbconv_layers(MBConv(8, 8, 3, 1, expand=1))


# --------------------------------------------------------------- classic mistakes


def _eswish_wrong(f):
    return lambda x, beta=1.25: f(x, beta)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_eswish_wrong(lambda x, b: x * torch.sigmoid(b * x)), "β is inside the sigmoid"),
        (_eswish_wrong(lambda x, b: x * torch.sigmoid(x)), "β is missing"),
        (_eswish_wrong(lambda x, b: b * x * torch.sigmoid(b * x)), "β is applied twice"),
        (_eswish_wrong(lambda x, b: b * torch.sigmoid(x)), "The factor x is missing"),
        (_eswish_wrong(lambda x, b: b * x / (1 + torch.exp(x))), "sign is flipped"),
        (_eswish_wrong(lambda x, b: b * F.relu(x)), "β · ReLU(x)"),
        (_eswish_wrong(lambda x, b: F.relu(x)), "That is ReLU(x)"),
        (_eswish_wrong(lambda x, b: b * x * torch.exp(x) / (1 + torch.exp(x))), "NaN for large"),
    ],
)
def test_eswish_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_eswish(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def _mb(**options):
    return lambda *args: L._mbconv(*args, **options)


def squeeze_over_channels(x, expand, depthwise, se_reduce, se_expand, project):
    h = F.silu(depthwise[1](depthwise[0](F.silu(expand[1](expand[0](x))))))
    s = h.mean(dim=1, keepdim=True)
    return project[1](project[0](h * torch.sigmoid(se_expand(F.silu(se_reduce(s))))))


def squeeze_without_keepdim(x, expand, depthwise, se_reduce, se_expand, project):
    h = F.silu(depthwise[1](depthwise[0](F.silu(expand[1](expand[0](x))))))
    s = h.mean(dim=(2, 3))
    return project[1](project[0](h * torch.sigmoid(se_expand(F.silu(se_reduce(s))))))


def residual_if_stride_1(x, expand, depthwise, se_reduce, se_expand, project):
    out = L._mbconv(x, expand, depthwise, se_reduce, se_expand, project, residual="never")
    return out + x if depthwise[0].stride == (1, 1) else out


def residual_if_same_channels(x, expand, depthwise, se_reduce, se_expand, project):
    out = L._mbconv(x, expand, depthwise, se_reduce, se_expand, project, residual="never")
    return out + x if x.shape[1] == out.shape[1] else out


def stride_compared_to_int(x, expand, depthwise, se_reduce, se_expand, project):
    out = L._mbconv(x, expand, depthwise, se_reduce, se_expand, project, residual="never")
    return out + x if depthwise[0].stride == 1 and x.shape[1] == out.shape[1] else out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_mb(residual="always"), "you added the residual"),
        (residual_if_stride_1, "you added the residual"),
        (residual_if_same_channels, "you added the residual"),
        (_mb(residual="never"), "The residual is missing"),
        (stride_compared_to_int, "conv.stride is a tuple"),
        (_mb(act_after_project=True), "activation after the projection"),
        (_mb(act_after_sum=True), "activation after the residual sum"),
        (_mb(gate="none"), "gate has no sigmoid"),
        (_mb(squeeze="w"), "over the width only"),
        (_mb(squeeze="h"), "over the height only"),
        (_mb(squeeze="none"), "The squeeze is missing"),
        (_mb(squeeze="max"), "takes the maximum"),
        (squeeze_over_channels, "averaged over the channels"),
        (squeeze_without_keepdim, "keepdim=True"),
        (_mb(se_act="relu"), "inner activation is ReLU"),
        (_mb(act="relu6"), "ReLU6"),
        (_mb(no_act="expand"), "after the expansion is missing"),
        (_mb(no_act="depthwise"), "after the depthwise convolution is missing"),
    ],
)
def test_mbconv_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_mbconv_se(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_residual_error_names_the_shapes_and_the_students_line(capsys):
    result = L.check_mbconv_se(residual_if_stride_1)
    assert result.case == 2  # 8 → 12 channels at stride 1
    out = capsys.readouterr().out
    assert "(1, 12, 5, 5) and x (1, 8, 5, 5)" in out and "of residual_if_stride_1" in out
    result = L.check_mbconv_se(residual_if_same_channels)
    assert result.case == 3  # stride 2
    assert "(1, 8, 3, 3) and x (1, 8, 6, 6)" in capsys.readouterr().out


def test_an_unrelated_torch_error_is_left_as_it_is(capsys):
    def broken(x, expand, depthwise, se_reduce, se_expand, project):
        return torch.zeros(2, 3) + torch.zeros(4, 5)

    assert L.check_mbconv_se(broken).status == "FAIL"
    out = capsys.readouterr().out
    assert "must match the size" in out and "you added the residual" not in out


def _mult(**options):
    return lambda *a, **k: L._multipliers(*a, **k, **options)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_mult(flops="none"), "forgot the squares"),
        (_mult(flops="depth"), "squares are on the wrong factor"),
        (_mult(flops="two"), "approximation 2^φ"),
        (_mult(linear=True), "grow linearly"),
        (_mult(swap=True), "Width and resolution are swapped"),
        (_mult(pixels=True), "in pixels"),
    ],
)
def test_multiplier_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_compound_multipliers(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def _filt(**options):
    return lambda *a, **k: L._filters(*a, **k, **options)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_filt(rounding="down", rule=False), "rounded down (int(c) // 8 · 8): round"),
        (_filt(rounding="down"), "rounded down (int(c) // 8 · 8)"),
        (_filt(rule=False), "10 % rule is missing"),
        (_filt(rounding="up"), "rounded up (ceil)"),
        (_filt(rounding="python"), "halves to even"),
        (_filt(rounding="none"), "Not rounded"),
    ],
)
def test_round_filters_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_round_filters(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (lambda n, d: int(n * d), "rounded down"),
        (lambda n, d: (n * d) // 1, "rounded down"),
        (lambda n, d: round(n * d), "nearest integer"),
        (lambda n, d: n * d, "Not rounded"),
    ],
)
def test_round_repeats_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_round_repeats(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


# --------------------------------------------------------------- hostile answers


def test_wrong_types_and_shapes_are_explained(capsys):
    assert L.check_eswish(lambda x, beta=1.25: (beta * F.silu(x)).numpy()).status == "FAIL"
    assert "expected a torch.Tensor" in capsys.readouterr().out
    assert L.check_eswish(lambda x, beta=1.25: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert L.check_mbconv_se(lambda x, *layers: x[:, :2]).status == "FAIL"
    assert "wrong shape" in capsys.readouterr().out
    assert L.check_mbconv_se(lambda x, *layers: mbconv_se(x, *layers)[0]).status == "FAIL"
    assert "batch axis" in capsys.readouterr().out
    assert L.check_compound_multipliers(lambda phi, **k: 1.2**phi).status == "FAIL"
    assert "expected a tuple of 4 items" in capsys.readouterr().out
    assert L.check_round_filters(lambda c, w, divisor=8: "48").status == "FAIL"
    assert "expected an int" in capsys.readouterr().out
    assert L.check_round_filters(lambda c, w, divisor=8: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert L.check_round_repeats(lambda n, d: torch.tensor(3)).status == "FAIL"
    assert "expected an int" in capsys.readouterr().out
    assert L.check_eswish(F.silu(torch.zeros(3))).status == "FAIL"
    assert "expected a function" in capsys.readouterr().out
    assert L.check_mbconv_se(42).status == "FAIL"
    assert "expected a function" in capsys.readouterr().out


def test_an_in_place_eswish_is_caught(capsys):
    def in_place(x, beta=1.25):
        return x.mul_(torch.sigmoid(x.clone())).mul_(beta)

    assert L.check_eswish(in_place).status == "FAIL"
    assert "modified its input" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name", ["eswish", "mbconv_se", "compound_multipliers", "round_filters", "round_repeats"]
)
def test_use_falls_back_to_the_reference_for_a_stub(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    check = getattr(L, f"check_{name}")
    assert check(stub).status == "TODO"
    assert checks.use(stub, name) is getattr(L, f"reference_{name}")
    assert "reference" in capsys.readouterr().out


def test_use_keeps_a_passing_student_function():
    assert L.check_mbconv_se(mbconv_se).status == "PASS"
    assert checks.use(mbconv_se) is mbconv_se
    assert checks.reference_for("round_filters") is L.reference_round_filters

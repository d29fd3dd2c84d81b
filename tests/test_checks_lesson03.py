"""Lesson 03's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic hourglass and flip-test mistakes with the right hint."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from test_checks import forbidden_call_tests

from posekit import checks
from posekit.checks import lesson03 as L
from posekit.models import FlipTest, Hourglass, HourglassNet
from posekit.models.flip import flip_heatmaps
from posekit.models.hourglass import Residual
from posekit.skeletons import MPII16


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# --------------------------------------------------------------- student-style solutions


def residual_forward(x, bn_convs, skip):
    out = x
    for bn, conv in bn_convs:
        out = conv(torch.relu(bn(out)))
    return out + skip(x)


def hourglass_forward(x, hg):
    up = hg.up(x)
    low = hg.down(F.max_pool2d(x, kernel_size=2, stride=2))
    if isinstance(hg.inner, Hourglass):
        low = hourglass_forward(low, hg.inner)
    else:
        low = hg.inner(low)
    low = hg.out(low)
    return up + low.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def flip_average(heatmaps, flipped_heatmaps, flip_index):
    back = torch.flip(flipped_heatmaps, dims=[3])[:, flip_index]
    return (heatmaps + back) / 2


def test_student_style_solutions_pass():
    assert L.check_residual_forward(residual_forward).status == "PASS"
    assert L.check_hourglass_forward(hourglass_forward).status == "PASS"
    assert L.check_flip_average(flip_average).status == "PASS"


def test_references_agree_with_the_models():
    torch.manual_seed(0)
    net = HourglassNet(16, num_stacks=1, features=8, depth=2).eval()
    x = torch.randn(2, 8, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(L.reference_hourglass_forward(x, net.hourglasses[0]),
                                   net.hourglasses[0](x))  # fmt: skip
        res = net.stem[1]
        b = res.branch
        torch.testing.assert_close(
            L.reference_residual_forward(
                x[:, :1].repeat(1, 64, 1, 1), [(b[0], b[2]), (b[3], b[5]), (b[6], b[8])], res.skip
            ),  # fmt: skip
            res(x[:, :1].repeat(1, 64, 1, 1)),
        )
        image = torch.randn(1, 3, 64, 64)
        full = HourglassNet(16, num_stacks=1, features=8, depth=2).eval()
        plain, mirror = full(image)[-1], full(image.flip(-1))[-1]
        torch.testing.assert_close(
            L.reference_flip_average(plain, mirror, MPII16.flip_permutation()),
            FlipTest(full, "mpii16")(image),
        )


# --------------------------------------------------------------- classic mistakes


def post_activation(x, bn_convs, skip):
    out = x
    for bn, conv in bn_convs:
        out = torch.relu(bn(conv(out)))
    return out + skip(x)


def no_skip(x, bn_convs, skip):
    out = x
    for bn, conv in bn_convs:
        out = conv(torch.relu(bn(out)))
    return out


def relu_after_sum(x, bn_convs, skip):
    return torch.relu(residual_forward(x, bn_convs, skip))


def test_post_activation_is_stopped_at_the_students_line(capsys):
    # BN is built for the input of its conv: conv → BN cannot even run, and the check says where
    assert L.check_residual_forward(post_activation).status == "FAIL"
    assert "line" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (no_skip, "forgot the skip path"),
        (relu_after_sum, "ReLU after the sum"),
    ],
)
def test_residual_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_residual_forward(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def _hourglass(pool=None, up=None, with_up=True, with_out=True):
    pool = pool or (lambda t: F.max_pool2d(t, 2))
    up = up or (lambda t: F.interpolate(t, scale_factor=2.0))

    def fn(x, hg):
        low = hg.down(pool(x))
        low = fn(low, hg.inner) if isinstance(hg.inner, Hourglass) else hg.inner(low)
        low = hg.out(low) if with_out else low
        return (hg.up(x) if with_up else 0) + up(low)

    return fn


def calls_the_module(x, hg):
    return hg(x)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_hourglass(up=lambda t: F.interpolate(t, scale_factor=2.0, mode="bilinear")),
         "bilinearly"),
        (_hourglass(pool=lambda t: F.avg_pool2d(t, 2)), "average pooling"),
        (_hourglass(with_up=False), "upper branch is missing"),
        (_hourglass(with_out=False), "skipped hg.out"),
        (calls_the_module, "recursively"),
    ],
)  # fmt: skip
def test_hourglass_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_hourglass_forward(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (lambda h, f, idx: (h + f.flip(-1)) / 2, "did not swap left and right"),
        (lambda h, f, idx: (h + f[:, idx]) / 2, "did not mirror the maps back"),
        (lambda h, f, idx: (h + f.flip(-2)[:, idx]) / 2, "along the height"),
        (lambda h, f, idx: h + f.flip(-1)[:, idx], "summed"),
        (
            lambda h, f, idx: (h + torch.roll(f.flip(-1)[:, idx], 1, -1).index_copy(
                -1, torch.tensor([0]), f.flip(-1)[:, idx][..., :1])) / 2,
            "one pixel",
        ),
    ],
)  # fmt: skip
def test_flip_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_flip_average(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("name", ["residual_forward", "hourglass_forward", "flip_average"])
def test_use_falls_back_to_the_reference_for_a_stub(name, capsys):
    def stub(*args):
        raise NotImplementedError

    check = getattr(L, f"check_{name}")
    assert check(stub).status == "TODO"
    assert checks.use(stub, name) is getattr(L, f"reference_{name}")
    assert "reference" in capsys.readouterr().out


# --------------------------------------------------------------- Exercise 3.3


def stacked_forward(x, stem, hourglasses, features, heads, merge_features, merge_heatmaps,
                    targets, loss_fn):  # fmt: skip
    x = stem(x)
    maps_list, total = [], 0
    for i, (hg, feat_layers, head) in enumerate(zip(hourglasses, features, heads, strict=True)):
        feat = feat_layers(hg(x))
        maps = head(feat)
        maps_list.append(maps)
        total = total + loss_fn(maps, targets)
        if i + 1 < len(hourglasses):
            x = x + merge_features[i](feat) + merge_heatmaps[i](maps)
    return maps_list, total


def test_stacked_student_solution_passes():
    assert L.check_stacked_forward(stacked_forward).status == "PASS"


def test_stacked_reference_is_hourglassnets_forward_and_summed_loss():
    from posekit.codecs.heatmap import heatmap_mse_loss

    torch.manual_seed(0)
    net = HourglassNet(5, num_stacks=3, features=8, depth=2, stem_channels=(4, 4)).eval()
    x, targets = torch.randn(2, 3, 32, 32), torch.rand(2, 5, 8, 8)
    with torch.no_grad():
        maps, loss = L.reference_stacked_forward(
            x, **L.stack_parts(net), targets=targets, loss_fn=heatmap_mse_loss
        )
        outs = net(x)
    assert len(maps) == 3
    for ours, theirs in zip(maps, outs, strict=True):
        torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(loss, heatmap_mse_loss(outs, targets))
    with pytest.raises(ValueError, match="HourglassNet"):
        L.stack_parts(torch.nn.Conv2d(1, 1, 1))


def _stacked_wrong(**variant):
    return lambda *args: L._stacked(*args, **variant)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_stacked_wrong(reinject="none"), "same input as this one"),
        (_stacked_wrong(reinject="features"), "Only the features are re-injected"),
        (_stacked_wrong(reinject="maps"), "Only the heatmaps are re-injected"),
        (_stacked_wrong(reinject="replace"), "replaced x instead of adding"),
        (_stacked_wrong(reinject="features_out"), "got the features as they are"),
        (_stacked_wrong(loss="last"), "last stack's only"),
        (_stacked_wrong(loss="mean"), "averaged the stacks' losses"),
    ],
)
def test_stacked_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_stacked_forward(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_stacked_only_the_last_maps_is_refused(capsys):
    def last_only(*args):
        maps, loss = L._stacked(*args)
        return maps[-1], loss

    def last_in_a_list(*args):
        maps, loss = L._stacked(*args)
        return [maps[-1]], loss

    assert L.check_stacked_forward(last_only).status == "FAIL"
    assert "expected a list of 2 items, got torch.Tensor" in capsys.readouterr().out
    assert L.check_stacked_forward(last_in_a_list).status == "FAIL"
    assert "expected 2 items, got 1" in capsys.readouterr().out


def test_stacked_stub_is_todo_and_a_raising_function_fails(capsys):
    def stub(*args):
        raise NotImplementedError

    def broken(*args):
        raise RuntimeError("boom")

    assert L.check_stacked_forward(stub).status == "TODO"
    assert checks.use(stub, "stacked_forward") is L.reference_stacked_forward
    assert L.check_stacked_forward(broken).status == "FAIL"
    assert "boom" in capsys.readouterr().out


SOLUTIONS = {
    "residual_forward": residual_forward,
    "hourglass_forward": hourglass_forward,
    "flip_average": flip_average,
    "stacked_forward": stacked_forward,
}


# --------------------------------------------------------- calling posekit's own implementation


def residual_via_module(x, bn_convs, skip):
    layers = [m for bn, conv in bn_convs for m in (bn, torch.nn.ReLU(), conv)]
    return Residual.forward(SimpleNamespace(skip=skip, branch=torch.nn.Sequential(*layers)), x)


def stacked_via_net(x, stem, hourglasses, features, heads, merge_features, merge_heatmaps,
                    targets, loss_fn):  # fmt: skip
    parts = dict(stem=stem, hourglasses=hourglasses, features=features, heads=heads,
                 merge_features=merge_features, merge_heatmaps=merge_heatmaps)  # fmt: skip
    net = SimpleNamespace(**parts, num_stacks=len(hourglasses), depth=1)
    maps = HourglassNet.forward(net, x)
    return maps, sum(loss_fn(m, targets) for m in maps)


POSEKIT_STUBS = [
    ("residual_forward", residual_via_module, "posekit.models.hourglass.Residual.forward"),
    (
        "hourglass_forward",
        lambda x, hg: Hourglass.forward(hg, x),
        "posekit.models.hourglass.Hourglass.forward",
    ),
    (
        "flip_average",
        lambda h, f, idx: 0.5 * (h + flip_heatmaps(f, idx)),
        "posekit.models.flip.flip_heatmaps",
    ),
    (
        "flip_average",
        lambda h, f, idx: FlipTest.forward(SimpleNamespace(), h),
        "posekit.models.flip.FlipTest.forward",
    ),
    ("stacked_forward", stacked_via_net, "posekit.models.hourglass.HourglassNet.forward"),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


def test_a_solution_built_on_other_posekit_parts_passes():
    """Only the exercise's own implementation is off limits: hourglass_forward runs posekit's
    Residual modules (exercise 3.1's subject) and stacked_forward posekit's Hourglass modules
    (exercise 3.2's), as the lesson intends."""
    assert L.check_hourglass_forward(hourglass_forward).status == "PASS"
    assert L.check_stacked_forward(stacked_forward).status == "PASS"
    assert L.check_residual_forward(residual_forward).status == "PASS"

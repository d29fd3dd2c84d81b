"""VGG and MobileNet v1 backbones (issue 6): published parameter counts checked against hand
arithmetic, layer names, and equivalence with hand-written functional forward passes."""

import pytest
import torch
import torch.nn.functional as F

from posekit.bench import count_macs, count_params
from posekit.models import VGG, MobileNetV1, mobilenet_v1, vgg16, vgg19, vgg19_openpose
from posekit.models.optimize import randomise_batchnorm


def _conv3(cin, cout):  # 3×3 conv with bias
    return cin * cout * 9 + cout


def _vgg_trunk_params(blocks):
    n, cin = 0, 3
    for width, convs in zip((64, 128, 256, 512, 512), blocks, strict=True):
        for _ in range(convs):
            n, cin = n + _conv3(cin, width), width
    return n


VGG_CLASSIFIER = (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)


@pytest.mark.parametrize(
    "builder, blocks, published",
    [(vgg16, (2, 2, 3, 3, 3), 138_357_544), (vgg19, (2, 2, 4, 4, 4), 143_667_240)],
)
def test_vgg_classifier_params_equal_torchvision(builder, blocks, published):
    assert _vgg_trunk_params(blocks) + VGG_CLASSIFIER == published  # the arithmetic itself
    with torch.device("meta"):
        model = builder()
    assert count_params(model) == published


def test_vgg19_openpose_trunk_params_layers_and_stride():
    # conv1_1 … conv4_2 by hand: 1792 + 36928 + 73856 + 147584 + 295168 + 3·590080
    # + 1180160 + 2359808
    expected = 1792 + 36928 + 73856 + 147584 + 295168 + 3 * 590080 + 1180160 + 2359808
    assert expected == 5_865_536
    trunk = vgg19_openpose()
    assert count_params(trunk) == expected
    assert trunk.stride == 8 and trunk.out_channels == 512
    # torchvision indices: conv4_2 is features.21 (its ReLU features.22), nothing after it
    keys = [k for k in trunk.state_dict() if k.endswith("weight")]
    assert keys[0] == "features.0.weight" and keys[-1] == "features.21.weight"
    assert len(keys) == 10
    assert trunk(torch.zeros(2, 3, 48, 40)).shape == (2, 512, 6, 5)


def _vgg_functional(model, x):
    """conv+ReLU / max-pool, read from the weights only (independent of nn.Sequential)."""
    for layer in model.features:
        if isinstance(layer, torch.nn.Conv2d):
            x = F.relu(F.conv2d(x, layer.weight, layer.bias, padding=1))
        elif isinstance(layer, torch.nn.MaxPool2d):
            x = F.max_pool2d(x, 2)
    return x


def test_vgg_forward_matches_functional_and_classifier_shape():
    torch.manual_seed(0)
    model = VGG(11, width=4, num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model.forward_features(x), _vgg_functional(model, x))
        assert model(x).shape == (2, 7)
    assert model.layer_index["pool5"] == len(model.features) - 1


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(depth=17), "depth"),
        (dict(last_layer="conv9_1", include_top=False), "last_layer"),
        (dict(last_layer="conv4_2"), "last_layer"),  # classifier needs the whole trunk
        (dict(width=0), "width"),
    ],
)
def test_vgg_bad_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        VGG(**kwargs)


# ---------------------------------------------------------------------------------- MobileNet
MOBILENET = [(32, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
MOBILENET += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]  # paper Table 1


def _mobilenet_params(alpha=1.0, classes=1000):
    ch = [max(8, int(c * alpha)) for c, _ in MOBILENET]
    n = 3 * ch[0] * 9 + 2 * ch[0]  # conv1 (no bias) + BN
    for cin, cout in zip(ch, ch[1:], strict=False):
        n += cin * 9 + 2 * cin + cin * cout + 2 * cout  # dw + BN + pw + BN
    return n + ch[-1] * classes + classes


@pytest.mark.parametrize(
    "alpha, params, mmacs",  # Howard et al. Table 6/7: 4.2 M / 569 M, 2.6/325, 1.3/149, 0.5/41
    [(1.0, 4_231_976, 569), (0.75, None, 325), (0.5, None, 149), (0.25, None, 41)],
)
def test_mobilenet_v1_params_and_mult_adds(alpha, params, mmacs):
    expected = _mobilenet_params(alpha)
    if params:
        assert expected == params
    model = mobilenet_v1(alpha)
    assert count_params(model) == expected
    assert abs(count_macs(model, (1, 3, 224, 224)) / 1e6 - mmacs) <= 0.01 * mmacs


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0, bn.eps)


def test_dilated_mobilenet_matches_functional_forward():
    """Lightweight OpenPose's trunk: conv4_2 without stride, conv5_1's dw dilated 2 (pad 2),
    stop at conv5_5 → output stride 8; written out with F.conv2d from the paper's table."""
    torch.manual_seed(0)
    model = MobileNetV1(0.25, include_top=False, dilated=True).eval()
    randomise_batchnorm(model)
    assert model.stride == 8 and model.out_channels == 128 and len(model.model) == 12
    x = torch.randn(1, 3, 64, 48)
    blocks = list(model.model)
    y = F.relu(_bn(F.conv2d(x, blocks[0][0].weight, stride=2, padding=1), blocks[0][1]))
    strides = [1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1]  # conv2_1 … conv5_5, conv4_2's stride removed
    dilations = [1] * 6 + [2] + [1] * 4
    for block, s, d in zip(blocks[1:], strides, dilations, strict=True):
        dw, bn1, _, pw, bn2, _ = block
        y = F.relu(_bn(F.conv2d(y, dw.weight, stride=s, padding=d, dilation=d,
                                groups=y.shape[1]), bn1))  # fmt: skip
        y = F.relu(_bn(F.conv2d(y, pw.weight), bn2))
    with torch.no_grad():
        out = model(x)
    assert out.shape == (1, 128, 8, 6)
    torch.testing.assert_close(out, y, rtol=1e-4, atol=1e-5)


def test_mobilenet_layer_names_match_the_reference_checkpoint_layout():
    keys = set(mobilenet_v1().state_dict())
    for key in ("model.0.0.weight", "model.0.1.running_var", "model.1.0.weight",
                "model.1.3.weight", "model.13.4.bias", "fc.weight", "fc.bias"):  # fmt: skip
        assert key in keys
    assert mobilenet_v1().model[1][0].groups == 32  # depthwise


@pytest.mark.parametrize(
    "kwargs, field",
    [(dict(width_mult=0), "width_mult"), (dict(dilated=True), "include_top"),
     (dict(in_channels=0), "in_channels")],
)  # fmt: skip
def test_mobilenet_bad_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MobileNetV1(**kwargs)

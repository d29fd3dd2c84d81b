"""posekit.engine: training loop, schedules, checkpoints, resume, prediction, evaluation.

Everything runs on a toy problem: find the bright dot of each joint channel in a 16x16 image
(a tiny conv + linear regressor, a tiny regression codec), so the suite takes seconds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from posekit import engine
from posekit.codecs import Instances, per_crop, stack_keypoints
from posekit.engine import (
    History,
    TrainConfig,
    clip_gradients,
    load_checkpoint,
    load_model,
    make_optimizer,
    make_scheduler,
    predict,
    save_checkpoint,
    train,
)
from posekit.evaluation import evaluate_pckh

SIZE = 16
K = 2


class DotSet(Dataset):
    """Item ``i``: joint ``k`` is a bright dot in channel ``k``; with ``augment`` the dots move
    every epoch (``set_epoch``), like SynthPose's augmented crops."""

    def __init__(self, length: int = 32, seed: int = 0, augment: bool = True) -> None:
        self.length, self.seed, self.augment, self.epoch = length, seed, augment, 0

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, i, self.epoch if self.augment else 0])
        xy = rng.integers(2, SIZE - 2, size=(K, 2))
        image = 0.05 * rng.standard_normal((3, SIZE, SIZE)).astype(np.float32)
        for k, (x, y) in enumerate(xy):
            image[k, y, x] += 1.0
        kp = np.concatenate([xy, np.full((K, 1), 2)], axis=1).astype(np.float32)
        return {
            "image": torch.from_numpy(image),
            "keypoints": torch.from_numpy(kp),
            "target_weight": torch.ones(K),
            "head_box": torch.tensor([[0.0, 0.0], [4.0, 3.0]]),  # head size 0.6 * 5 = 3 px
            "index": i,
        }


class TinyNet(nn.Module):
    """conv-BN-ReLU-dropout → linear → (B, K, 2) normalised coordinates."""

    def __init__(self, num_joints: int = K, width: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        self.config = dict(num_joints=num_joints, width=width, dropout=dropout)
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.Dropout(dropout)
        )
        self.head = nn.Linear(width * SIZE * SIZE, 2 * num_joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).view(x.shape[0], -1, 2)


class TinyCodec:
    """Regression targets: crop pixels / SIZE; decode back, score 1."""

    def encode(self, batch: dict) -> dict:
        return {"coords": batch["keypoints"][..., :2] / SIZE, "weight": batch["target_weight"]}

    def decode(self, outputs) -> list[Instances]:
        xy = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
        return per_crop(torch.cat([xy * SIZE, torch.ones_like(xy[..., :1])], dim=-1))


def tiny_loss(outputs, targets, batch) -> torch.Tensor:
    err = ((outputs - targets["coords"]) ** 2).sum(-1)
    return (err * targets["weight"]).mean()


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread is faster and immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config(**kw) -> TrainConfig:
    base = dict(epochs=4, batch_size=8, lr=3e-3, device="cpu", seed=3)
    return TrainConfig(**{**base, **kw})


def _params(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def test_loss_decreases_and_history_is_recorded():
    torch.manual_seed(0)
    model = TinyNet(dropout=0.0)
    cfg = _config(epochs=5, lr=1e-2, eval_every=2)
    hist = train(
        model, TinyCodec(), tiny_loss, DotSet(48), DotSet(16, 1, False), cfg,
        evaluate=evaluate_pckh, progress=False,
    )  # fmt: skip
    assert hist.steps_per_epoch == 6
    assert len(hist.step_loss) == len(hist.step_lr) == len(hist.step_grad_norm) == 30
    assert hist.epochs == 5 and len(hist.epoch_seconds) == 5
    assert hist.epoch_loss[-1] < 0.3 * hist.epoch_loss[0]
    assert [e["epoch"] for e in hist.evals] == [2, 4, 5]  # every 2 epochs and the last one
    assert hist.metric_names() == ["PCKh@0.5", "PCKh@0.1"]
    assert not model.training


def test_train_in_chunks_and_resume_gives_the_same_run(tmp_path):
    """4 epochs straight == 2 epochs, checkpoint, fresh objects, resume for 2 more: bitwise
    (AdamW, cosine with warm-up, grad clipping, dropout, BN, per-epoch augmentation)."""
    cfg = dict(
        optimizer="adamw", weight_decay=1e-2, scheduler="cosine", warmup_steps=3, grad_clip=0.5
    )
    val = DotSet(8, 1, False)

    def run(path, init_seed, **kw):
        torch.manual_seed(init_seed)
        model = TinyNet()
        hist = train(
            model,
            TinyCodec(),
            tiny_loss,
            DotSet(20),
            val,
            _config(checkpoint=str(path), **cfg),
            evaluate_pckh,
            progress=False,
            **kw,
        )
        return model, hist

    model_a, hist_a = run(tmp_path / "a.pt", 0)
    _, hist_half = run(tmp_path / "b.pt", 0, stop_after=2)
    assert hist_half.epochs == 2 and load_checkpoint(tmp_path / "b.pt")["epoch"] == 2
    np.random.seed(123)  # a "new process": other global RNG states, other initial weights
    model_b, hist_b = run(tmp_path / "b.pt", 99, resume=tmp_path / "b.pt")

    a, b = model_a.state_dict(), model_b.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"
    da, db = hist_a.as_dict(), hist_b.as_dict()
    da.pop("epoch_seconds"), db.pop("epoch_seconds")
    assert da == db
    assert load_checkpoint(tmp_path / "b.pt")["step"] == 4 * 3


def test_resume_true_continues_config_checkpoint_when_it_exists(tmp_path):
    """Re-running a notebook cell with resume=True: the first run starts afresh, the second
    finds the finished checkpoint and has nothing left to do."""
    cfg = _config(epochs=2, checkpoint=str(tmp_path / "c.pt"))
    model = TinyNet()
    hist = train(model, TinyCodec(), tiny_loss, DotSet(16), config=cfg, resume=True, progress=False)
    assert hist.epochs == 2
    before = _params(model)
    again = train(
        model, TinyCodec(), tiny_loss, DotSet(16), config=cfg, resume=True, progress=False
    )
    assert again.step_loss == hist.step_loss
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="set config.checkpoint"):
        train(model, TinyCodec(), tiny_loss, DotSet(16), config=_config(), resume=True)


def test_non_finite_loss_is_a_clear_error():
    def bad_loss(outputs, targets, batch):
        return outputs.sum() * float("nan")

    with pytest.raises(FloatingPointError, match="loss is nan"):
        train(TinyNet(), TinyCodec(), bad_loss, DotSet(8), config=_config(), progress=False)


def test_loss_must_be_a_scalar_tensor():
    with pytest.raises(ValueError, match="loss_fn: expected a scalar tensor"):
        train(
            TinyNet(), TinyCodec(), lambda o, t, b: o, DotSet(8), config=_config(), progress=False
        )


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------
def test_checkpoint_is_weights_only_and_rebuilds_the_model(tmp_path):
    path = tmp_path / "ck.pt"
    cfg = _config(epochs=1, checkpoint=str(path), scheduler="multistep", milestones=(1,))
    model = TinyNet(width=3)
    train(model, TinyCodec(), tiny_loss, DotSet(16), DotSet(8, 1, False), cfg, evaluate_pckh,
          progress=False)  # fmt: skip
    raw = torch.load(path, weights_only=True)  # the safe loader reads everything
    assert raw["epoch"] == 1 and raw["step"] == 2
    assert raw["model_config"] == {
        "name": "TinyNet",
        "kwargs": {"num_joints": 2, "width": 3, "dropout": 0.1},
    }
    assert raw["config"]["milestones"] == (1,) and raw["history"]["steps_per_epoch"] == 2
    json.dumps(raw["history"])  # plain python
    rebuilt = load_model(path, [TinyNet])
    assert not rebuilt.training
    ref = model.state_dict()
    assert all(torch.equal(ref[k], v) for k, v in rebuilt.state_dict().items())
    with pytest.raises(KeyError, match="holds a TinyNet"):
        load_model(path, {"Other": TinyNet})


def test_atomic_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    model = TinyNet()
    save_checkpoint(path, model, epoch=1, history=History())
    real_save = torch.save

    def crash(obj, f, *args, **kwargs):
        f.write(b"partial data")  # a process killed mid-write
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with torch.no_grad():
        model.head.weight.add_(1.0)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, epoch=2)
    monkeypatch.setattr(torch, "save", real_save)
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 1
    assert not torch.equal(ckpt["model"]["head.weight"], model.head.weight)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left


def test_checkpoint_refuses_non_plain_values(tmp_path):
    with pytest.raises(TypeError, match=r"extra\['obj'\]: object cannot be stored"):
        save_checkpoint(tmp_path / "x.pt", TinyNet(), extra={"obj": object()})
    torch.save({"weights": 1}, tmp_path / "y.pt")
    with pytest.raises(ValueError, match="not a posekit checkpoint"):
        load_checkpoint(tmp_path / "y.pt")


def test_rng_state_round_trip_through_weights_only(tmp_path):
    state = engine.get_rng_state()
    a = (np.random.random(), torch.rand(1).item(), __import__("random").random())
    torch.save(state, tmp_path / "rng.pt")
    engine.set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (np.random.random(), torch.rand(1).item(), __import__("random").random()) == a


# --------------------------------------------------------------------------------------------
# Optimiser, schedules, clipping
# --------------------------------------------------------------------------------------------
def _lrs(name, steps, **kw) -> list[float]:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make_scheduler(opt, name, **kw)
    out = []
    for _ in range(steps + 1):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_warmup_is_linear_and_reaches_lr_at_warmup_steps():
    lrs = _lrs("none", 10, warmup_steps=5)
    assert lrs[0] == pytest.approx(0.1 * 0.001)  # mmpose LinearLR start_factor
    assert lrs[2] == pytest.approx(0.1 * (0.001 + 0.999 * 2 / 5))
    assert lrs[5] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.1)


def test_cosine_ends_near_zero_and_multistep_drops_at_milestones():
    cos = _lrs("cosine", 20, total_steps=20, warmup_steps=2)
    assert cos[20] == pytest.approx(0.0, abs=1e-12) and cos[19] < 0.002
    assert cos[10] == pytest.approx(0.05)
    assert all(a >= b for a, b in zip(cos[2:], cos[3:], strict=False))
    ms = _lrs("multistep", 8, milestones=[3, 6], gamma=0.5)
    assert ms == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 3)
    st = _lrs("step", 5, step_size=2, gamma=0.1)
    assert st == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_scheduler_state_survives_weights_only(tmp_path):
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make_scheduler(opt, "cosine", total_steps=10, warmup_steps=3)
    for _ in range(4):
        opt.step()
        sched.step()
    torch.save(sched.state_dict(), tmp_path / "s.pt")
    opt2 = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched2 = make_scheduler(opt2, "none")
    sched2.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    opt.step(), opt2.step()
    sched.step(), sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert sched2.lr_lambdas[0].name == "cosine"


def test_schedule_arguments_per_epoch_in_train_config(capsys):
    cfg = _config(epochs=4, scheduler="multistep", milestones=(1, 3), gamma=0.5)
    hist = train(TinyNet(), TinyCodec(), tiny_loss, DotSet(16), config=cfg, progress=True)
    assert hist.step_lr == pytest.approx([3e-3] * 2 + [1.5e-3] * 4 + [7.5e-4] * 2)
    assert "epoch 4/4: train loss" in capsys.readouterr().out  # one line per epoch


def test_worker_processes_give_the_same_run():
    def run(workers):
        torch.manual_seed(0)
        model = TinyNet()
        cfg = _config(epochs=1, num_workers=workers)
        train(model, TinyCodec(), tiny_loss, DotSet(16), config=cfg, progress=False)
        return model.state_dict()

    a, b = run(0), run(2)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", ["adam", "adamw", "rmsprop", "sgd"])
def test_make_optimizer(name):
    model = TinyNet()
    model.head.bias.requires_grad_(False)
    opt = make_optimizer(model, name, lr=0.01, weight_decay=1e-4)
    assert opt.param_groups[0]["lr"] == 0.01
    n = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n == sum(p.numel() for p in model.parameters() if p.requires_grad)
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.9


def test_make_optimizer_errors_name_the_argument():
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        make_optimizer(TinyNet(), "adagrad")
    with pytest.raises(ValueError, match="lr: expected a number > 0"):
        make_optimizer(TinyNet(), lr=0)
    with pytest.raises(ValueError, match="momentum: not used by adam"):
        make_optimizer(TinyNet(), "adam", momentum=0.9)
    with pytest.raises(ValueError, match="total_steps"):
        make_scheduler(make_optimizer(TinyNet()), "cosine")


def test_grad_clip_caps_the_norm():
    model = TinyNet()
    (model(torch.randn(4, 3, SIZE, SIZE)) * 100).sum().backward()
    before = clip_gradients(model, None)
    assert before > 1.0
    assert clip_gradients(model, 1.0) == pytest.approx(before)
    assert clip_gradients(model, None) == pytest.approx(1.0, rel=1e-4)
    hist = train(
        TinyNet(),
        TinyCodec(),
        lambda o, t, b: 1e3 * tiny_loss(o, t, b),
        DotSet(16),
        config=_config(epochs=1, grad_clip=0.1),
        progress=False,
    )
    assert all(g > 0.1 for g in hist.step_grad_norm)  # recorded before clipping


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("batch_size", 2.5),
        ("lr", -1.0),
        ("optimizer", "adm"),
        ("scheduler", "linear"),
        ("warmup_steps", -1),
        ("milestones", (3, 2)),
        ("gamma", 0.0),
        ("grad_clip", 0.0),
        ("num_workers", -1),
        ("device", "gpu"),
        ("seed", -3),
        ("eval_every", 0),
        ("momentum", 1.5),
        ("log_every", True),
        ("milestones", (11,)),
    ],
)
def test_bad_config_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field}: expected"):
        TrainConfig(**{field: value})


def test_step_schedule_needs_step_size_and_config_round_trips():
    with pytest.raises(ValueError, match=r"TrainConfig\.step_size"):
        TrainConfig(scheduler="step")
    with pytest.raises(ValueError, match=r"TrainConfig\.momentum: not used by adam"):
        TrainConfig(optimizer="adam", momentum=0.9)
    cfg = TrainConfig(scheduler="step", step_size=2, milestones=[1, 2])
    assert TrainConfig(**cfg.as_dict()) == cfg
    assert engine.resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert engine.resolve_device("auto").type == "cpu"
        with pytest.raises(ValueError, match="cuda.is_available"):
            engine.resolve_device("cuda")


# --------------------------------------------------------------------------------------------
# Prediction and evaluation
# --------------------------------------------------------------------------------------------
def test_predict_shapes_and_eval_mode():
    model = TinyNet().train()
    found = predict(model, TinyCodec(), DotSet(10), batch_size=4)
    assert len(found) == 10 and all(isinstance(p, Instances) and len(p) == 1 for p in found)
    out = stack_keypoints(found)
    assert out.shape == (10, K, 3) and out.dtype == np.float32 and not model.training
    again = predict(model.train(), TinyCodec(), DataLoader(DotSet(10), batch_size=3))
    assert np.allclose(out, stack_keypoints(again), atol=1e-5) and not model.training
    with pytest.raises(TypeError, match="evaluate"):  # a val_set needs its scoring function
        train(TinyNet(), TinyCodec(), tiny_loss, DotSet(8), DotSet(4), _config(epochs=1))


class _Shifted(Dataset):
    """SynthPose val crops plus ``shifted``: the ground truth moved right by 0.3 head sizes."""

    def __init__(self, ds) -> None:
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> dict:
        item = dict(self.ds[i])
        kp = item["keypoints"].clone()
        kp[:, 0] += 0.3 * item["head_size"]
        item["shifted"] = kp
        return item


class _Identity(nn.Module):
    def forward(self, x):
        return x


class _PassCodec:
    def encode(self, batch):
        return {}

    def decode(self, outputs):
        return per_crop(outputs)


def test_evaluate_pckh_uses_the_head_box_in_crop_pixels():
    from posekit.datasets.synthpose import SynthPoseTopDown

    ds = _Shifted(SynthPoseTopDown("val", 6, input_size=(32, 32)))
    res = evaluate_pckh(
        _Identity(), _PassCodec(), ds, batch_size=4, input_key="shifted", alpha=(0.5, 0.25, 0.1)
    )
    assert res == {"PCKh@0.5": 100.0, "PCKh@0.25": 0.0, "PCKh@0.1": 0.0}
    exact = evaluate_pckh(_Identity(), _PassCodec(), ds, input_key="keypoints")
    assert exact == {"PCKh@0.5": 100.0, "PCKh@0.1": 100.0}


def test_history_plot_and_dict():
    import matplotlib

    matplotlib.use("Agg")
    hist = History(
        step_loss=[1.0, 0.5, 0.4, 0.3],
        step_lr=[0.1] * 4,
        step_grad_norm=[1.0] * 4,
        epoch_loss=[0.75, 0.35],
        epoch_seconds=[0.1, 0.1],
        evals=[{"epoch": 2, "step": 4, "PCKh@0.5": 50.0}],
        steps_per_epoch=2,
    )
    ax = hist.plot()
    assert ax.get_xlabel() == "epoch" and len(ax.figure.axes) == 2
    assert History.from_dict(json.loads(json.dumps(hist.as_dict()))) == hist
    assert hist.metric("PCKh@0.5") == ([2], [50.0])
    assert "PCKh@0.5=50" in repr(hist) and math.isfinite(hist.epoch_loss[-1])


def test_channels_last_trains_the_same_model_in_nhwc():
    losses, weights = {}, {}
    for cl in (False, True):
        torch.manual_seed(0)
        model = TinyNet(dropout=0.0)
        seen: list[bool] = []

        def record(module, args, seen=seen):
            seen.append(args[0].is_contiguous(memory_format=torch.channels_last))

        model.features.register_forward_pre_hook(record)
        hist = train(model, TinyCodec(), tiny_loss, DotSet(16), None,
                     _config(epochs=2, channels_last=cl), progress=False)  # fmt: skip
        assert all(seen) == cl and seen
        assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last) == cl
        losses[cl], weights[cl] = hist.step_loss, _params(model)
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
    # the conv bias before BatchNorm has an analytically zero gradient: Adam amplifies its
    # rounding noise (and BN's running mean follows), so those two are not comparable
    noise = {"features.0.bias", "features.1.running_mean"}
    for key, value in weights[False].items():
        if key not in noise:
            torch.testing.assert_close(weights[True][key], value, rtol=1e-4, atol=1e-5)


def test_model_device_is_the_first_parameters_device():
    assert engine.model_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert engine.model_device(nn.ReLU()) == torch.device("cpu")  # no parameters
    assert engine.model_device(nn.Linear(2, 2).to("meta")) == torch.device("meta")

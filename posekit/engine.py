"""Training, prediction, evaluation and checkpoints for every model of the course.

One loop serves every lesson. It does not know the model or the target representation:
those come from a **model** (images → tensors) and a **codec** (keypoints ↔ tensors), kept
apart as in mmpose. So DeepPose (coordinates), Hourglass (heatmaps) and OpenPose (heatmaps +
PAFs) all train with ``train(model, codec, loss_fn, train_set, val_set, config)``.

The codec protocol
------------------
A codec is any object with two methods (``Codec`` below, a ``typing.Protocol``):

* ``codec.encode(batch: dict) -> dict`` builds the training targets of a collated batch,
  e.g. ``{"heatmaps": (B, K, h, w), "weights": (B, K)}`` from ``batch["keypoints"]`` (B, K, 3)
  and ``batch["target_weight"]`` (B, K). The trainer calls it in the main process on the
  batch already moved to the training device (so a torch codec builds targets on the GPU);
  whatever tensors it returns are moved to that device too.
* ``codec.decode(outputs) -> list[Instances]`` turns the model's outputs into one
  ``posekit.codecs.instances.Instances`` per image: keypoints ``(N_i, K, 3)``
  ``(x, y, score)`` in pixels of the model's input (``docs/conventions.md``: x = column,
  pixel centres at integers) and person scores ``(N_i,)``; a top-down codec gives one person
  per crop. ``outputs`` is whatever the model returns: a tensor, or a list/tuple of tensors
  (one per hourglass stack or OpenPose stage); the codec picks what it needs (usually the
  last one).

The **loss** is a separate callable ``loss_fn(outputs, targets, batch) -> scalar tensor``: it
sees the raw outputs (so it decides how to supervise every stack: intermediate supervision),
the codec's targets and the batch (for ``target_weight`` or anything else).

A model is called as ``model(batch[input_key])`` (``input_key="image"`` by default).

Training recipe and conventions
-------------------------------
* Optimisers: ``make_optimizer`` — Adam (the default of mmpose / Simple Baselines / DeepPose),
  AdamW, RMSprop (Newell's Hourglass, EfficientPose), SGD.
* Schedules are **per step** (per optimiser update), as mmpose's ``by_epoch=False``:
  ``make_scheduler`` multiplies a linear warm-up — mmpose's ``LinearLR(start_factor=0.001,
  by_epoch=False, begin=0, end=warmup_steps)`` — with a main schedule counted from step 0:
  constant, step, multi-step (``MultiStepLR``) or cosine (``CosineAnnealingLR``).
  ``TrainConfig`` gives milestones and step sizes in **epochs** (as papers quote them) and
  converts them to steps.
* Determinism: epoch ``e`` shuffles with a ``torch.Generator`` seeded from ``(seed, e)``,
  calls ``train_set.set_epoch(e)`` when it exists (SynthPose's augmentations) and reseeds
  python's, numpy's and torch's global generators from ``(seed, e)`` (dropout). So an epoch
  depends only on the weights it starts from, and ``train(..., resume=path)`` continues a run
  bit for bit (on CPU; CUDA kernels may not be deterministic).
* Checkpoints hold only tensors, numbers, strings, lists and dicts, so that
  ``torch.load(path, weights_only=True)`` (the safe loader) reads them; they are written
  atomically (a temporary file, then ``os.replace``; the next save to the folder removes
  what a killed save left). A file that cannot be used raises ``CheckpointError`` naming it.

Scoring (PCKh, OKS AP) lives in ``posekit.evaluation``; ``train`` takes it as ``evaluate``.

Public API: ``Codec``, ``TrainConfig``, ``History``, ``train``, ``predict``,
``predict_batches``, ``make_optimizer``, ``make_scheduler``, ``LRSchedule``, ``clip_gradients``,
``resolve_device``, ``to_device``, ``get_model_config``, ``save_checkpoint``,
``load_checkpoint``, ``load_model``, ``CheckpointError``, ``get_rng_state``, ``set_rng_state``.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from posekit.codecs.instances import Instances
from posekit.files import process_alive

CHECKPOINT_FORMAT = "posekit-checkpoint"
CHECKPOINT_VERSION = 1
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULERS = ("none", "step", "multistep", "cosine")
WARMUP_START = 0.001  # mmpose's LinearLR start_factor


# --------------------------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------------------------
@runtime_checkable
class Codec(Protocol):
    """What the trainer needs from a codec (see the module docstring)."""

    def encode(self, batch: dict) -> dict:
        """Training targets of a collated batch (tensors on the batch's device)."""
        ...

    def decode(self, outputs: Any) -> list[Instances]:
        """Model outputs → one ``Instances`` per image (``posekit.codecs.instances``)."""
        ...


LossFn = Callable[[Any, dict, dict], torch.Tensor]
EvaluateFn = Callable[[nn.Module, Codec, Any], Mapping[str, float]]  # e.g. evaluation.*


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def _bad(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"{name}: expected {expected}, got {value!r}")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/None → ``cuda`` when available, else ``cpu``; otherwise ``torch.device(device)``
    (a CUDA device when CUDA is missing is a ValueError)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise _bad("device", "'auto', 'cpu', 'cuda' or 'cuda:N'", device) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but torch.cuda.is_available() is False")
    return dev


def to_device(data: Any, device: torch.device | str) -> Any:
    """``data`` with every tensor (inside dicts, lists, tuples) moved to ``device``."""
    if isinstance(data, torch.Tensor):
        return data.to(device, non_blocking=True)
    if isinstance(data, Mapping):
        return {k: to_device(v, device) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        moved = [to_device(v, device) for v in data]
        return type(data)(*moved) if hasattr(data, "_fields") else type(data)(moved)
    return data


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter; CPU for a model without parameters."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _plain(x: Any, where: str = "value") -> Any:
    """``x`` as plain python (dict / list / tuple / str / int / float / bool / None / tensor),
    what ``torch.load(weights_only=True)`` reads; numpy values are converted."""
    if x is None or isinstance(x, (str, bool, int, float, torch.Tensor)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x.copy())
    if isinstance(x, Path):
        return str(x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {
            f.name: _plain(getattr(x, f.name), f"{where}.{f.name}") for f in dataclasses.fields(x)
        }
    if isinstance(x, Mapping):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(x)]
        return items if isinstance(x, list) else tuple(items)
    raise TypeError(
        f"{where}: {type(x).__name__} cannot be stored in a weights_only checkpoint "
        "(use numbers, strings, lists, dicts or tensors)"
    )


# --------------------------------------------------------------------------------------------
# Optimiser and schedule
# --------------------------------------------------------------------------------------------
def _check_positive(name: str, value: Any, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise _bad(name, "a number >= 0" if allow_zero else "a number > 0", value)
    return float(value)


def _check_optimizer(name: str, lr, weight_decay, momentum) -> None:
    if name not in OPTIMIZERS:
        raise _bad("optimizer", f"one of {OPTIMIZERS}", name)
    _check_positive("lr", lr)
    _check_positive("weight_decay", weight_decay, allow_zero=True)
    if momentum is not None and not (isinstance(momentum, (int, float)) and 0 <= momentum < 1):
        raise _bad("momentum", "None or a number in [0, 1)", momentum)
    if momentum is not None and name in ("adam", "adamw"):
        raise ValueError(f"momentum: not used by {name}; set betas=(b1, b2) instead")


def make_optimizer(
    model: nn.Module | Iterable,
    name: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    momentum: float | None = None,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """An optimiser over the trainable parameters of ``model``.

    Args:
        model: a module (its parameters with ``requires_grad``), or parameters / param-group
            dicts (e.g. OpenPose's larger lr for the refinement stages).
        name: ``"adam"`` (L2 ``weight_decay``), ``"adamw"`` (decoupled decay), ``"rmsprop"``
            or ``"sgd"``.
        lr: learning rate.
        weight_decay: weight decay (>= 0).
        momentum: SGD / RMSprop momentum; None = SGD 0.9, RMSprop 0 (torch's and Newell's).
            Adam/AdamW use ``betas`` (pass ``betas=(0.9, 0.999)`` in ``kwargs``).
        kwargs: passed to the torch optimiser (``betas``, ``alpha``, ``nesterov``...).
    """
    _check_optimizer(name, lr, weight_decay, momentum)
    params = model.parameters() if isinstance(model, nn.Module) else model
    params = [p for p in params if not isinstance(p, torch.Tensor) or p.requires_grad]
    if not params:
        raise ValueError("model: no trainable parameters (all requires_grad=False?)")
    common = dict(lr=float(lr), weight_decay=float(weight_decay), **kwargs)
    if name == "adam":
        return torch.optim.Adam(params, **common)
    if name == "adamw":
        return torch.optim.AdamW(params, **common)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, momentum=momentum or 0.0, **common)
    return torch.optim.SGD(params, momentum=0.9 if momentum is None else momentum, **common)


class LRSchedule:
    """The learning-rate factor of step ``t`` (0-based): ``warmup(t) * main(t)``.

    * warm-up (mmpose ``LinearLR``): ``start + (1 - start) * t / warmup_steps`` for
      ``t < warmup_steps``, then 1; ``start = warmup_start`` (0.001).
    * main, counted from step 0: ``none`` 1; ``step`` ``gamma ** (t // step_size)``;
      ``multistep`` ``gamma ** (number of milestones <= t)``; ``cosine``
      ``min_ratio + (1 - min_ratio) * (1 + cos(pi * min(t, T) / T)) / 2`` with ``T =
      total_steps`` (0 at step T when ``min_ratio = 0``).

    A callable object with plain attributes (not a lambda), so ``LambdaLR.state_dict()``
    stores its settings and a ``weights_only`` checkpoint restores them.
    """

    def __init__(
        self,
        name="none",
        total_steps=None,
        warmup_steps=0,
        milestones=(),
        gamma=0.1,
        step_size=None,
        warmup_start=WARMUP_START,
        min_ratio=0.0,
    ):
        self.name = name
        self.total_steps = total_steps
        self.warmup_steps = int(warmup_steps)
        self.milestones = [int(m) for m in milestones]
        self.gamma = float(gamma)
        self.step_size = step_size
        self.warmup_start = float(warmup_start)
        self.min_ratio = float(min_ratio)

    def main(self, t: int) -> float:
        if self.name == "step":
            return self.gamma ** (t // self.step_size)
        if self.name == "multistep":
            return self.gamma ** bisect.bisect_right(self.milestones, t)
        if self.name == "cosine":
            c = 0.5 * (1.0 + math.cos(math.pi * min(t, self.total_steps) / self.total_steps))
            return self.min_ratio + (1.0 - self.min_ratio) * c
        return 1.0

    def warmup(self, t: int) -> float:
        if t >= self.warmup_steps:
            return 1.0
        return self.warmup_start + (1.0 - self.warmup_start) * t / self.warmup_steps

    def __call__(self, t: int) -> float:
        return self.warmup(t) * self.main(t)


def _check_schedule(name, total_steps, warmup_steps, milestones, gamma, step_size) -> None:
    if name not in SCHEDULERS:
        raise _bad("scheduler", f"one of {SCHEDULERS}", name)
    if not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise _bad("warmup_steps", "an integer >= 0", warmup_steps)
    if not (isinstance(gamma, (int, float)) and 0 < gamma <= 1):
        raise _bad("gamma", "a number in (0, 1]", gamma)
    ms = list(milestones or ())
    if not all(isinstance(m, int) and m > 0 for m in ms) or ms != sorted(set(ms)):
        raise _bad("milestones", "increasing positive integers", milestones)
    if name == "multistep" and not ms:
        raise ValueError("milestones: the multistep schedule needs at least one milestone")
    if name == "step" and not (isinstance(step_size, int) and step_size > 0):
        raise _bad("step_size", "a positive integer for the step schedule", step_size)
    if name == "cosine" and not (isinstance(total_steps, int) and total_steps > 0):
        raise _bad("total_steps", "a positive integer for the cosine schedule", total_steps)


def make_scheduler(
    optimizer: torch.optim.Optimizer,
    name: str = "none",
    total_steps: int | None = None,
    warmup_steps: int = 0,
    milestones: Iterable[int] = (),
    gamma: float = 0.1,
    step_size: int | None = None,
    warmup_start: float = WARMUP_START,
    min_ratio: float = 0.0,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step schedule: call ``scheduler.step()`` after every ``optimizer.step()``.

    The lr of update ``t`` (0-based) is ``base_lr * LRSchedule(...)(t)``: linear warm-up from
    ``warmup_start * lr`` reaching ``lr`` at step ``warmup_steps`` (mmpose), times the main
    schedule ``name``. All step counts (``total_steps``, ``milestones``, ``step_size``) are in
    optimiser steps. ``min_ratio``: the cosine's final lr as a fraction of ``lr``.
    """
    _check_schedule(name, total_steps, warmup_steps, milestones, gamma, step_size)
    fn = LRSchedule(
        name, total_steps, warmup_steps, milestones, gamma, step_size, warmup_start, min_ratio
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)


def clip_gradients(model: nn.Module | Iterable, max_norm: float | None) -> float:
    """Clip the global L2 norm of the gradients to ``max_norm`` (``clip_grad_norm_``) and
    return the norm before clipping; ``max_norm=None`` only measures it."""
    params = list(model.parameters() if isinstance(model, nn.Module) else model)
    grads = [p.grad.detach() for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if max_norm is None:
        return float(
            torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        )
    return float(torch.nn.utils.clip_grad_norm_(params, max_norm))


# --------------------------------------------------------------------------------------------
# Configuration and history
# --------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Settings of ``train`` (plain values; stored in every checkpoint).

    Attributes:
        epochs: number of passes over ``train_set``.
        batch_size: items per step.
        lr, optimizer, weight_decay, momentum: see ``make_optimizer``.
        scheduler: ``"none"``, ``"step"``, ``"multistep"`` or ``"cosine"`` (per step).
        warmup_steps: linear warm-up length in **steps** (mmpose: 500 iterations).
        milestones: multistep milestones in **epochs** (Simple Baselines: (90, 120)).
        step_size: step-schedule period in **epochs**.
        gamma: decay factor of step / multistep.
        min_lr_ratio: final lr of the cosine schedule as a fraction of ``lr``.
        grad_clip: max global gradient norm, or None.
        num_workers: DataLoader worker processes (0 = main process).
        drop_last: drop the last incomplete batch of each epoch.
        device: ``"auto"`` (cuda if available, else cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        seed: seed of the shuffling and the per-epoch global RNG seeds.
        log_every: steps between progress-bar updates of loss and lr.
        eval_every: epochs between evaluations (the last epoch is always evaluated).
        checkpoint: file written (atomically) after every epoch, or None.
        input_key: the batch entry given to the model.
        deterministic: also ask cuDNN for deterministic kernels (slower on GPU).
        channels_last: train with the model and its 4-D inputs in ``torch.channels_last``
            memory format (NHWC). On CPU oneDNN convolutions skip their layout reorders: a
            lesson-03 hourglass step takes 0.72–0.84 s instead of 1.03 s on 2 cores. Same
            maths, floating-point sums in another order.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    momentum: float | None = None
    scheduler: str = "none"
    warmup_steps: int = 0
    milestones: tuple[int, ...] = ()
    step_size: int | None = None
    gamma: float = 0.1
    min_lr_ratio: float = 0.0
    grad_clip: float | None = None
    num_workers: int = 0
    drop_last: bool = False
    device: str = "auto"
    seed: int = 0
    log_every: int = 10
    eval_every: int = 1
    checkpoint: str | None = None
    input_key: str = "image"
    deterministic: bool = False
    channels_last: bool = False

    def __post_init__(self) -> None:
        self.milestones = tuple(self.milestones)
        if self.checkpoint is not None:
            self.checkpoint = str(self.checkpoint)
        try:
            self._validate()
        except ValueError as err:
            raise ValueError(f"TrainConfig.{err}") from None

    def _validate(self) -> None:
        for name in ("epochs", "batch_size", "log_every", "eval_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _bad(name, "an integer >= 1", value)
        for name in ("num_workers", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _bad(name, "an integer >= 0", value)
        _check_optimizer(self.optimizer, self.lr, self.weight_decay, self.momentum)
        _check_schedule(
            self.scheduler, 1, self.warmup_steps, self.milestones, self.gamma, self.step_size
        )
        if any(m > self.epochs for m in self.milestones):
            raise _bad("milestones", f"epoch numbers <= epochs={self.epochs}", self.milestones)
        if not (isinstance(self.min_lr_ratio, (int, float)) and 0 <= self.min_lr_ratio <= 1):
            raise _bad("min_lr_ratio", "a number in [0, 1]", self.min_lr_ratio)
        if self.grad_clip is not None:
            _check_positive("grad_clip", self.grad_clip)
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "mps") or self.device.split(":")[0] == "cuda"
        ):
            raise _bad("device", "'auto', 'cpu', 'cuda' or 'cuda:N'", self.device)
        if not isinstance(self.input_key, str):
            raise _bad("input_key", "a string", self.input_key)

    def as_dict(self) -> dict:
        """Plain dict of the settings (``TrainConfig(**d)`` rebuilds it)."""
        return dataclasses.asdict(self)


@dataclass
class History:
    """What ``train`` recorded.

    Attributes:
        step_loss, step_lr, step_grad_norm: one value per optimiser step (the lr used by
            that step; the gradient norm before clipping).
        epoch_loss: mean training loss of each epoch (mean over its steps).
        epoch_seconds: wall time of each epoch (training + evaluation).
        evals: one dict per evaluation, ``{"epoch": e, "step": s, metric: value, ...}``
            (``epoch`` counts finished epochs, 1-based).
        steps_per_epoch: optimiser steps per epoch.
    """

    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    steps_per_epoch: int = 0

    @property
    def epochs(self) -> int:
        """Number of finished epochs."""
        return len(self.epoch_loss)

    def metric_names(self) -> list[str]:
        """Names of the evaluated metrics, in first-seen order."""
        names: dict[str, None] = {}
        for e in self.evals:
            names.update({k: None for k in e if k not in ("epoch", "step")})
        return list(names)

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """``(epochs, values)`` of one metric, e.g. ``history.metric("PCKh@0.5")``."""
        if name not in self.metric_names():
            raise KeyError(f"no metric {name!r}; history has {self.metric_names()}")
        pairs = [(e["epoch"], e[name]) for e in self.evals if name in e]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def as_dict(self) -> dict:
        """Plain python types (lists, dicts, floats), e.g. for json or a checkpoint."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping) -> History:
        names = {f.name for f in dataclasses.fields(cls)}
        kept = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in d.items()}
        return cls(**{k: v for k, v in kept.items() if k in names})

    def plot(self, ax=None, log_loss: bool = True):
        """Training loss per step (faint) and per epoch (dots) against epochs, and the
        evaluated metrics on a second y axis. Returns the loss ``Axes``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        spe = max(self.steps_per_epoch, 1)
        x = (np.arange(len(self.step_loss)) + 1) / spe
        ax.plot(x, self.step_loss, color="C0", alpha=0.3, lw=0.8, label="loss (step)")
        ep = np.arange(1, self.epochs + 1)
        ax.plot(ep, self.epoch_loss, "o-", color="C0", label="loss (epoch mean)")
        if log_loss and self.step_loss and min(self.step_loss) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        handles, labels = ax.get_legend_handles_labels()
        if self.metric_names():
            ax2 = ax.twinx()
            for i, name in enumerate(self.metric_names()):
                ax2.plot(*self.metric(name), "s--", color=f"C{i + 1}", label=name)
            ax2.set_ylabel("metric")
            h2, l2 = ax2.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, loc="best", fontsize="small")
        return ax

    def __repr__(self) -> str:
        last = self.evals[-1] if self.evals else {}
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("epoch", "step"))
        loss = f"{self.epoch_loss[-1]:.4g}" if self.epoch_loss else "-"
        return (
            f"History(epochs={self.epochs}, steps={len(self.step_loss)}, last loss={loss}"
            + (f", {metrics}" if metrics else "")
            + ")"
        )


# --------------------------------------------------------------------------------------------
# Randomness
# --------------------------------------------------------------------------------------------
def _epoch_seeds(seed: int, epoch: int) -> tuple[int, int]:
    """Two independent 32-bit seeds of ``(seed, epoch)``: shuffling and global generators."""
    a, b = np.random.SeedSequence([int(seed), int(epoch), 0x7EA1]).generate_state(2)
    return int(a), int(b)


def _seed_globals(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _worker_init(worker_id: int) -> None:
    """Seed numpy and python in a DataLoader worker from its torch seed (itself derived from
    the epoch's generator), so augmentations using global generators are reproducible."""
    s = torch.initial_seed() % 2**32
    np.random.seed(s)
    random.seed(s)


def get_rng_state() -> dict:
    """python / numpy / torch (CPU and CUDA) global generator states as plain types."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping) -> None:
    """Inverse of ``get_rng_state``."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))
    n = state["numpy"]
    keys = np.asarray(n["keys"].cpu().numpy(), dtype=np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------
def get_model_config(model: nn.Module) -> dict | None:
    """``{"name": class name, "kwargs": constructor arguments}`` of a model that exposes its
    arguments as ``model.config`` (a dict or dataclass), else None. ``load_model`` rebuilds
    the model as ``builders[name](**kwargs)``."""
    cfg = getattr(model, "config", None)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        cfg = dataclasses.asdict(cfg)
    if not isinstance(cfg, Mapping):
        return None
    return {"name": type(model).__name__, "kwargs": _plain(dict(cfg), "model.config")}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    epoch: int = 0,
    step: int = 0,
    history: History | Mapping | None = None,
    model_config: Mapping | None = None,
    extra: Mapping | None = None,
    config: TrainConfig | Mapping | None = None,
    rng: bool = True,
) -> Path:
    """Write a checkpoint atomically: ``torch.save`` to ``<path>.tmp`` then ``os.replace``,
    so a crash while saving leaves the previous file intact.

    Contents (all ``weights_only``-loadable): ``format``, ``version``, ``model`` (state
    dict), ``model_config`` (``{"name", "kwargs"}`` or None), ``optimizer``, ``scheduler``
    (state dicts or None), ``epoch`` (finished epochs), ``step`` (optimiser steps),
    ``history`` (``History.as_dict()``), ``config`` (``TrainConfig.as_dict()``), ``rng``
    (``get_rng_state()``), ``extra`` (plain values), ``torch_version``.
    """
    if isinstance(history, History):
        history = history.as_dict()
    if isinstance(config, TrainConfig):
        config = config.as_dict()
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "model_config": _plain(model_config, "model_config"),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": _plain(scheduler.state_dict(), "scheduler") if scheduler else None,
        "epoch": int(epoch),
        "step": int(step),
        "history": _plain(history, "history"),
        "config": _plain(config, "config"),
        "rng": get_rng_state() if rng else None,
        "extra": _plain(extra or {}, "extra"),
        "torch_version": str(torch.__version__),
    }
    return _atomic_save(ckpt, Path(path))


_TEMP_SUFFIX = ".posekit-tmp"
"""A save writes ``<name>.posekit-tmp<pid>`` beside the checkpoint, then ``os.replace``."""


def _atomic_save(obj: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    tmp = path.with_name(f"{path.name}{_TEMP_SUFFIX}{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _remove_orphan_temps(path, started)
    return path


def _remove_orphan_temps(path: Path, started: float) -> None:
    """Delete what killed saves left in ``path``'s folder: posekit's temporary names only
    (``*.posekit-tmp<pid>``; ``<path name>.tmp<pid>`` of older versions), from a process that
    is gone and older than this save (``started``)."""
    names = re.compile(rf"(.+{re.escape(_TEMP_SUFFIX)}|{re.escape(path.name)}\.tmp)(\d+)")
    for p in path.parent.iterdir():
        m = names.fullmatch(p.name)
        if not m or process_alive(int(m.group(2))):
            continue
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_mtime < started:
                p.unlink()
        except OSError:
            pass  # another save removed it first, or no permission: leave it


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist. Also a ``FileNotFoundError``."""


def _unreadable(path: Path, err: Exception) -> CheckpointError:
    """The ``CheckpointError`` of a file ``torch.load(weights_only=True)`` could not read."""
    text = str(err)
    culprit = re.search(r"GLOBAL ([\w.]+)", text)
    if culprit:
        why = (f"refused by the safe loader (weights_only=True): it needs the python object "
               f"{culprit.group(1)} (a whole model saved with torch.save(model)? an unsafe "
               "file?), not only tensors and plain values")  # fmt: skip
    elif isinstance(err, EOFError) or "central directory" in text:
        why = "truncated, or not a torch file (it ends before its index)"
    else:
        stop = re.search(r"WeightsUnpickler error:\s*(\S.*)", text)
        first = stop.group(1) if stop else (text.splitlines() or [""])[0]
        why = f"not a torch checkpoint ({type(err).__name__}: {first.strip()[:120]})"
    return CheckpointError(f"{path}: cannot be read: {why}")


def _read(path: Path, map_location: Any) -> Any:
    """``torch.load(path, weights_only=True)``; every failure as a one-line error."""
    if not path.exists():
        raise CheckpointNotFoundError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: cannot be read: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read: {err.strerror or err}") from None
    except Exception as err:  # any failure of the loader means a bad file
        raise _unreadable(path, err) from None


_FIELDS = {"version": int, "model": Mapping, "epoch": int, "step": int}
_OPTIONAL = {"model_config": Mapping, "optimizer": Mapping, "scheduler": Mapping,
             "history": Mapping, "config": Mapping, "rng": Mapping, "extra": Mapping}  # fmt: skip


def _check_field(path: Path, ckpt: dict, key: str, kind: type) -> None:
    """``ckpt[key]`` is a ``kind`` (None allowed for the optional fields)."""
    if key not in ckpt and key in _FIELDS:
        raise CheckpointError(f"{path}: field {key!r} is missing")
    value = ckpt.get(key)
    if value is None and key in _OPTIONAL:
        return
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 0):
        expected = "a dict" if kind is Mapping else "an integer >= 0"
        got = f"{type(value).__name__} {value!r:.40}"
        raise CheckpointError(f"{path}: field {key!r} should be {expected}, got {got}")


def _check_contents(path: Path, ckpt: Any) -> None:
    """Format, version and the type of every field ``train`` and ``load_model`` read."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is not a posekit checkpoint (no format={CHECKPOINT_FORMAT!r})"
        )
    _check_field(path, ckpt, "version", int)
    version = ckpt["version"]
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {version!r} is newer than this "
            f"posekit ({CHECKPOINT_VERSION}); update posekit"
        )
    for key, kind in {**_FIELDS, **_OPTIONAL}.items():
        _check_field(path, ckpt, key, kind)
    bad = [k for k, v in ckpt["model"].items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: field 'model' holds non-tensor entries {bad[:3]}")


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict:
    """Read a checkpoint of ``save_checkpoint`` with ``torch.load(weights_only=True)``.

    A missing, empty, truncated, foreign or malformed file raises ``CheckpointError`` (a
    ``ValueError``; ``CheckpointNotFoundError`` is also a ``FileNotFoundError``), one line
    naming the file and what is wrong."""
    path = Path(path)
    ckpt = _read(path, map_location)
    _check_contents(path, ckpt)
    return ckpt


class _UnknownModelError(CheckpointError, KeyError):
    """The checkpoint's model name is not among the builders (also a ``KeyError``)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _build(path, spec: Any, builders: Mapping) -> nn.Module:
    """``builders[name](**kwargs)`` of a checkpoint's ``model_config``."""
    if not spec:
        raise CheckpointError(
            f"{path} has no model_config (the model had no .config dict); build "
            "the model yourself and load_state_dict(ckpt['model'])"
        )
    name, kwargs = spec.get("name"), spec.get("kwargs")
    if not isinstance(name, str) or not isinstance(kwargs, Mapping):
        raise CheckpointError(f"{path}: model_config should be {{'name': str, 'kwargs': dict}}")
    if name not in builders:
        raise _UnknownModelError(f"{path} holds a {name}; builders has {sorted(builders)}")
    try:
        return builders[name](**kwargs)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: model_config {name}(**kwargs) fails: {err}") from None


def _load_weights(path, model: nn.Module, state: Mapping, strict: bool = True) -> None:
    """``model.load_state_dict(state)``; a mismatch names the file and the first problem."""
    try:
        model.load_state_dict(state, strict=strict)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("Error(s) in loading")]
        first = (lines or [type(err).__name__])[0][:240]
        raise CheckpointError(
            f"{path}: the weights do not fit {type(model).__name__}: {first}"
        ) from None


def load_model(
    path: str | Path,
    builders: Mapping[str, Callable[..., nn.Module]] | Iterable[type],
    map_location: Any = "cpu",
    strict: bool = True,
) -> nn.Module:
    """Rebuild the model of a checkpoint: ``builders[name](**kwargs)`` from its
    ``model_config``, then its weights. ``builders`` maps names to classes / functions (or is
    a list of classes, keyed by ``__name__``). Returns the model in eval mode. A checkpoint
    that does not fit raises ``CheckpointError`` (an unknown name: also a ``KeyError``)."""
    if not isinstance(builders, Mapping):
        builders = {b.__name__: b for b in builders}
    ckpt = load_checkpoint(path, map_location)
    model = _build(path, ckpt.get("model_config"), builders)
    _load_weights(path, model, ckpt["model"], strict)
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    return model.eval()


# --------------------------------------------------------------------------------------------
# Prediction and evaluation
# --------------------------------------------------------------------------------------------
def _loader(data, batch_size: int, collate_fn=None, num_workers: int = 0) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    return DataLoader(
        data, batch_size=batch_size, shuffle=False, collate_fn=collate_fn, num_workers=num_workers
    )


def predict_batches(
    model: nn.Module,
    codec: Codec,
    data: Dataset | DataLoader,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    collate_fn: Callable | None = None,
    input_key: str = "image",
    progress: bool = False,
) -> Iterator[tuple[dict, list[Instances]]]:
    """``(batch, codec.decode(model(batch[input_key])))`` batch by batch, under
    ``torch.inference_mode()`` with the model in eval mode (it stays in eval mode): for
    callers that score predictions against the batch's ground truth (``posekit.evaluation``).

    Args:
        data: a Dataset (read in order, not shuffled) or a ready DataLoader.
        device: None = the model's device; else moves the model there (see
            ``resolve_device``).
    """
    from tqdm.auto import tqdm

    device = model_device(model) if device is None else resolve_device(device)
    model.to(device).eval()
    loader = _loader(data, batch_size, collate_fn)
    with torch.inference_mode():
        for batch in tqdm(loader, desc="predict", disable=not progress, leave=False):
            found = codec.decode(model(to_device(batch[input_key], device)))
            if not isinstance(found, list) or not all(isinstance(p, Instances) for p in found):
                raise ValueError(
                    f"codec.decode: expected a list of Instances, got {type(found).__name__}"
                )
            yield batch, found


def predict(
    model: nn.Module,
    codec: Codec,
    data: Dataset | DataLoader,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    collate_fn: Callable | None = None,
    input_key: str = "image",
    progress: bool = False,
) -> list[Instances]:
    """One ``Instances`` per item, top-down and bottom-up alike (``predict_batches``).

    Returns:
        ``Instances`` (keypoints ``(N_i, K, 3)`` ``(x, y, score)`` in input pixels, scores
        ``(N_i,)``); ``posekit.codecs.stack_keypoints`` gives the ``(N, K, 3)`` array of a
        top-down model's crops.
    """
    found: list[Instances] = []
    for _, people in predict_batches(
        model, codec, data, batch_size, device, collate_fn, input_key, progress
    ):
        found.extend(people)
    if not found:
        raise ValueError("predict: the dataset is empty")
    return found


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def _epoch_loader(train_set, config: TrainConfig, epoch: int, collate_fn, device) -> DataLoader:
    """The DataLoader of ``epoch``: its order depends only on ``(config.seed, epoch)``."""
    if hasattr(train_set, "set_epoch"):
        train_set.set_epoch(epoch)
    g = torch.Generator()
    g.manual_seed(_epoch_seeds(config.seed, epoch)[0])
    return DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        generator=g,
        num_workers=config.num_workers,
        collate_fn=collate_fn,
        drop_last=config.drop_last,
        pin_memory=device.type == "cuda",
        worker_init_fn=_worker_init,
    )


def _steps_per_epoch(n: int, config: TrainConfig) -> int:
    steps = n // config.batch_size if config.drop_last else math.ceil(n / config.batch_size)
    if steps < 1:
        raise ValueError(
            f"train_set: {n} items give no batch of batch_size="
            f"{config.batch_size} with drop_last=True"
        )
    return steps


def _scheduler_for(optimizer, config: TrainConfig, steps_per_epoch: int):
    return make_scheduler(
        optimizer,
        config.scheduler,
        total_steps=config.epochs * steps_per_epoch,
        warmup_steps=config.warmup_steps,
        milestones=[m * steps_per_epoch for m in config.milestones],
        gamma=config.gamma,
        step_size=config.step_size * steps_per_epoch if config.step_size else None,
        min_ratio=config.min_lr_ratio,
    )


def _resume(path, run: _Run, steps_per_epoch: int) -> None:
    """Load a checkpoint into ``run``: weights, optimiser, schedule, RNG, history, counters."""
    ckpt = load_checkpoint(path, map_location=run.device)
    _load_weights(path, run.model, ckpt["model"])
    run.resumed_from = Path(path)
    run.history = History.from_dict(ckpt.get("history") or {})
    run.epoch = ckpt["epoch"]
    run.step = ckpt["step"] or len(run.history.step_loss)  # older posekit re-saved step 0
    old = ckpt.get("config") or {}
    _warn_changes(old, run.config.as_dict(), run.history, steps_per_epoch)
    _load_optimizer(path, run, ckpt.get("optimizer"))
    _load_schedule(path, run, ckpt.get("scheduler"), old.get("epochs"))
    if ckpt.get("rng") is not None:
        set_rng_state(ckpt["rng"])


def _load_optimizer(path, run: _Run, state: Mapping | None) -> None:
    """The checkpoint's optimiser state (Adam's moments...), or a warning that it restarts."""
    if state is None:
        name = type(run.optimizer).__name__
        warnings.warn(
            f"{path} holds no optimizer state (saved by an older posekit): {name} restarts "
            f"from zero moments at step {run.step}",
            stacklevel=5,
        )
        return
    try:
        run.optimizer.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"{path}: its optimizer state does not fit: {err}") from None


def _set_lrs(optimizer, scheduler) -> list[float]:
    """Give every param group the lr of the scheduler's current step; returns them."""
    t, lambdas = scheduler.last_epoch, scheduler.lr_lambdas
    lrs = [base * fn(t) for base, fn in zip(scheduler.base_lrs, lambdas, strict=True)]
    for group, lr in zip(optimizer.param_groups, lrs, strict=True):
        group["lr"] = lr
    scheduler._last_lr = lrs
    return lrs


def _load_schedule(path, run: _Run, state: Mapping | None, old_epochs: int | None) -> None:
    """The checkpoint's schedule at ``run.step``, re-planned over ``config.epochs`` (one
    warning when that changes the cosine); without a state, the config's at ``run.step``."""
    sched, cfg = run.scheduler, run.config
    if state is None:
        sched.last_epoch = run.step
        _set_lrs(run.optimizer, sched)
        warnings.warn(
            f"{path} holds no scheduler state: the {cfg.scheduler} schedule is rebuilt from "
            f"the config and goes on from step {run.step}",
            stacklevel=5,
        )
        return
    planned = [getattr(fn, "total_steps", None) for fn in sched.lr_lambdas]
    sched.load_state_dict(state)
    was = getattr(sched.lr_lambdas[0], "total_steps", None)
    for fn, total in zip(sched.lr_lambdas, planned, strict=True):
        if total is not None:
            fn.total_steps = total
    if cfg.scheduler != "cosine" or was == planned[0] or run.epoch >= cfg.epochs:
        return  # nothing changes (or nothing is left to train)
    before = run.optimizer.param_groups[0]["lr"]
    after = _set_lrs(run.optimizer, sched)[0]
    what = f"steps per epoch changed ({was} -> {planned[0]} steps)"
    if old_epochs is not None and old_epochs != cfg.epochs:
        verb = "extending" if cfg.epochs > old_epochs else "shortening"
        what = f"{verb} from {old_epochs} to {cfg.epochs} epochs"
    warnings.warn(
        f"{what}: the cosine schedule is re-planned over {cfg.epochs} epochs ({planned[0]} "
        f"steps) from step {run.step} (lr {before:.3g} -> {after:.3g})",
        stacklevel=5,
    )


_RUN_ONLY = {"epochs", "checkpoint", "log_every", "eval_every", "num_workers", "device"}


def _warn_changes(old: Mapping, new: Mapping, history: History, steps_per_epoch: int) -> None:
    diff = [
        f"{k}: {old[k]!r} -> {new[k]!r}"
        for k in new
        if k in old and k not in _RUN_ONLY and old[k] != new[k]
    ]
    if history.steps_per_epoch and history.steps_per_epoch != steps_per_epoch:
        diff.append(f"steps_per_epoch: {history.steps_per_epoch} -> {steps_per_epoch}")
    if diff:
        warnings.warn(
            "resuming with other settings than the checkpoint (the run will not "
            "match an uninterrupted one): " + "; ".join(diff),
            stacklevel=5,
        )


def _evaluate(evaluate, model, codec, val_set) -> dict[str, float]:
    metrics = evaluate(model, codec, val_set)
    if not isinstance(metrics, Mapping):
        raise ValueError(f"evaluate: expected a dict of metrics, got {type(metrics).__name__}")
    return {str(k): float(v) for k, v in metrics.items()}


@dataclass
class _Run:
    """The state of one training run (what a checkpoint stores)."""

    model: nn.Module
    codec: Codec
    loss_fn: LossFn
    optimizer: torch.optim.Optimizer
    scheduler: Any
    config: TrainConfig
    device: torch.device
    history: History
    epoch: int = 0
    step: int = 0
    resumed_from: Path | None = None


def _train_step(run: _Run, batch: dict) -> tuple[float, float, float]:
    """One update; returns ``(loss, lr, grad_norm)`` as floats (lr: the one this step used)."""
    batch = to_device(batch, run.device)
    targets = to_device(run.codec.encode(batch), run.device)
    inputs = batch[run.config.input_key]
    if run.config.channels_last and isinstance(inputs, torch.Tensor) and inputs.ndim == 4:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    outputs = run.model(inputs)
    loss = run.loss_fn(outputs, targets, batch)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(getattr(loss, "shape", ()))
        raise ValueError(f"loss_fn: expected a scalar tensor, got {type(loss).__name__} {shape}")
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(f"loss is {value}: lower the lr, add warm-up or grad_clip")
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = clip_gradients(run.model, run.config.grad_clip)
    lr = run.optimizer.param_groups[0]["lr"]
    run.optimizer.step()
    run.scheduler.step()
    return value, lr, grad_norm


def _train_epoch(run: _Run, train_set, collate_fn, bar) -> float:
    """One pass over ``train_set`` (epoch ``run.epoch``); returns the mean loss."""
    cfg, hist = run.config, run.history
    _seed_globals(_epoch_seeds(cfg.seed, run.epoch)[1])
    loader = _epoch_loader(train_set, cfg, run.epoch, collate_fn, run.device)
    bar.set_description(f"epoch {run.epoch + 1}/{cfg.epochs}")
    run.model.train()
    losses = []
    for batch in loader:
        loss, lr, grad_norm = _train_step(run, batch)
        hist.step_loss.append(loss)
        hist.step_lr.append(lr)
        hist.step_grad_norm.append(grad_norm)
        losses.append(loss)
        run.step += 1
        bar.update(1)
        if run.step % cfg.log_every == 0:
            recent = np.mean(losses[-cfg.log_every :])
            bar.set_postfix(loss=f"{recent:.4g}", lr=f"{lr:.3g}", refresh=False)
    return float(np.mean(losses))


def _end_epoch(run: _Run, val_set, evaluate, spec, seconds: float, extra=None) -> str:
    """Evaluate when due, record the epoch, write the checkpoint; returns the log line."""
    cfg, hist, e = run.config, run.history, run.epoch
    line = f"epoch {e}/{cfg.epochs}: train loss {hist.epoch_loss[-1]:.4g}"
    if val_set is not None and (e % cfg.eval_every == 0 or e == cfg.epochs):
        metrics = _evaluate(evaluate, run.model, run.codec, val_set)
        hist.evals.append({"epoch": e, "step": run.step, **metrics})
        line += "".join(f", {k} {v:.4g}" for k, v in metrics.items())
    hist.epoch_seconds.append(seconds)
    if cfg.checkpoint:
        save_checkpoint(
            cfg.checkpoint,
            run.model,
            run.optimizer,
            run.scheduler,
            e,
            run.step,
            hist,
            spec,
            extra=extra,
            config=cfg,
        )
    return line


def _start(model, codec, loss_fn, train_set, config, optimizer, resume) -> _Run:
    """Device, optimiser, schedule and history of a new run, or of a resumed one."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    if not isinstance(codec, Codec):
        raise TypeError("codec: expected an object with encode(batch) and decode(outputs)")
    device = resolve_device(config.device)
    if config.deterministic:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    spe = _steps_per_epoch(len(train_set), config)
    if optimizer is None:
        optimizer = make_optimizer(
            model, config.optimizer, config.lr, config.weight_decay, config.momentum
        )
    scheduler = _scheduler_for(optimizer, config, spe)
    run = _Run(
        model, codec, loss_fn, optimizer, scheduler, config, device, History(steps_per_epoch=spe)
    )
    if resume is True:
        if not config.checkpoint:
            raise ValueError("resume=True: set config.checkpoint (the file to continue from)")
        resume = config.checkpoint if Path(config.checkpoint).exists() else None
    if resume:
        _resume(resume, run, spe)
    return run


def _say_if_done(run: _Run, last: int, progress: bool) -> None:
    """A resumed run with nothing left to train says so (and keeps its checkpoint)."""
    epochs = run.config.epochs
    if run.epoch > epochs:
        warnings.warn(
            f"{run.resumed_from} holds {run.epoch} epochs, more than epochs={epochs}: "
            "nothing to train, the checkpoint is kept as it is",
            stacklevel=3,
        )
    elif run.epoch >= last and run.resumed_from is not None and progress:
        print(f"nothing to train: {run.resumed_from} already holds {run.epoch}/{epochs} epochs")


def train(
    model: nn.Module,
    codec: Codec,
    loss_fn: LossFn,
    train_set: Dataset,
    val_set: Dataset | None = None,
    config: TrainConfig | None = None,
    evaluate: EvaluateFn | None = None,
    resume: str | Path | bool | None = None,
    progress: bool = True,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    collate_fn: Callable | None = None,
    model_config: Mapping | None = None,
    stop_after: int | None = None,
    checkpoint_extra: Mapping | None = None,
) -> History:
    """Train ``model`` in place; returns the ``History`` (the model ends in eval mode, on
    ``config.device``).

    Each step: ``targets = codec.encode(batch)``, ``outputs = model(batch[input_key])``,
    ``loss = loss_fn(outputs, targets, batch)``, backward, gradient clipping, optimiser step,
    scheduler step (per step). After every ``config.eval_every`` epochs (and the last one)
    ``evaluate(model, codec, val_set)`` is recorded, then the checkpoint ``config.checkpoint``
    is written.

    Args:
        train_set: a Dataset of dict items (``set_epoch(e)`` is called when it exists).
        val_set: evaluated with ``evaluate``; None = no evaluation.
        config: ``TrainConfig`` (default ``TrainConfig()``).
        evaluate: ``(model, codec, val_set) -> {name: value}``, e.g.
            ``functools.partial(posekit.evaluation.evaluate_pckh, batch_size=...)`` or
            ``posekit.evaluation.evaluate_oks_ap``; required with a ``val_set``.
        resume: a checkpoint of this run to continue from; True = ``config.checkpoint`` if
            that file exists (else start afresh: re-running a notebook cell continues).
            With the same config the result equals an uninterrupted run.
        progress: show a tqdm bar (notebook or terminal) and one line per epoch.
        optimizer: use this optimiser instead of ``make_optimizer(config...)`` (e.g. with
            param groups); its lrs are the base lrs of the schedule.
        collate_fn: DataLoader collate function (e.g. ``collate_bottom_up``).
        model_config: ``{"name", "kwargs"}`` stored for ``load_model``; default
            ``get_model_config(model)``.
        stop_after: stop once this many epochs are finished (the schedule still spans
            ``config.epochs``): train in chunks, ``resume`` later.
        checkpoint_extra: plain values stored as every checkpoint's ``extra``.

    Resuming with other ``config.epochs`` than the checkpoint's re-plans a cosine schedule
    over the new length from the checkpoint's step (one warning says so); a checkpoint with
    ``config.epochs`` or more finished epochs is left as it is (nothing to train).
    """
    from tqdm.auto import tqdm

    config = config if config is not None else TrainConfig()
    run = _start(model, codec, loss_fn, train_set, config, optimizer, resume)
    spec = model_config if model_config is not None else get_model_config(model)
    if val_set is not None and not callable(evaluate):
        raise TypeError(
            "evaluate: a val_set needs an evaluation function (model, codec, val_set) -> "
            "{name: value}, e.g. posekit.evaluation.evaluate_pckh"
        )
    last = config.epochs if stop_after is None else min(int(stop_after), config.epochs)
    _say_if_done(run, last, progress)
    total = config.epochs * run.history.steps_per_epoch
    quiet = not progress or run.epoch >= last
    bar = tqdm(total=total, initial=run.step, disable=quiet, unit="step")
    try:
        while run.epoch < last:
            t0 = time.perf_counter()
            run.history.epoch_loss.append(_train_epoch(run, train_set, collate_fn, bar))
            run.epoch += 1
            seconds = time.perf_counter() - t0
            line = _end_epoch(run, val_set, evaluate, spec, seconds, checkpoint_extra)
            if progress:
                bar.write(line)
    finally:
        bar.close()
    model.eval()
    return run.history


__all__ = [
    "CHECKPOINT_FORMAT", "OPTIMIZERS", "SCHEDULERS", "CheckpointError", "CheckpointNotFoundError",
    "Codec", "History", "LRSchedule",
    "TrainConfig", "clip_gradients", "get_model_config", "get_rng_state",
    "load_checkpoint", "load_model", "make_optimizer", "make_scheduler", "model_device", "predict",
    "predict_batches",
    "resolve_device", "save_checkpoint", "set_rng_state", "to_device", "train",
]  # fmt: skip

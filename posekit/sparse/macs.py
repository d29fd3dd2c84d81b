"""Multiply-accumulates counted at the active sites, layer by layer, beside the dense count.

A sparse conv does ``pairs × Cin × Cout`` MACs, ``pairs`` being its rulebook's (input, output)
site pairs over all kernel offsets (the centre included); the same layer run densely does
``output pixels × kh·kw × Cin × Cout`` (a transposed conv: input pixels × kh·kw × Cin × Cout),
as ``torch.utils.flop_counter`` counts a dense ``conv2d``. Pooling, BatchNorm and activations
are not counted (nor are they by ``posekit.bench.count_macs``).

    with count_macs(model) as costs:
        model(x)
    costs.active, costs.dense, costs.rows   # totals and one ``LayerCost`` per conv call
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

__all__ = ["LayerCost", "MacCounter", "count_macs", "record"]

_ACTIVE: list[MacCounter] = []


@dataclass(frozen=True)
class LayerCost:
    """One conv call: its name, kind, sites in/out, rulebook pairs, channels and MACs."""

    name: str
    kind: str
    sites_in: int
    sites_out: int
    pairs: int
    cin: int
    cout: int
    active: int
    dense: int


@dataclass
class MacCounter:
    """``rows``: ``LayerCost`` per conv call, in call order; ``active`` / ``dense``: totals."""

    names: dict[int, str] = field(default_factory=dict)
    rows: list[LayerCost] = field(default_factory=list)

    @property
    def active(self) -> int:
        return sum(r.active for r in self.rows)

    @property
    def dense(self) -> int:
        return sum(r.dense for r in self.rows)

    @property
    def saving(self) -> float:
        """``1 - active / dense``: the fraction of the dense MACs not done (0.96 = "−96 %")."""
        return 1.0 - self.active / self.dense if self.dense else 0.0

    def __enter__(self) -> MacCounter:
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)


def count_macs(model: nn.Module | None = None) -> MacCounter:
    """A context manager that records every sparse conv call inside it (named after ``model``)."""
    names = {} if model is None else {id(m): n or "model" for n, m in model.named_modules()}
    return MacCounter(names)


def record(
    module: nn.Module, kind: str, sites_in: int, sites_out: int, pairs: int,
    cin: int, cout: int, dense_positions: int, kernel_size: int,
) -> None:  # fmt: skip
    """Called by the sparse conv layers: ``dense_positions × kernel_size × Cin × Cout`` dense."""
    for counter in _ACTIVE:
        name = counter.names.get(id(module), type(module).__name__)
        counter.rows.append(
            LayerCost(
                name,
                kind,
                sites_in,
                sites_out,
                pairs,
                cin,
                cout,
                pairs * cin * cout,
                dense_positions * kernel_size * cin * cout,
            )  # fmt: skip
        )

"""Compare a student's answer with the expected one; format values compactly for messages.

``compare(expected, got, ...)`` walks both values together (arrays, tensors, numbers, tuples,
lists, dicts, anything with ``==``) and returns ``None`` when they agree or a ``Mismatch``
holding a one-line reason, a few detail lines and the numeric leaves where they differ (for
the diagnoses). Torch tensors are handled without importing torch: if torch was never
imported, no value can be a tensor.
"""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DTYPE_RULES = ("exact", "kind", "any")
SHOW_WHOLE = 24  # arrays with at most this many values are shown whole
MAX_CHARS = 160  # longest formatted value

_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}


@dataclass
class Mismatch:
    """Why ``got`` differs from ``expected``.

    Attributes:
        reason: one line, e.g. ``"wrong shape: expected (1, 17, 3), got (17, 3)"``.
        details: extra lines (expected vs got values).
        expected, got: numpy versions of the differing leaves, or ``None`` when there is
            nothing numeric to diagnose (wrong type, missing dict key...).
    """

    reason: str
    details: list[str] = field(default_factory=list)
    expected: np.ndarray | None = None
    got: np.ndarray | None = None


def is_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def to_numpy(x: Any) -> Any:
    """A numpy array for an array, tensor (detached, on CPU) or number; anything else as is."""
    if is_tensor(x):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        return x.numpy()
    if isinstance(x, (np.ndarray, np.generic, numbers.Number)):
        return np.asarray(x)
    return x


def is_numeric(x: Any) -> bool:
    """Arrays, tensors and numbers (bool included), but not object or string arrays."""
    x = to_numpy(x)
    return isinstance(x, np.ndarray) and x.dtype.kind in _KINDS


def type_name(x: Any) -> str:
    """``numpy.ndarray``, ``torch.Tensor``, ``list``, ``NoneType``..."""
    if is_tensor(x):
        return "torch.Tensor"
    cls = type(x)
    module = cls.__module__
    return (
        cls.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{cls.__qualname__}"
    )


def shape_str(shape: tuple[int, ...]) -> str:
    """``(1, 17, 3)``; ``(5,)``; ``()``."""
    return str(tuple(int(s) for s in shape))


def dtype_name(x: Any) -> str:
    return str(x.dtype) if is_tensor(x) else str(np.asarray(x).dtype)


def dtype_kind(x: Any) -> str:
    """``bool`` / ``integer`` / ``float`` / ``complex`` / ``other``."""
    return _KINDS.get(to_numpy(x).dtype.kind, "other")


def fmt_number(v: Any) -> str:
    """A number with at most 3 decimals: ``33``, ``31.5``, ``0.123``, ``1.5e-05``, ``nan``."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.4g}"
    v = float(v)
    if not np.isfinite(v) or (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e9)):
        return f"{v:.3g}"
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_array(a: Any, limit: int = SHOW_WHOLE) -> str:
    """One-line array text with rounded floats, ``...`` past ``limit`` values, cut at 160 chars."""
    a = to_numpy(a)
    text = np.array2string(
        a,
        separator=", ",
        formatter={"float_kind": fmt_number},
        threshold=limit,
        edgeitems=2,
        max_line_width=10**6,
    )
    return _cut(" ".join(text.split()))


def format_value(x: Any) -> str:
    """Short description of an input or output: small arrays in full, big ones by shape."""
    if is_tensor(x) or isinstance(x, np.ndarray):
        array = to_numpy(x)
        prefix = "tensor" if is_tensor(x) else "array"
        if array.size <= 6 and array.dtype.kind in _KINDS:
            return f"{prefix}({format_array(array)})"
        return f"{prefix}{shape_str(array.shape)} {dtype_name(x).replace('torch.', '')}"
    if isinstance(x, (list, tuple)) and len(x) > 6:
        return f"{type_name(x)} of {len(x)} items"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(format_value(v) for v in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    if isinstance(x, (numbers.Number, str, type(None))):
        try:
            return _cut(repr(x), 60)
        except Exception:  # a subclass whose __repr__ raises
            return type_name(x)
    return type_name(x)


def format_call(name: str, args: tuple, kwargs: dict) -> str:
    """``flip_keypoints(array(1, 17, 3) float32, 64, 'coco17')``."""
    parts = [format_value(a) for a in args]
    parts += [f"{k}={format_value(v)}" for k, v in kwargs.items()]
    return _cut(f"{name}({', '.join(parts)})", 200)


def _cut(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _prefix(where: str) -> str:
    return "" if where == "output" else f"{where}: "


def compare(
    expected: Any,
    got: Any,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    dtype: str = "kind",
    where: str = "output",
) -> Mismatch | None:
    """``None`` if ``got`` matches ``expected``, else the first ``Mismatch`` found.

    Order: ``None`` returned, type, shape, dtype (``dtype``: ``exact`` same dtype, ``kind``
    same kind of number (float / integer / bool), ``any`` no check), NaN/inf, values
    (``np.isclose(got, expected, atol, rtol)``). Tuples and lists (interchangeable) and dicts
    are compared item by item; ``where`` names the item (``output[1]``, ``output['boxes']``).
    """
    if got is None and expected is not None:
        if where == "output":
            return Mismatch("your function returned None: did you forget the `return` line?")
        return Mismatch(f"{where} is None, expected {format_value(expected)}")
    if isinstance(expected, np.ndarray) and expected.ndim == 0 and _is_scalar(got):
        return _compare_numbers(expected[()], got, atol, rtol, where)
    if is_tensor(expected) or isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got, atol, rtol, dtype, where)
    if _is_scalar(expected):
        return _compare_numbers(expected, got, atol, rtol, where)
    if isinstance(expected, (tuple, list)):
        return _compare_sequences(expected, got, atol, rtol, dtype, where)
    if isinstance(expected, dict):
        return _compare_dicts(expected, got, atol, rtol, dtype, where)
    if _equal(expected, got):
        return None
    return Mismatch(f"{_prefix(where)}expected {format_value(expected)}, got {format_value(got)}")


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (numbers.Number, np.generic))


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _wrong_array_type(expected: Any, got: Any) -> str | None:
    if is_tensor(expected):
        if is_tensor(got):
            return None
        fix = " (convert with torch.from_numpy(...))" if isinstance(got, np.ndarray) else ""
        return f"wrong type: expected a torch.Tensor, got {type_name(got)}{fix}"
    if isinstance(got, (np.ndarray, np.generic)):
        return None
    fix = ""
    if is_tensor(got):
        fix = " (convert with .detach().cpu().numpy())"
    elif isinstance(got, (list, tuple, numbers.Number)):
        fix = " (wrap it with np.asarray(...))"
    return f"wrong type: expected a numpy array, got {type_name(got)}{fix}"


def _wrong_dtype(expected: Any, got: Any, rule: str) -> str | None:
    want, have = dtype_name(expected), dtype_name(got)
    if rule == "exact" and want != have:
        fix = ".float()" if is_tensor(got) else f".astype(np.{want})"
        return f"wrong dtype: expected {want}, got {have} (convert with {fix})"
    if rule == "kind" and dtype_kind(expected) != dtype_kind(got):
        return f"wrong dtype: expected a {dtype_kind(expected)} array ({want}), got {have}"
    return None


def _compare_arrays(
    expected: Any, got: Any, atol: float, rtol: float, dtype: str, where: str
) -> Mismatch | None:
    p = _prefix(where)
    wrong_type = _wrong_array_type(expected, got)
    if wrong_type:
        return Mismatch(p + wrong_type)
    e, g = to_numpy(expected), to_numpy(got)
    if e.shape != g.shape:
        reason = f"{p}wrong shape: expected {shape_str(e.shape)}, got {shape_str(g.shape)}"
        return Mismatch(reason, expected=e, got=g)
    wrong_dtype = _wrong_dtype(expected, got, dtype)
    if wrong_dtype:
        return Mismatch(p + wrong_dtype, expected=e, got=g)
    return compare_values(e, g, atol=atol, rtol=rtol, where=where)


def compare_values(
    e: np.ndarray, g: np.ndarray, *, atol: float, rtol: float, where: str = "output"
) -> Mismatch | None:
    """Value comparison of two same-shape numeric arrays: NaN/inf first, then max abs error."""
    if e.dtype.kind not in _KINDS or g.dtype.kind not in _KINDS:
        if np.array_equal(e, g):
            return None
        return Mismatch(f"{_prefix(where)}values differ", _show(e, g, None))
    as_type = np.complex128 if "c" in (e.dtype.kind, g.dtype.kind) else np.float64
    ef, gf = e.astype(as_type), g.astype(as_type)
    with np.errstate(all="ignore"):
        ok = np.isclose(gf, ef, atol=atol, rtol=rtol, equal_nan=True)
        if ok.all():
            return None
        err = np.where(ok, 0.0, np.abs(gf - ef))
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    reason = _nonfinite_reason(ef, gf) or _error_reason(err, worst, int((~ok).sum()))
    return Mismatch(_prefix(where) + reason, _show(e, g, worst), expected=e, got=g)


def _index_str(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _nonfinite_reason(ef: np.ndarray, gf: np.ndarray) -> str | None:
    for label, test in (("NaN", np.isnan), ("inf", np.isinf)):
        bad = test(gf) & ~test(ef)
        if bad.any():
            first = np.argwhere(bad)[0]
            at = f", first at {_index_str(tuple(first))}" if first.size else ""
            return f"your output contains {label} ({int(bad.sum())} of {bad.size} values{at})"
    return None


def _error_reason(err: np.ndarray, worst: tuple, n_wrong: int) -> str:
    reason = f"values differ: max abs error {fmt_number(err[worst])}"
    if worst:
        reason += f" at {_index_str(worst)}"
    if err.size > 1:
        reason += f" ({n_wrong} of {err.size} values wrong)"
    return reason


def _show(e: np.ndarray, g: np.ndarray, worst: tuple | None) -> list[str]:
    """expected/got lines: whole arrays when small, else the row (last axis) around ``worst``."""
    if e.size <= SHOW_WHOLE or not worst:
        return _aligned(("expected", format_array(e)), ("got", format_array(g)))
    if e.shape[-1] <= SHOW_WHOLE:
        row = worst[:-1]
        label = _index_str(row)[:-1] + ", :]"
        return _aligned(
            (f"expected{label}", format_array(e[row])), (f"got{label}", format_array(g[row]))
        )
    label = _index_str(worst)
    return _aligned(
        (f"expected{label}", fmt_number(e[worst])), (f"got{label}", fmt_number(g[worst]))
    )


def _aligned(*rows: tuple[str, str]) -> list[str]:
    width = max(len(name) for name, _ in rows) + 1
    return [f"{name + ':':<{width}} {text}" for name, text in rows]


def _compare_numbers(
    expected: Any, got: Any, atol: float, rtol: float, where: str
) -> Mismatch | None:
    p = _prefix(where)
    if is_tensor(got):
        return Mismatch(f"{p}wrong type: expected a number, got a torch.Tensor (use .item())")
    if isinstance(got, np.ndarray) and got.ndim > 0:
        return Mismatch(
            f"{p}wrong type: expected a single number, got an array of shape {shape_str(got.shape)}"
        )
    if not isinstance(got, (numbers.Number, np.generic, np.ndarray)) or not is_numeric(got):
        return Mismatch(f"{p}wrong type: expected a number, got {type_name(got)}")
    e, g = to_numpy(expected), to_numpy(got)
    with np.errstate(all="ignore"):
        if np.isclose(g.astype(complex), e.astype(complex), atol=atol, rtol=rtol, equal_nan=True):
            return None
        error = abs(complex(g) - complex(e))
    reason = f"{p}expected {fmt_number(e[()])}, got {fmt_number(g[()])}"
    if np.isfinite(error):
        reason += f" (abs error {fmt_number(error)})"
    return Mismatch(reason, expected=e, got=g)


def _compare_sequences(
    expected: Any, got: Any, atol: float, rtol: float, dtype: str, where: str
) -> Mismatch | None:
    p = _prefix(where)
    if not isinstance(got, (tuple, list)):
        return Mismatch(
            f"{p}wrong type: expected a {type_name(expected)} of {len(expected)} items, "
            f"got {type_name(got)}"
        )
    if len(got) != len(expected):
        return Mismatch(f"{p}expected {len(expected)} items, got {len(got)}")
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        mismatch = compare(e, g, atol=atol, rtol=rtol, dtype=dtype, where=f"{where}[{i}]")
        if mismatch:
            return mismatch
    return None


def _compare_dicts(
    expected: dict, got: Any, atol: float, rtol: float, dtype: str, where: str
) -> Mismatch | None:
    p = _prefix(where)
    if not isinstance(got, dict):
        return Mismatch(f"{p}wrong type: expected a dict, got {type_name(got)}")
    missing = [k for k in expected if k not in got]
    if missing:
        return Mismatch(f"{p}missing keys {missing}")
    extra = [k for k in got if k not in expected]
    if extra:
        return Mismatch(f"{p}unexpected keys {extra}")
    for key, e in expected.items():
        mismatch = compare(
            e, got[key], atol=atol, rtol=rtol, dtype=dtype, where=f"{where}[{key!r}]"
        )
        if mismatch:
            return mismatch
    return None


def same(a: Any, b: Any) -> bool:
    """Exact equality used to detect a modified input (NaN equals NaN; unknown objects: True)."""
    if is_tensor(a) or isinstance(a, np.ndarray):
        if type(a) is not type(b) or a.shape != b.shape or dtype_name(a) != dtype_name(b):
            return False
        x, y = to_numpy(a), to_numpy(b)
        return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if callable(getattr(a, "state_dict", None)):
        return same(dict(a.state_dict()), dict(b.state_dict()))
    if type(a).__eq__ is object.__eq__:
        return True
    result = _equal(a, b)
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return result

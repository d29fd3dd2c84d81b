"""A minimal reader of the constant tensors of a ``.tflite`` file (tests only, numpy only).

A ``.tflite`` file is a FlatBuffer of TensorFlow Lite's ``schema.fbs`` (``Model`` → ``subgraphs``
→ ``tensors`` with ``shape``, ``type``, ``buffer``, ``name``; ``Model.buffers`` → ``data``).
This reads just those fields, so a test can compare the weights stored in a released
``.tflite`` with a port's without TensorFlow or LiteRT installed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

# schema.fbs TensorType → numpy dtype (the types a weight tensor can have)
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8,
           10: np.float64, 7: np.int16}  # fmt: skip


class _Table:
    """A FlatBuffer table at byte ``pos`` of ``buf``: fields by their schema index."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        vsize = struct.unpack_from("<H", buf, vtable)[0]
        self.offsets = struct.unpack_from(f"<{(vsize - 4) // 2}H", buf, vtable + 4)

    def _field(self, index: int) -> int | None:
        off = self.offsets[index] if index < len(self.offsets) else 0
        return self.pos + off if off else None

    def scalar(self, index: int, fmt: str, default=0):
        at = self._field(index)
        return default if at is None else struct.unpack_from("<" + fmt, self.buf, at)[0]

    def _target(self, index: int) -> int | None:
        at = self._field(index)
        return None if at is None else at + struct.unpack_from("<I", self.buf, at)[0]

    def vector(self, index: int) -> tuple[int, int]:
        """(start of the elements, length); (0, 0) when the field is absent."""
        at = self._target(index)
        return (0, 0) if at is None else (at + 4, struct.unpack_from("<I", self.buf, at)[0])

    def tables(self, index: int) -> list[_Table]:
        start, n = self.vector(index)
        return [
            _Table(self.buf, start + 4 * i + struct.unpack_from("<I", self.buf, start + 4 * i)[0])
            for i in range(n)
        ]

    def string(self, index: int) -> str:
        start, n = self.vector(index)
        return self.buf[start : start + n].decode()


def tflite_constants(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of the first subgraph that has stored data, by name, as a numpy array of
    its stored type and shape (a float16 weight stays float16)."""
    buf = Path(path).read_bytes()
    model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
    buffers = model.tables(4)  # Model.buffers
    out = {}
    for tensor in model.tables(2)[0].tables(0):  # Model.subgraphs[0].tensors
        start, n = tensor.vector(0)  # Tensor.shape
        shape = struct.unpack_from(f"<{n}i", buf, start) if n else ()
        ttype, index, name = tensor.scalar(1, "b"), tensor.scalar(2, "I"), tensor.string(3)
        if index >= len(buffers):
            continue
        data_start, size = buffers[index].vector(0)  # Buffer.data
        if not size:  # data outside the FlatBuffer (files over 2 GB): Buffer.offset, .size
            data_start, size = buffers[index].scalar(1, "Q"), buffers[index].scalar(2, "Q")
        if size <= 1 or ttype not in _DTYPES:
            continue
        out[name] = np.frombuffer(buf, _DTYPES[ttype], size // np.dtype(_DTYPES[ttype]).itemsize,
                                  data_start).reshape(shape)  # fmt: skip
    return out

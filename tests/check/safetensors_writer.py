"""Tiny ``.safetensors`` files written without torch or the safetensors package (the format
is an 8-byte header length, a JSON header and the raw bytes): for check's tests.

    python tests/check/safetensors_writer.py   # rewrites tests/check/bad/*.safetensors
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

ITEM = {"F32": 4, "F16": 2, "I64": 8}


def write_safetensors(path: Path, tensors: dict[str, tuple[tuple[int, ...], str]]) -> Path:
    """``{name: (shape, "F32")}`` as a safetensors file of zeros."""
    header, offset = {}, 0
    for name, (shape, dtype) in tensors.items():
        size = math.prod(shape) * ITEM[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    return Path(path)


#: the golden spec bad/weights_do_not_fit.lit reads this file: a Body(4) saved under
#: ``encoder.`` and a head of another width
GOLDEN = {"encoder.layers.0.weight": ((4, 2), "F32"), "encoder.layers.0.bias": ((4,), "F32"),
          "head.weight": ((2, 4), "F32"), "head.bias": ((2,), "F32")}

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "bad" / "weights_body.safetensors"
    print(write_safetensors(target, GOLDEN), target.stat().st_size, "bytes")

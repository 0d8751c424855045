"""Character-level text files: the ``text`` source of a character language model.

The windowing itself is :mod:`lightdsl.runtime.text`, shared with generated scripts; this module
adds lightdsl's checks (file, encoding, length) as :class:`~lightdsl.errors.DataError`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lightdsl.data.dataset import Dataset
from lightdsl.errors import DataError
from lightdsl.runtime.text import encode_text, text_windows


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8), or a DataError naming the file."""
    if not Path(path).is_file():
        raise DataError("file not found", path=str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text ({err.reason} at byte {err.start})",
                        path=str(path)) from err
    return text


def load_text(path: str | Path, seq_len: int = 64, stride: int | None = None) -> Dataset:
    """A UTF-8 text file as next-character samples: inputs (N, seq_len) int64 indices into
    the file's sorted distinct characters, labels (N, seq_len) the character after each input
    position. Windows start every ``stride`` characters (default ``seq_len``: no overlap)."""
    text = read_text(path)
    if len(text) < seq_len + 1:
        raise DataError(f"the file has {len(text)} characters; seq_len = {seq_len} needs at "
                        f"least {seq_len + 1}", path=str(path), hint="use a smaller seq_len")
    inputs, labels = text_windows(encode_text(text), seq_len, stride)
    return Dataset(inputs, labels, source=str(path))


def unigram_baseline(labels: torch.Tensor) -> float:
    """The entropy, in nats, of the class frequencies in ``labels``: the lowest mean
    cross-entropy on them of any model that ignores its inputs (its best constant prediction
    is those very frequencies). A language model that reads context must go below it."""
    counts = torch.bincount(labels.reshape(-1)).double()
    freq = counts[counts > 0] / counts.sum()
    return float(-(freq * freq.log()).sum())

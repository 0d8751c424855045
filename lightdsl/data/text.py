"""Character-level text files: the ``text`` source of a character language model.

The windowing itself is :mod:`lightdsl.runtime.text`, shared with generated scripts; this module
adds lightdsl's checks (file, encoding, length) as :class:`~lightdsl.errors.DataError`.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import torch

from lightdsl.data.dataset import Dataset
from lightdsl.errors import DataError
from lightdsl.runtime.text import encode_chunks, file_chunks, text_windows


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8), or a DataError naming the file."""
    if not Path(path).is_file():
        raise DataError("file not found", path=str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err
    return text


def encode_file(path: str | Path) -> tuple[torch.Tensor, list[str]]:
    """The file's characters as indices into its sorted distinct characters (int16, or int32
    beyond 32,767 characters: loaders widen each batch to int64), and those characters: read
    in chunks, about 2 bytes of memory a character (see
    :func:`lightdsl.runtime.text.encode_chunks`); a DataError naming the file."""
    if not Path(path).is_file():
        raise DataError("file not found", path=str(path))
    try:
        return encode_chunks(file_chunks(path), compact=True)
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err


def _not_utf8(path: str | Path) -> DataError:
    """Where the file stops being UTF-8: decoded again in binary chunks, counting bytes (a
    chunked text read gives positions inside a chunk)."""
    decoder, offset = codecs.getincrementaldecoder("utf-8")(), 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                start = offset - pending + err.start
                return DataError(f"not UTF-8 text ({err.reason} at byte {start})", path=str(path))
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        return DataError(f"not UTF-8 text ({err.reason} at byte {offset - len(err.object) + err.start})",
                         path=str(path))
    return DataError("not UTF-8 text", path=str(path))


def load_text(path: str | Path, seq_len: int = 64, stride: int | None = None) -> Dataset:
    """A UTF-8 text file as next-character samples: inputs (N, seq_len) indices (int16, see
    :func:`encode_file`) into the file's sorted distinct characters, labels (N, seq_len) the
    character after each input position. Windows start every ``stride`` characters (default
    ``seq_len``: no overlap)."""
    ids, _ = encode_file(path)
    if len(ids) < seq_len + 1:
        raise DataError(f"the file has {len(ids)} characters; seq_len = {seq_len} needs at "
                        f"least {seq_len + 1}", path=str(path), hint="use a smaller seq_len")
    inputs, labels = text_windows(ids, seq_len, stride)
    return Dataset(inputs, labels, source=str(path))


def unigram_baseline(labels: torch.Tensor) -> float:
    """The entropy, in nats, of the class frequencies in ``labels``: the lowest mean
    cross-entropy on them of any model that ignores its inputs (its best constant prediction
    is those very frequencies). A language model that reads context must go below it."""
    counts = torch.bincount(labels.reshape(-1)).double()
    freq = counts[counts > 0] / counts.sum()
    return float(-(freq * freq.log()).sum())

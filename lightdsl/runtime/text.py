"""Character-level text: a file's characters as index sequences for next-character prediction.

A file is encoded in chunks with NumPy, twice over (count the characters, then map them), so
memory holds the indices and one chunk: never a Python object per character (a list of a 200 MB
file's characters needed about 4 GB). Generated scripts keep int64 indices; lightdsl keeps them
compact (int16: two bytes a character) and its loaders widen each batch.
"""

from pathlib import Path

import numpy as np
import torch


def text_vocabulary(text):
    """The distinct characters of ``text``, sorted: character ``vocabulary[i]`` has index i."""
    return sorted(set(text))


def encode_text(text):
    """``text`` as an int64 tensor of indices into its :func:`text_vocabulary`."""
    return encode_chunks(lambda: iter([text]))[0]


def encode_chunks(chunks, compact=False):
    """Indices (int64 tensor) of the characters the iterables ``chunks()`` yields (strings),
    into their sorted distinct characters, and those characters. ``chunks`` is called twice.
    ``compact`` (lightdsl's own loading, whose loaders widen each batch to int64): int16
    indices for up to 32,767 distinct characters, else int32, a quarter of the memory."""
    counts = np.zeros(0x110000, dtype=np.int64)  # every Unicode code point
    for chunk in chunks():
        counts += np.bincount(_code_points(chunk), minlength=0x110000)
    present = np.flatnonzero(counts)
    narrow = np.int16 if len(present) < 2**15 else np.int32
    dtype = narrow if compact else np.int64
    lookup = np.zeros(0x110000, dtype=dtype)
    lookup[present] = np.arange(len(present))
    out = np.empty(int(counts.sum()), dtype=dtype)
    ids, start = torch.from_numpy(out), 0
    for chunk in chunks():
        codes = _code_points(chunk)
        np.take(lookup, codes, out=out[start : start + len(codes)])
        start += len(codes)
    return ids, [chr(code) for code in present]


def _code_points(text):
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def file_chunks(path, size=1 << 20):
    """``chunks()`` for :func:`encode_chunks`: a UTF-8 file's text, ``size`` characters at a
    time, newlines translated as ``Path.read_text`` does."""

    def chunks():
        with open(path, encoding="utf-8") as handle:
            while chunk := handle.read(size):
                yield chunk

    return chunks


def text_windows(ids, seq_len, stride=None):
    """Windows of ``seq_len + 1`` indices every ``stride`` (default ``seq_len``) positions:
    inputs are each window's first ``seq_len`` indices, labels the next character of each
    input position (the window shifted by one). Both (N, seq_len), of the dtype of ``ids``:
    views of ``ids`` (``contiguous`` copies nothing for these strides)."""
    windows = ids.unfold(0, seq_len + 1, stride or seq_len)
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()


def load_text(path, seq_len=64, stride=None):
    """A UTF-8 text file as (inputs, labels) for a character-level language model: inputs
    (N, seq_len) character indices into the file's sorted characters, labels the next
    characters (N, seq_len)."""
    ids, _ = encode_chunks(file_chunks(Path(path)))
    return text_windows(ids, seq_len, stride)

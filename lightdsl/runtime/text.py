"""Character-level text: a file's characters as index sequences for next-character prediction."""

from pathlib import Path

import torch


def text_vocabulary(text):
    """The distinct characters of ``text``, sorted: character ``vocabulary[i]`` has index i."""
    return sorted(set(text))


def encode_text(text):
    """``text`` as an int64 tensor of indices into its :func:`text_vocabulary`."""
    index = {char: i for i, char in enumerate(text_vocabulary(text))}
    return torch.tensor([index[char] for char in text], dtype=torch.int64)


def text_windows(ids, seq_len, stride=None):
    """Windows of ``seq_len + 1`` indices every ``stride`` (default ``seq_len``) positions:
    inputs are each window's first ``seq_len`` indices, labels the next character of each
    input position (the window shifted by one). Both (N, seq_len) int64."""
    windows = ids.unfold(0, seq_len + 1, stride or seq_len)
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()


def load_text(path, seq_len=64, stride=None):
    """A UTF-8 text file as (inputs, labels) for a character-level language model: inputs
    (N, seq_len) character indices into the file's sorted characters, labels the next
    characters (N, seq_len)."""
    text = Path(path).read_text(encoding="utf-8")
    return text_windows(encode_text(text), seq_len, stride)

"""Text files are encoded without a Python object per character (issue 16 item 17): the
indices equal the old per-character encoding of `Path.read_text`, and memory grows by about
the int64 indices, not by gigabytes of Python ints."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.data.split import split
from lightdsl.data.text import load_text
from lightdsl.errors import DataError
from lightdsl.runtime.text import encode_chunks, encode_text, file_chunks, text_vocabulary
from tests.helpers.runner import run_code

ROOT = Path(__file__).resolve().parents[2]


def per_character(text: str) -> torch.Tensor:
    """The encoding as it was: a dict lookup per character."""
    index = {char: i for i, char in enumerate(text_vocabulary(text))}
    return torch.tensor([index[char] for char in text], dtype=torch.int64)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.sampled_from("ab\r\n é🙂\x00\ufeff"), max_size=300), st.integers(1, 7))
def test_chunked_encoding_equals_the_per_character_one(tmp_path, text, size):
    """Chunks of any size (a \\r\\n split between two), newlines, BOMs, astral characters."""
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8"))
    expected = path.read_text(encoding="utf-8")
    ids, vocabulary = encode_chunks(file_chunks(path, size))
    assert vocabulary == text_vocabulary(expected)
    assert torch.equal(ids, per_character(expected)) and torch.equal(encode_text(expected), ids)
    compact, same = encode_chunks(file_chunks(path, size), compact=True)
    assert compact.dtype == torch.int16 and same == vocabulary and torch.equal(compact.long(), ids)


def test_compact_indices_reach_the_model_as_int64_from_either_loader(tmp_path):
    from lightdsl.compile.data import make_loader

    path = tmp_path / "t.txt"
    path.write_text("hello world, hello text! " * 40, encoding="utf-8")
    data = load_text(path, seq_len=5)
    for workers in (0, 1):
        loader = make_loader(data, {"batch_size": 8, "num_workers": workers}, train=False)
        inputs, labels = next(iter(loader))
        assert inputs.dtype == labels.dtype == torch.int64, workers
        assert torch.equal(inputs, data.inputs[:8].long()) and torch.equal(labels,
                                                                           data.labels[:8].long())


def test_an_invalid_byte_is_located_in_the_file_not_in_a_chunk(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("é".encode() * (3 << 20) + b"\xff" + b"abc")
    with pytest.raises(DataError, match=f"invalid start byte at byte {6 << 20}"):
        load_text(path, seq_len=8)
    path.write_bytes(b"abcdefghijk\xc3")
    with pytest.raises(DataError, match="unexpected end of data at byte 11"):
        load_text(path, seq_len=8)


def test_a_split_of_text_windows_shares_one_copy_of_each_window(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("hello world, hello text! " * 40, encoding="utf-8")
    data = load_text(path, seq_len=5)
    train, _ = split(data, 0.25, seed=3)
    expected_inputs, expected_labels = data.inputs[train.origin], data.labels[train.origin]
    assert torch.equal(train.inputs, expected_inputs) and torch.equal(train.labels, expected_labels)
    assert train.labels.untyped_storage().data_ptr() == train.inputs.untyped_storage().data_ptr()
    assert train.inputs.dtype == torch.int16  # two bytes a character; loaders widen batches
    assert train.inputs.untyped_storage().nbytes() == len(train) * 6 * 2  # windows of 6
    again, _ = split(train, 0.5, seed=1)  # a split of a split still shares
    assert torch.equal(again.labels, data.labels[again.origin])


GROWTH = """
import resource, sys
import torch
from lightdsl.data.text import load_text
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
data = load_text(sys.argv[1], seq_len=64)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, len(data))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in kB is Linux's")
def test_loading_text_grows_memory_by_about_its_int16_indices(tmp_path):
    """A 40 MB file: the indices are 2 bytes a character (80 MB; 110 MB measured with the
    chunk buffers); the old encoding built a list of 40 M Python ints first and peaked above
    700 MB, and int64 indices took 320 MB (a 200 MB file under --fast-dev-run: 3.6 GB peak,
    now 1.1 GB)."""
    size = 40 * 2**20
    path = tmp_path / "big.txt"
    path.write_bytes((b"the quick brown fox jumps over the lazy dog\n" * (size // 44 + 1))[:size])
    done = run_code(GROWTH, path, cwd=ROOT, check=True, timeout=600)
    grown_kb, windows = map(int, done.stdout.split())
    assert windows == (size - 1) // 64
    assert grown_kb * 1024 < 3.5 * size, f"peak grew by {grown_kb / 1024:.0f} MB"

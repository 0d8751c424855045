"""IDX headers that lie about the file (issue 11 item 10): the header's claim is compared with
what the file holds before anything is allocated, and every malformed file is a DataError."""

from __future__ import annotations

import gzip
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.data import load_idx, read_idx, write_idx
from lightdsl.errors import DataError


def _header(code: int, dims: list[int]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}i", *dims)


@pytest.mark.parametrize("compress", [False, True])
def test_header_claiming_more_items_says_claimed_and_held(tmp_path, compress):
    # the header claims 60000 28x28 images; the file holds 3 of them (no MemoryError, no 47 MB
    # allocation: the claim is compared with the file size first)
    payload = _header(0x08, [60000, 28, 28]) + bytes(3 * 28 * 28)
    path = tmp_path / ("images.gz" if compress else "images")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(DataError) as err:
        read_idx(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: truncated IDX file")
    assert "header says 60000 items of shape (28, 28)" in msg
    assert "room for 3 items" in msg
    assert f"has {16 + 3 * 28 * 28} bytes" in msg


def test_huge_dims_are_refused_before_allocating(tmp_path):
    # 2**31-1 items of 1000 int32: 8.6 TB claimed; compared with the file, never allocated
    path = tmp_path / "huge"
    path.write_bytes(_header(0x0C, [2**31 - 1, 1000]) + bytes(40))
    with pytest.raises(DataError, match=r"header says 2147483647 items .* room for 0 items"):
        read_idx(path)


@pytest.mark.parametrize("first", [2**31 - 1, 0])
def test_absurd_dims_say_so(tmp_path, first):
    # (2**31-1)**3 float64 values cannot even be described by numpy, with 0 items or not
    path = tmp_path / "absurd"
    path.write_bytes(_header(0x0E, [first, 2**31 - 1, 2**31 - 1]) + bytes(40))
    with pytest.raises(DataError, match=r"IDX header claims an absurd shape"):
        read_idx(path)


def test_negative_dimension(tmp_path):
    path = tmp_path / "negative"
    path.write_bytes(_header(0x08, [4, -2]) + bytes(8))
    with pytest.raises(DataError, match="dimension 1 has size -2"):
        read_idx(path)


def test_lying_labels_file_names_it(tmp_path, small_images):
    images = write_idx(tmp_path / "images", small_images)
    labels = tmp_path / "labels"
    labels.write_bytes(_header(0x08, [10000]) + bytes(12))
    with pytest.raises(DataError) as err:
        load_idx(images, labels)
    assert str(err.value).startswith(str(labels)) and "room for 12 items" in str(err.value)


@st.composite
def lying_idx(draw) -> tuple[bytes, bool]:
    """An IDX file with a random (possibly lying, negative, absurd) header and a random
    payload; sometimes cut anywhere, sometimes gzipped."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07, 0x00]))
    ndim = draw(st.integers(0, 4))
    dims = draw(st.lists(st.one_of(st.integers(0, 6), st.integers(-(2**31), 2**31 - 1)),
                         min_size=ndim, max_size=ndim))
    payload = draw(st.binary(max_size=200))
    data = bytes([0, 0, code, ndim]) + struct.pack(f">{ndim}i", *dims) + payload
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    data = data if cut is None else data[:cut]
    gzipped = draw(st.booleans())
    return (gzip.compress(data) if gzipped else data), gzipped


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(lying_idx())
def test_any_malformed_idx_is_a_data_error(tmp_path, case):
    data, _ = case
    path = tmp_path / "random.idx"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except DataError as error:
        assert str(error).startswith(str(path))
        return
    # read without error: then the header told the truth about every byte
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert array.ndim == raw[3]
    assert array.nbytes == len(raw) - 4 - 4 * raw[3]

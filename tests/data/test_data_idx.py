"""IDX reading: hand-written headers, gzip or not, and every malformed-file message."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from lightdsl.data import load_idx, read_idx, write_idx
from lightdsl.errors import DataError


def test_reads_hand_written_header(tmp_path):
    # magic 0x00000803 (uint8, 3 dims), dims 2 x 2 x 3, then 12 bytes.
    payload = bytes([0, 0, 8, 3]) + struct.pack(">iii", 2, 2, 3) + bytes(range(12))
    path = tmp_path / "hand.idx"
    path.write_bytes(payload)
    array = read_idx(path)
    assert array.shape == (2, 2, 3) and array.dtype == np.uint8
    assert array[1, 0, 2] == 8 and array.ravel().tolist() == list(range(12))


def test_big_endian_int32_and_float(tmp_path):
    (tmp_path / "i32").write_bytes(
        bytes([0, 0, 0x0C, 1]) + struct.pack(">i", 2) + struct.pack(">ii", 70000, -5)
    )
    (tmp_path / "f32").write_bytes(
        bytes([0, 0, 0x0D, 1]) + struct.pack(">i", 2) + struct.pack(">ff", 1.5, -0.25)
    )
    assert read_idx(tmp_path / "i32").tolist() == [70000, -5]
    assert read_idx(tmp_path / "f32").tolist() == [1.5, -0.25]


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz", "gzipped-without-suffix"])
def test_round_trip_plain_and_gzip(tmp_path, small_images, name):
    path = write_idx(tmp_path / name, small_images, compress=name != "images.idx")
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (name != "images.idx")
    np.testing.assert_array_equal(read_idx(path), small_images)


def test_load_idx_shapes_and_dtypes(idx_pair, small_images, small_labels):
    ds = load_idx(*idx_pair)
    assert ds.inputs.shape == (12, 1, 5, 4) and ds.inputs.dtype == torch.uint8
    assert ds.labels.dtype == torch.int64
    assert ds.labels.tolist() == small_labels.tolist()
    assert torch.equal(ds.inputs[3, 0], torch.from_numpy(small_images[3]))


def test_load_idx_gzipped_pair(tmp_path, small_images, small_labels):
    ds = load_idx(
        write_idx(tmp_path / "i.gz", small_images), write_idx(tmp_path / "l.gz", small_labels)
    )
    assert ds.inputs.shape == (12, 1, 5, 4) and ds.labels[2] == 2


def test_truncated_file_says_expected_and_actual_bytes(tmp_path, small_images):
    path = write_idx(tmp_path / "images", small_images)
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(DataError) as err:
        read_idx(path)
    msg = str(err.value)
    assert str(path) in msg and "truncated" in msg
    assert f"{len(data)} bytes" in msg and f"has {len(data) - 7} bytes" in msg


def test_truncated_gzip_payload(tmp_path, small_images):
    path = tmp_path / "images.gz"
    raw = write_idx(tmp_path / "raw", small_images).read_bytes()
    path.write_bytes(gzip.compress(raw[:100]))
    with pytest.raises(DataError, match=r"decompressed data has 100 bytes") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_corrupt_gzip(tmp_path, small_images):
    path = write_idx(tmp_path / "images.gz", small_images)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError, match="gzip") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_bad_magic_number(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(DataError, match=r"not an IDX file: magic number is 0x68656c6c"):
        read_idx(path)


def test_unknown_dtype_code(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">i", 1) + b"\0")
    with pytest.raises(DataError, match="unknown IDX dtype code 0x07"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">i", 60000))
    with pytest.raises(DataError, match="truncated IDX header: 3 dimensions need 16 bytes"):
        read_idx(path)


def test_extra_bytes_are_an_error(tmp_path, small_labels):
    path = write_idx(tmp_path / "labels", small_labels)
    path.write_bytes(path.read_bytes() + b"\x01\x02")
    with pytest.raises(DataError, match="longer than its header says: expected 20 bytes"):
        read_idx(path)


def test_count_mismatch_names_both_files(tmp_path, small_images, small_labels):
    images = write_idx(tmp_path / "imgs", small_images)
    labels = write_idx(tmp_path / "labs", small_labels[:10])
    with pytest.raises(DataError) as err:
        load_idx(images, labels)
    msg = str(err.value)
    assert msg.startswith(str(labels)) and str(images) in msg and "10 labels for 12 images" in msg


def test_swapped_files(idx_pair):
    images, labels = idx_pair
    with pytest.raises(DataError, match="swap") as err:
        load_idx(labels, images)
    assert str(labels) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found") as err:
        load_idx(tmp_path / "nope")
    assert "nope" in str(err.value)


def test_float_labels_rejected(tmp_path, small_images):
    labels = write_idx(tmp_path / "l", np.zeros(12, dtype=np.float32))
    with pytest.raises(DataError, match="labels must be integers"):
        load_idx(write_idx(tmp_path / "i", small_images), labels)

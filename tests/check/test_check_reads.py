"""`lightdsl check` runs in CI on untrusted specs: it never hangs on a file a spec names and
never reads more than a bounded number of bytes of it (issue 16 item 15)."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.analysis import analyze_file
from lightdsl.frontend.files import READ_LIMIT
from lightdsl.frontend.source import SPEC_LIMIT

from ..helpers.runner import run_lightdsl

ROOT = Path(__file__).resolve().parents[2]
SLACK = 2**16  # incidental reads: the spec itself, /proc/self/io's own text
SOURCES = {
    "text": 'text(path = "{0}", seq_len = 4)',
    "csv": 'csv(path = "{0}", label = "y")',
    "npz": 'npz(path = "{0}")',
    "idx": 'idx(images = "{0}", labels = "{0}")',
    "npy": 'npy(path = "{0}")',
}


def spec(source: str) -> str:
    return ("model M { layers { flatten()\n linear(4, 2) } }\n"
            f"data D {{\n    source = {source}\n}}\n"
            "train {\n    model = M\n    data = D\n    loss = cross_entropy\n}\n")


def write_spec(folder: Path, kind: str, data: str) -> Path:
    path = folder / "s.lit"
    path.write_text(spec(SOURCES[kind].format(data)), encoding="utf-8")
    return path


def bytes_read() -> int:
    """Bytes this process has read through read(2) and friends, as Linux counts them."""
    with open("/proc/self/io", encoding="ascii") as stats:
        rchar = int(next(line for line in stats if line.startswith("rchar:")).split()[1])
    return rchar


def npy_member(declared: int, body: bytes) -> bytes:
    """A format-2 .npy that declares a header of ``declared`` bytes (lying, or not)."""
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", declared) + body


@st.composite
def hostile_file(draw):
    """File contents that once made check read without bound: random bytes, gzip and IDX
    headers, .npz archives whose .npy headers claim any size, and sparse files of up to
    16 GiB (a few KiB on disk)."""
    shape = draw(st.sampled_from(["raw", "gzip", "idx", "npz", "csv"]))
    body = draw(st.binary(max_size=2048))
    if shape == "gzip":
        body = b"\x1f\x8b\x08\x00" + body
    elif shape == "idx":
        dims = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4))
        body = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body
    elif shape == "csv":
        body = b"y," + b"a" * draw(st.integers(0, 3 * 2**20)) + b"\n1,2\n" + body
    size = draw(st.one_of(st.just(0), st.integers(0, 2**34)))
    declared = draw(st.integers(0, 2**32 - 1)) if shape == "npz" else 0
    return shape, body, size, declared


def materialize(path: Path, shape: str, body: bytes, size: int, declared: int) -> None:
    if shape == "npz":
        with zipfile.ZipFile(path, "w") as archive:
            for key in ("x", "y"):
                archive.writestr(f"{key}.npy", npy_member(declared, body))
    else:
        path.write_bytes(body)
    if size > path.stat().st_size:
        os.truncate(path, size)  # sparse: costs no disk, reads as zeros


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's /proc/self/io")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.sampled_from(sorted(SOURCES)), hostile_file())
def test_check_reads_a_bounded_number_of_bytes_of_any_file(tmp_path, kind, hostile):
    data = tmp_path / "data.bin"
    data.unlink(missing_ok=True)
    materialize(data, *hostile)
    path = write_spec(tmp_path, kind, "data.bin")
    analyze_file(str(path))  # warm: grammar and lazy imports are not the data's bytes
    before = bytes_read()
    analyze_file(str(path))
    read = bytes_read() - before
    files = 2 if kind == "idx" else 1  # idx names the file twice (images and labels)
    assert read <= files * (READ_LIMIT + 1) + SLACK, (kind, hostile[0], read)


@pytest.mark.parametrize("kind", ["text", "csv", "npz", "idx"])
def test_a_large_file_is_read_at_most_the_limit(tmp_path, kind):
    """Without the limit a 4 GiB (sparse) file is read whole, or up to its lying header."""
    data = tmp_path / "data.bin"
    materialize(data, "npz" if kind == "npz" else "raw", b"y,x\n" if kind == "csv" else b"",
                4 * 2**30 if kind != "npz" else 0, 2**31)
    path = write_spec(tmp_path, kind, "data.bin")
    analyze_file(str(path))
    before = bytes_read()
    analysis = analyze_file(str(path))
    assert bytes_read() - before <= 2 * (READ_LIMIT + 1) + SLACK
    if kind == "npz":  # a header NumPy would refuse is a located error, not read
        assert [(d.line, d.column) for d in analysis.errors] == [(4, 25)]
        assert "header of array 'x' is 2,147,483,648 bytes; NumPy reads headers of at most " \
            "10,000" in analysis.errors[0].message


def special_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "folder").mkdir()
    return {"fifo": ("pipe", "a FIFO (named pipe)"), "directory": ("folder", "a directory"),
            "device": ("/dev/zero", "a device")}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["text", "csv", "npz", "idx", "npy"])
def test_a_fifo_a_directory_or_a_device_is_a_located_error_and_never_blocks(tmp_path, kind):
    """check in a child process: before the fix a FIFO blocked it forever (the timeout turns
    that into a failure) and /dev/zero grew it to gigabytes."""
    for name, (data, what) in special_files(tmp_path).items():
        path = write_spec(tmp_path, kind, data)
        done = run_lightdsl("check", path, cwd=ROOT, timeout=120)
        assert done.returncode == 1, (name, done.stderr)
        column = 27 if kind == "idx" else 26 if kind == "text" else 25
        assert f's.lit:4:{column}: error: "{data}" is {what}, not a file  [data]' in done.stdout
        assert "must name a regular file" in done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_spec_that_is_a_fifo_or_too_large_is_refused_with_exit_2(tmp_path):
    os.mkfifo(tmp_path / "pipe.lit")
    big = tmp_path / "big.lit"
    big.write_bytes(b"model M {}\n")
    os.truncate(big, SPEC_LIMIT + 1)
    for path, why in [(tmp_path / "pipe.lit", "a FIFO (named pipe), not a file"),
                      (big, "larger than 16 MiB: not a spec")]:
        done = run_lightdsl("check", path, cwd=ROOT, timeout=120)
        assert done.returncode == 2
        assert done.stderr.strip() == f"error: {path}: cannot read: {why}"

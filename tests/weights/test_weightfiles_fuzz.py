"""Damaged copies of real weights files: inspection always answers (never raises), never calls
damaged a file torch loads, and where both read a file they agree on every shape.

(Inspection may call a file fine that torch then refuses: it reads no tensor data, and Python's
zip reader ignores some directory fields torch's checks; train time reports those.)"""

from __future__ import annotations

import io
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.weightfiles import READ_LIMIT, inspect_weights

STATUSES = {"ok", "unchecked", "error"}


def _checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save({"state_dict": {"a.weight": torch.ones(3, 2), "a.bias": torch.zeros(3)},
                "format": "lightdsl-checkpoint/1", "epoch": 2}, buffer)
    return buffer.getvalue()


def _deflated() -> bytes:
    """The same checkpoint with its members compressed (torch never does; a hand-made one may)."""
    source, out = zipfile.ZipFile(io.BytesIO(_checkpoint())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    return out.getvalue()


def _safetensors() -> bytes:
    from safetensors.torch import save

    return save({"a.weight": torch.ones(3, 2), "a.bias": torch.zeros(3)})


ORIGINALS = {"ckpt": _checkpoint(), "deflated": _deflated(), "safetensors": _safetensors()}


@pytest.mark.parametrize("name", sorted(ORIGINALS))
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_copy_is_always_answered(tmp_path, name, data):
    original = ORIGINALS[name]
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                               max_size=4))
    cut = data.draw(st.integers(1, len(original)))
    damaged = bytearray(original)
    for where, value in edits:
        damaged[where] = value
    path = tmp_path / f"w.{'safetensors' if name == 'safetensors' else 'ckpt'}"
    path.write_bytes(bytes(damaged[:cut]))
    seen = inspect_weights(path)
    assert seen.status in STATUSES and seen.bytes_read <= READ_LIMIT
    loaded = _torch_shapes(path, name)
    if seen.status == "error":
        assert loaded is None, seen.reason  # never damaged where torch reads it
    if seen.ok and loaded is not None:
        assert loaded == {k: t.shape for k, t in seen.tensors.items()}


def _torch_shapes(path, name) -> dict | None:
    try:
        if name == "safetensors":
            from safetensors.torch import load_file

            state = load_file(path)
        else:
            state = torch.load(path, weights_only=True)["state_dict"]
    except Exception:  # noqa: BLE001 - torch (or safetensors) refuses it, in its own way
        return None
    return {k: tuple(v.shape) for k, v in state.items()}

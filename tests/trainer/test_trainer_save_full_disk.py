"""A checkpoint save on a full disk is one message saying the previous checkpoint is intact,
not torch's `enforce fail at inline_container.cc` traceback (issue 16 item 18)."""

from __future__ import annotations

import errno

import pytest
import torch

from lightdsl.cli import main
from lightdsl.errors import TrainingError
from lightdsl.trainer import checkpoint
from lightdsl.trainer.checkpoint import atomic_save

SPEC = """model M { layers { linear(1, 1) } }
data D { inputs = [[0.0], [1.0], [2.0], [3.0]]  labels = [[0.0], [2.0], [4.0], [6.0]]
         batch_size = 2 }
train { model = M  data = D  loss = mse  optimizer = sgd(lr = 0.01)  max_epochs = 3 }
"""


def full_disk_after(monkeypatch, saves: int) -> list[int]:
    """torch.save fails as on a full disk (the OSError chained with torch's RuntimeError, as
    torch raises it) from save number ``saves`` + 1 on, after writing part of the file."""
    real, calls = torch.save, [0]

    def save(obj, f, *args, **kwargs):
        calls[0] += 1
        if calls[0] <= saves:
            return real(obj, f, *args, **kwargs)
        f.write(b"PK\x03\x04 partial")
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as error:
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos "
                               "4224 vs 4112") from error

    monkeypatch.setattr(checkpoint.torch, "save", save)
    return calls


def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    atomic_save({"step": 1}, path)
    before = path.read_bytes()
    full_disk_after(monkeypatch, 0)
    with pytest.raises(TrainingError) as caught:
        atomic_save({"step": 2}, path)
    message = str(caught.value)
    assert message.startswith(f"could not save checkpoint {path}: No space left on device, ")
    assert f"MB free there; the previous checkpoint {path} is intact" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]  # no temporary left
    with pytest.raises(TrainingError, match=f"nothing was written to {tmp_path / 'new.ckpt'}"):
        atomic_save({"step": 2}, tmp_path / "new.ckpt")


def test_train_on_a_full_disk_exits_1_with_the_message(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "s.lit"
    spec.write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    full_disk_after(monkeypatch, 1)  # the first epoch's checkpoint fits, the second not
    assert main(["train", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "inline_container" not in err
    assert "could not save checkpoint " in err and "No space left on device" in err
    assert "last.ckpt is intact" in err
    last = next(tmp_path.glob("lightning_logs/*/version_0/checkpoints/last.ckpt"))
    assert checkpoint.load_checkpoint(last)["format"] == checkpoint.FORMAT  # intact, loads

"""inspect_weights: shapes and dtypes without torch, equal to what torch.load gives; damaged,
hostile, huge and odd files handled within a bounded read, and nothing in a file ever runs."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tarfile
import threading
import zipfile

import pytest
import torch
from torch import nn

from lightdsl import weightfiles
from lightdsl.trainer.checkpoint import FORMAT
from lightdsl.trainer.lightning_layout import VERSION_KEY
from lightdsl.weightfiles import AT_TRAIN_TIME, READ_LIMIT, TensorInfo, inspect_weights
from lightdsl.weightfiles.pickles import Opaque, ShapeUnpickler

from ..helpers.runner import run_code


def torch_infos(state: dict) -> dict[str, TensorInfo]:
    return {k: TensorInfo(tuple(v.shape), str(v.dtype).removeprefix("torch."))
            for k, v in state.items()}


def test_the_layout_constants_are_the_trainers():
    assert weightfiles.LIGHTDSL_FORMAT == FORMAT
    assert weightfiles.LIGHTNING_VERSION_KEY == VERSION_KEY


def test_a_lightdsl_checkpoint(lightdsl_ckpt):
    path, _ = lightdsl_ckpt
    seen = inspect_weights(path)
    assert (seen.status, seen.format, seen.kind, seen.state_key) == (
        "ok", "torch zip", "a lightdsl checkpoint", "state_dict")
    loaded = torch.load(path, weights_only=True)["state_dict"]
    assert seen.tensors == torch_infos(loaded)
    assert seen.tensors["layers.0.weight"] == ((16, 4), "float32")
    assert seen.bytes_read < 16 * 1024  # the directory and the pickle, not the tensors
    assert seen.describe() == f"{path}: a lightdsl checkpoint, 4 tensors under 'state_dict'"


def test_a_lightning_checkpoint(lightning_ckpt):
    path, _ = lightning_ckpt
    seen = inspect_weights(path)
    assert seen.status == "ok"
    assert seen.kind.startswith("a pytorch-lightning checkpoint (Lightning 2.6.")
    assert seen.tensors == torch_infos(torch.load(path, weights_only=True)["state_dict"])


DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64,
          torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64,
          torch.float8_e4m3fn, torch.float8_e5m2, torch.uint16]


def varied_state() -> dict[str, torch.Tensor]:
    """Every dtype, a 0-d and an empty tensor, a view into a bigger storage, a Parameter, and
    two tensors sharing one storage."""
    torch.manual_seed(0)
    state = {f"t_{d}".replace("torch.", ""): torch.zeros(2, 3).to(d) for d in DTYPES}
    base = torch.arange(20.0)
    state |= {"scalar": torch.tensor(3.0), "empty": torch.zeros(0, 5), "view": base[4:10],
              "strided": base.view(4, 5)[:, 1], "param": nn.Parameter(torch.ones(7)),
              "transposed": torch.randn(3, 4).t()}
    return state


def test_a_state_dict_of_every_dtype_and_layout(tmp_path):
    state = varied_state()
    torch.save(state, tmp_path / "state.pt")
    seen = inspect_weights(tmp_path / "state.pt")
    assert (seen.status, seen.kind, seen.state_key) == ("ok", "a state_dict", None)
    assert seen.tensors == torch_infos(torch.load(tmp_path / "state.pt", weights_only=True))
    assert seen.tensors["strided"] == ((4,), "float32")


def test_a_tutorial_checkpoint_and_a_model_state_dict(tmp_path):
    model = nn.Linear(3, 2)
    torch.save({"epoch": 4, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": torch.optim.SGD(model.parameters(), 0.1).state_dict()},
               tmp_path / "tutorial.tar")
    seen = inspect_weights(tmp_path / "tutorial.tar")
    assert (seen.status, seen.state_key) == ("ok", "model_state_dict")
    assert seen.tensors == {"weight": ((2, 3), "float32"), "bias": ((2,), "float32")}


def test_safetensors(tmp_path):
    from safetensors.torch import load_file, save_file

    state = {k: v.contiguous() for k, v in varied_state().items()
             if k not in ("view", "strided", "transposed", "t_complex64")}  # safetensors: none
    save_file(state, tmp_path / "w.safetensors", metadata={"note": "made by a test"})
    seen = inspect_weights(tmp_path / "w.safetensors")
    assert (seen.status, seen.format, seen.kind) == ("ok", "safetensors", "a safetensors file")
    assert seen.tensors == torch_infos(load_file(tmp_path / "w.safetensors"))
    assert seen.tensors["t_bfloat16"] == ((2, 3), "bfloat16")


# ---- files check does not look into: said honestly, not failed ----

def test_the_legacy_format_is_checked_at_train_time(tmp_path):
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "old.pt",
               _use_new_zipfile_serialization=False)
    seen = inspect_weights(tmp_path / "old.pt")
    assert (seen.status, seen.format) == ("unchecked", "torch legacy")
    assert "torch's legacy format" in seen.reason and AT_TRAIN_TIME in seen.reason
    assert seen.bytes_read <= 512


def _tar(path, member: str) -> None:
    """A tar archive holding ``member`` (torch's oldest format holds ``pickle``, ...)."""
    with tarfile.open(path, "w") as archive:
        archive.addfile(tarfile.TarInfo(member), io.BytesIO())


@pytest.mark.parametrize(("write", "words"), [
    (lambda p: p.write_bytes(b"GGUF" + bytes(range(200))), "not a format check reads"),
    (lambda p: _tar(p, "pickle"), "a tar archive"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("x.txt", "hi"),
     "a zip archive without one data.pkl"),
    (lambda p: torch.jit.save(torch.jit.script(nn.Linear(2, 2)), p), "a TorchScript archive"),
    (lambda p: torch.save({"w": torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)},
                          p), "quantized, sparse or subclassed"),
    (lambda p: torch.save({"epoch": 1, "notes": "x"}, p),
     "holds a dict (keys 'epoch', 'notes') with no state_dict of tensors"),
])
def test_what_check_cannot_see_is_left_to_train_time(tmp_path, write, words):
    write(tmp_path / "w.bin")
    seen = inspect_weights(tmp_path / "w.bin")
    assert seen.status == "unchecked", seen
    assert words in seen.reason and seen.reason.endswith(AT_TRAIN_TIME)


# ---- damaged files: errors (torch cannot load them either) ----

def test_a_truncated_checkpoint_is_an_error(lightdsl_ckpt, tmp_path):
    data = lightdsl_ckpt[0].read_bytes()
    for cut in (len(data) // 3, len(data) - 30):
        (tmp_path / "cut.ckpt").write_bytes(data[:cut])
        seen = inspect_weights(tmp_path / "cut.ckpt")
        assert seen.status == "error"
        assert seen.reason.startswith(f"not a complete zip archive ({cut:,} bytes")
        with pytest.raises(Exception):  # noqa: B017 - torch fails too, its own way
            torch.load(tmp_path / "cut.ckpt", weights_only=True)


def _rewrite(source, target, change):
    """A copy of zip ``source`` with each member's bytes passed through ``change(name, data)``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, change(info.filename, old.read(info)))


def test_a_storage_shorter_than_its_tensor_is_an_error(tmp_path):
    torch.save({"w": torch.ones(4, 4)}, tmp_path / "w.pt")
    _rewrite(tmp_path / "w.pt", tmp_path / "short.pt",
             lambda name, data: data[:32] if name.endswith("/data/0") else data)
    seen = inspect_weights(tmp_path / "short.pt")
    assert seen.status == "error"
    assert seen.reason == "a damaged torch.save file: storage 0 is 32 bytes, its tensors need 64"
    with pytest.raises(RuntimeError):
        torch.load(tmp_path / "short.pt", weights_only=True)


def test_a_damaged_pickle_is_an_error(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "w.pt")
    _rewrite(tmp_path / "w.pt", tmp_path / "bad.pt",
             lambda name, data: data[: len(data) // 2] if name.endswith("data.pkl") else data)
    seen = inspect_weights(tmp_path / "bad.pt")
    assert seen.status == "error"
    assert seen.reason.startswith("its data.pkl is not a pickle torch could load")


@pytest.mark.parametrize(("header", "words"), [
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}',
     "tensor 'w' of shape [2, 2] (F32) needs 16 bytes, has 8"),
    (b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}', "past the 16 bytes"),
    (b'{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}', "not lists of sizes"),
    (b'["a list"]', "its header is not a JSON object"),
    (b'{"w": ', "its header is not JSON"),
])
def test_a_damaged_safetensors_header_is_an_error(tmp_path, header, words):
    path = tmp_path / "w.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(16))
    seen = inspect_weights(path)
    assert seen.status == "error" and words in seen.reason, seen.reason


# ---- bounded reads ----

def test_a_huge_declared_safetensors_header_is_not_read(tmp_path):
    declared = 64 * 2**20  # more than check reads; the file really is that long (sparse)
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as handle:
        handle.write(declared.to_bytes(8, "little") + b"{")
        handle.truncate(8 + declared + 16)
    seen = inspect_weights(path)
    assert seen.status == "unchecked" and "header of 67,108,864 bytes" in seen.reason
    assert seen.bytes_read == 512  # the sniff (which holds the 8-byte length) only
    path.write_bytes((2**63).to_bytes(8, "little") + b"{}")  # longer than the file
    seen = inspect_weights(path)
    assert seen.status == "error" and "header is 9,223,372,036,854,775,808 bytes" in seen.reason
    assert seen.bytes_read == 10


def test_a_big_checkpoint_is_read_only_in_its_directory_and_pickle(tmp_path):
    torch.save({f"layer{i}.weight": torch.zeros(256, 256) for i in range(100)}, tmp_path / "b.pt")
    assert (tmp_path / "b.pt").stat().st_size > 25 * 2**20
    seen = inspect_weights(tmp_path / "b.pt")
    assert seen.status == "ok" and len(seen.tensors) == 100
    assert seen.bytes_read < 64 * 1024


def test_a_huge_pickle_is_left_to_train_time(tmp_path):
    torch.save({"w": torch.ones(2), "notes": "x" * (READ_LIMIT // 2 + 10)}, tmp_path / "p.pt")
    seen = inspect_weights(tmp_path / "p.pt")
    assert seen.status == "unchecked" and "its data.pkl is 4,194," in seen.reason
    assert seen.bytes_read < 8 * 1024


def test_the_whole_read_is_capped(tmp_path, monkeypatch):
    """A directory (or anything) longer than the cap: refused with what was read within it."""
    torch.save({f"t{i}": torch.zeros(1) for i in range(300)}, tmp_path / "many.pt")
    monkeypatch.setattr(weightfiles.reading, "READ_LIMIT", 4096)
    seen = inspect_weights(tmp_path / "many.pt")
    assert seen.status == "unchecked" and "more than check reads (4,096 bytes)" in seen.reason
    assert seen.bytes_read <= 4096


def _inspect_soon(path):
    """inspect_weights(path) in a thread that must finish within 10 s (a FIFO would block)."""
    found = []
    worker = threading.Thread(target=lambda: found.append(inspect_weights(path)), daemon=True)
    worker.start()
    worker.join(10)
    assert found, f"inspecting {path} blocked"
    return found[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_a_directory_and_a_device_are_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.pt")
    seen = _inspect_soon(tmp_path / "pipe.pt")
    assert (seen.status, seen.reason) == ("refused", "a FIFO (named pipe), not a weights file")
    assert _inspect_soon(tmp_path).reason == "a directory, not a weights file"
    assert _inspect_soon("/dev/zero").reason == "a device, not a weights file"
    assert _inspect_soon(tmp_path / "nope.pt").status == "missing"


# ---- nothing in the file runs ----

class Payload:
    """Unpickling this calls ``call(*args)``: here, what creates ``marker``."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("how", ["system", "eval", "inside"])
def test_a_pickle_that_calls_os_system_does_not_run(tmp_path, how):
    marker = tmp_path / "ran"
    payload = (Payload(eval, f"open({str(marker)!r}, 'w')") if how == "eval"
               else Payload(os.system, f"touch {marker}"))
    saved = {"state_dict": {"x": payload, "w": torch.ones(2)}} if how == "inside" else payload
    torch.save(saved, tmp_path / "evil.pt")
    seen = inspect_weights(tmp_path / "evil.pt")
    assert not marker.exists()
    assert seen.status == "unchecked"
    if how == "system":
        assert "holds a posix.system object, not a dict of tensors" in seen.reason
    with zipfile.ZipFile(tmp_path / "evil.pt") as archive:
        data = archive.read("evil/data.pkl")
    with contextlib.suppress(pickle.UnpicklingError):  # at the tensor, after the payload
        pickle.loads(data)
    assert marker.exists()


def test_the_unpickler_returns_placeholders_for_unknown_names():
    reader = ShapeUnpickler(b"")
    for module, name in [("os", "system"), ("builtins", "eval"), ("builtins", "getattr"),
                         ("subprocess", "Popen"), ("torch", "load")]:
        found = reader.find_class(module, name)
        assert isinstance(found, type) and issubclass(found, Opaque), (module, name)
        assert found.qualname == f"{module}.{name}"


def test_inspection_never_imports_torch(lightdsl_ckpt, tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, tmp_path / "w.safetensors")
    code = ("import sys; from lightdsl.weightfiles import inspect_weights, check_fit; "
            "a = inspect_weights(sys.argv[1]); b = inspect_weights(sys.argv[2]); "
            "assert a.ok and b.ok, (a, b); assert check_fit(a.tensors, a.tensors) == []; "
            "assert 'torch' not in sys.modules, 'torch was imported'; "
            "assert 'safetensors' not in sys.modules")
    done = run_code(code, lightdsl_ckpt[0], tmp_path / "w.safetensors")
    assert done.returncode == 0, done.stderr


class Config:
    def __init__(self):
        self.lr, self.layers = 0.1, [4, 16, 3]


class Settings(dict):
    pass


class Steps(list):
    pass


def test_objects_beside_the_weights_become_placeholders(tmp_path):
    """Other objects (NEWOBJ, BUILD, SETITEMS and APPENDS on them) do not keep the weights
    from being found."""
    state = nn.Linear(2, 3).state_dict()
    torch.save({"state_dict": state, "config": Config(), "settings": Settings(a=1),
                "steps": Steps([1, 2])}, tmp_path / "mixed.ckpt")
    seen = inspect_weights(tmp_path / "mixed.ckpt")
    assert seen.status == "ok" and seen.tensors == torch_infos(state)

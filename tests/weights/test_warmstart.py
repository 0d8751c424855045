"""load_weights: a compiled lightdsl model's tensors from each format, bit for bit, and every
mismatch reported by name."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightdsl.compile.warmstart import load_weights, read_weights
from lightdsl.errors import WeightsError

from ..helpers.weights import fresh_iris

NAMES = ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(
        a.detach().contiguous().view(torch.uint8), b.detach().contiguous().view(torch.uint8))


def assert_loaded_from(module: nn.Module, source: dict[str, torch.Tensor]) -> None:
    state = module.state_dict()
    assert sorted(state) == sorted(NAMES)
    for name, value in state.items():
        assert same_bits(value, source[name]), name


def test_a_lightdsl_checkpoint_of_the_same_spec(lightdsl_ckpt, iris):
    path, trained = lightdsl_ckpt
    module = fresh_iris(iris)
    assert not torch.equal(module.state_dict()[NAMES[0]], trained.state_dict()[NAMES[0]])
    report = load_weights(module, path, strict=True)
    assert_loaded_from(module, trained.state_dict())
    assert report.format == "torch zip" and report.kind == "a lightdsl checkpoint"
    assert sorted(report.loaded) == sorted(NAMES) and report.total == 4 and report.complete
    assert report.summary() == f"loaded 4 of the model's 4 tensors from {path} " \
        "(a lightdsl checkpoint)"


def test_a_lightning_checkpoint_of_the_generated_script(lightning_ckpt, iris):
    path, model = lightning_ckpt
    module = fresh_iris(iris)
    assert not torch.equal(module.state_dict()[NAMES[0]], model.state_dict()[NAMES[0]])
    report = load_weights(module, path, strict=True)
    assert_loaded_from(module, model.state_dict())
    assert report.kind.startswith("a pytorch-lightning checkpoint (Lightning 2.")
    assert report.stripped == {} and report.renamed == {}  # the script names tensors as lightdsl


class Encoder(nn.Module):
    """A hand-written torch model: the same layers as IrisNet under other names, and a head
    of another size."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
        self.head = nn.Linear(16, classes)


def test_a_state_dict_of_a_hand_written_module_with_a_key_map(iris, tmp_path):
    torch.manual_seed(0)
    source = Encoder().state_dict()
    torch.save(source, tmp_path / "encoder.pt")
    module = fresh_iris(iris)
    with pytest.raises(WeightsError) as failed:  # without the map nothing fits
        load_weights(module, tmp_path / "encoder.pt")
    assert "no tensor of the file fits the model" in str(failed.value)
    report = load_weights(module, tmp_path / "encoder.pt", strict=True,
                          key_map={"body.0.": "layers.0.", "head.": "layers.2."})
    renamed = {f"body.0.{p}": f"layers.0.{p}" for p in ("weight", "bias")}
    renamed |= {f"head.{p}": f"layers.2.{p}" for p in ("weight", "bias")}
    assert report.renamed == renamed
    assert_loaded_from(module, {renamed[k]: v for k, v in source.items()})


def test_safetensors(iris, tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(1)
    source = {name: torch.randn_like(value) for name, value in
              fresh_iris(iris).state_dict().items()}
    save_file(source, tmp_path / "iris.safetensors")
    module = fresh_iris(iris)
    report = load_weights(module, tmp_path / "iris.safetensors", strict=True)
    assert_loaded_from(module, source)
    assert (report.format, report.kind) == ("safetensors", "a safetensors file")


def test_mismatches_are_named_and_the_rest_loads(lightdsl_ckpt, iris, tmp_path):
    """A wider hidden layer: layers.0 and layers.2.weight differ; layers.2.bias loads."""
    path, trained = lightdsl_ckpt
    (iris / "wide.lit").write_text((iris / "iris_csv.lit").read_text()
                                   .replace("hidden = 16", "hidden = 32"))
    import lightdsl

    wide = lightdsl.load(str(iris / "wide.lit")).module
    before = {k: v.clone() for k, v in wide.state_dict().items()}
    report = load_weights(wide, path)
    assert report.loaded == ["layers.2.bias"]
    assert report.mismatched == ["layers.0.weight", "layers.0.bias", "layers.2.weight"]
    assert [p.message for p in report.problems] == [
        "layers.0.weight is [16, 4] in the file, [32, 4] here",
        "layers.0.bias is [16] in the file, [32] here",
        "layers.2.weight is [3, 16] in the file, [3, 32] here"]
    state = wide.state_dict()
    assert same_bits(state["layers.2.bias"], trained.state_dict()["layers.2.bias"])
    for name in ("layers.0.weight", "layers.0.bias", "layers.2.weight"):
        assert same_bits(state[name], before[name]), name  # left as built
    untouched = lightdsl.load(str(iris / "wide.lit")).module  # seed = 0: built as wide was
    with pytest.raises(WeightsError) as failed:
        load_weights(untouched, path, strict=True)
    assert all(same_bits(v, before[k]) for k, v in untouched.state_dict().items())  # nothing
    assert "layers.0.weight is [16, 4] in the file, [32, 4] here" in failed.value.report()
    assert "strict = false loads the tensors that fit" in failed.value.report()


def test_missing_and_unexpected_are_named(iris, tmp_path):
    module = fresh_iris(iris)
    state = dict(module.state_dict())
    state["layers.1.weight"] = state.pop("layers.2.weight")  # a renamed one: both ways
    torch.save(state, tmp_path / "odd.pt")
    report = load_weights(module, tmp_path / "odd.pt")
    assert report.missing == ["layers.2.weight"]
    assert report.unexpected == ["layers.1.weight"]
    assert report.problems[:2] == [
        ("missing", "layers.2.weight", "layers.2.weight is missing from the file"),
        ("unexpected", "layers.1.weight", "the file has layers.1.weight, the model does not")]
    with pytest.raises(WeightsError) as failed:
        load_weights(module, tmp_path / "odd.pt", strict=True)
    assert failed.value.exit_code == 2
    assert 'key_map = {"layers.1.": "layers.2."}' in failed.value.report()


def test_lightning_prefixes_and_torch_compile_are_stripped(iris, tmp_path):
    """A hand-written LightningModule keeps its model as ``self.model``; torch.compile's
    wrapper puts ``_orig_mod.`` in front: both are dropped, and said so."""
    torch.manual_seed(2)
    source = fresh_iris(iris).state_dict()
    torch.save({"state_dict": {f"model._orig_mod.{k}": v for k, v in source.items()},
                "pytorch-lightning_version": "2.6.0"}, tmp_path / "wrapped.ckpt")
    module = fresh_iris(iris)
    report = load_weights(module, tmp_path / "wrapped.ckpt", strict=True)
    assert_loaded_from(module, source)
    assert report.stripped == {"model.": 4}
    compiled = torch.compile(fresh_iris(iris))
    torch.save(compiled.state_dict(), tmp_path / "compiled.pt")
    assert next(iter(torch.load(tmp_path / "compiled.pt"))).startswith("_orig_mod.")
    target = fresh_iris(iris)
    load_weights(target, tmp_path / "compiled.pt", strict=True)
    assert_loaded_from(target, {k.removeprefix("_orig_mod."): v
                                for k, v in compiled.state_dict().items()})


def test_legacy_format_loads_with_torch(iris, tmp_path):
    torch.manual_seed(3)
    source = fresh_iris(iris).state_dict()
    torch.save(source, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    module = fresh_iris(iris)
    assert load_weights(module, tmp_path / "old.pt").format == "torch legacy"
    assert_loaded_from(module, source)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "an empty file (0 bytes)"),
    (b"PK\x03\x04" + b"\0" * 60, "not a complete zip archive (64 bytes"),
    (b"\x10\0\0\0\0\0\0\0{\"a\":", "not a complete safetensors file: its header is 16 bytes"),
])
def test_damaged_files_say_what_is_wrong(tmp_path, content, message):
    (tmp_path / "w.safetensors" if b"{" in content else tmp_path / "w.pt").write_bytes(content)
    path = next(tmp_path.iterdir())
    with pytest.raises(WeightsError) as failed:
        read_weights(path)
    assert message in str(failed.value)


def test_a_file_of_other_objects_is_refused(tmp_path):
    torch.save({"epoch": 3, "notes": ["a"]}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match=r"has no weights lightdsl can take: it holds a dict "
                       r"\(keys 'epoch', 'notes'\) with no state_dict"):
        read_weights(tmp_path / "other.pt")
    torch.save(nn.Linear(2, 2), tmp_path / "module.pt")  # a pickled module: code to run
    with pytest.raises(WeightsError, match="loading those would run code from the file"):
        read_weights(tmp_path / "module.pt")


def test_a_missing_safetensors_package_gives_the_install_command(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, tmp_path / "w.safetensors")
    monkeypatch.setitem(__import__("sys").modules, "safetensors.torch", None)
    with pytest.raises(WeightsError) as failed:
        read_weights(tmp_path / "w.safetensors")
    assert "needs the safetensors package" in str(failed.value)
    assert "[safetensors]" in failed.value.hint


def test_a_directory_or_missing_file_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="a directory, not a weights file"):
        read_weights(tmp_path)
    with pytest.raises(WeightsError, match="no such file"):
        read_weights(tmp_path / "nope.pt")


def test_check_time_and_train_time_agree(lightdsl_ckpt, lightning_ckpt, iris, tmp_path):
    """check_fit on the torch-free inspection finds what load_weights reports, file by file."""
    from lightdsl.weightfiles import check_fit, inspect_weights

    (iris / "wide2.lit").write_text((iris / "iris_csv.lit").read_text()
                                    .replace("hidden = 16", "hidden = 8"))
    import lightdsl

    wide = lightdsl.load(str(iris / "wide2.lit")).module
    expected = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
                for k, v in wide.state_dict().items()}
    for path in (lightdsl_ckpt[0], lightning_ckpt[0]):
        report = load_weights(wide, path)
        assert len(report.problems) == 3
        assert check_fit(expected, inspect_weights(path).tensors) == report.problems


CUDA = pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device")])


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_the_model_keeps_its_device_and_dtype(lightdsl_ckpt, iris, device):
    """Tensors are read on the CPU and copied into the model where it is: a bfloat16 model
    gets the checkpoint's float32 weights cast, on its device."""
    path, trained = lightdsl_ckpt
    module = fresh_iris(iris).to(device, torch.bfloat16)
    load_weights(module, path, strict=True)
    for name, value in module.state_dict().items():
        assert value.device.type == device and value.dtype == torch.bfloat16, name
        assert same_bits(value.cpu(), trained.state_dict()[name].to(torch.bfloat16)), name

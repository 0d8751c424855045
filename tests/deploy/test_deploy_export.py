"""`lightdsl export`: TorchScript, torch.export and ONNX files give the checkpoint's outputs."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from lightdsl.cli import main
from lightdsl.deploy import export, load_trained
from lightdsl.deploy import exporting as export_module

HAS_ONNX = all(importlib.util.find_spec(p) for p in ("onnx", "onnxscript"))


def load_exported(fmt: str, path):
    if fmt == "torchscript":
        return torch.jit.load(str(path))
    if fmt == "pt2":
        return torch.export.load(str(path)).module()
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(str(path))
    return lambda x: torch.from_numpy(evaluator.run(None, {"input": x.numpy()})[0])


def new_inputs(spec: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    return torch.rand(5, 1, 28, 28, generator=g) if spec == "mlp" else torch.rand(5, generator=g)


FORMATS = ["torchscript", "pt2", pytest.param("onnx", marks=pytest.mark.skipif(
    not HAS_ONNX, reason="the onnx extra is not installed"))]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", ["statquest", "mlp"])
def test_exported_outputs_equal_the_checkpoints(in_trained, capsys, spec, fmt):
    out = in_trained / f"{spec}.{fmt}"
    code = main(["export", f"{spec}.lit", "--ckpt", "last", "--format", fmt, "-o", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "outputs checked against the checkpoint: max |difference|" in printed.out
    inputs = new_inputs(spec)  # a batch size the export never saw
    expected = load_trained(f"{spec}.lit", "last").module(inputs).detach()
    got = torch.as_tensor(load_exported(fmt, out)(inputs))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    meta = json.loads(out.with_name(out.name + ".json").read_text())
    assert meta["format"] == fmt and meta["classifier"] == (spec == "mlp")


def test_onnx_without_its_packages_says_what_to_install(in_trained, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(export_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxscript" else real(name, *a))
    code = main(["export", "statquest.lit", "--ckpt", "last", "-f", "onnx", "-o", "m.onnx"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ONNX export needs the" in err and "onnxscript" in err and "lightdsl[onnx]" in err
    assert "Traceback" not in err


def test_an_export_that_differs_from_the_checkpoint_fails(in_trained, monkeypatch):
    trained = load_trained("statquest.lit", "last")
    original = export_module.EXPORTERS["torchscript"]

    def off_by_one(network, example, path):
        run = original(network, example, path)
        return lambda x: run(x) + 1

    monkeypatch.setitem(export_module.EXPORTERS, "torchscript", off_by_one)
    with pytest.raises(export_module.ExportError, match="differ from the checkpoint's by up to 1"):
        export(trained, "torchscript", str(in_trained / "bad.ts"))


def test_export_makes_a_missing_folder(in_trained, capsys):
    # as every writing command does (lightdsl.outputs.prepare_file); a folder that cannot be
    # made is exit 2 (tests/deploy/test_deploy_outputs.py)
    assert main(["export", "statquest.lit", "--ckpt", "last", "-f", "torchscript",
                 "-o", "new_folder/m.ts"]) == 0, capsys.readouterr().err
    assert (in_trained / "new_folder" / "m.ts").is_file()
    assert (in_trained / "new_folder" / "m.ts.json").is_file()


@pytest.mark.skipif(not HAS_ONNX, reason="the onnx extra is not installed")
@pytest.mark.parametrize("external", [False, True])
def test_onnx_export_leaves_no_empty_data_file(in_trained, capsys, monkeypatch, external):
    """A small model's weights go inside model.onnx (issue 16 item 11: an empty
    model.onnx.data was left beside it); a model past the limit keeps its weights outside."""
    if external:
        monkeypatch.setattr(export_module, "ONNX_EXTERNAL_BYTES", 1)
    code = main(["export", "mlp.lit", "--ckpt", "last", "-f", "onnx", "-o", "m.onnx"])
    assert code == 0, capsys.readouterr().err
    data = in_trained / "m.onnx.data"
    assert data.exists() == external
    if external:
        assert data.stat().st_size > 0
    inputs = new_inputs("mlp")
    expected = load_trained("mlp.lit", "last").module(inputs).detach()
    got = torch.as_tensor(load_exported("onnx", in_trained / "m.onnx")(inputs))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)

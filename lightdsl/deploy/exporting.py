"""``export``: a trained network as TorchScript, a ``torch.export`` program (.pt2) or ONNX.

The exported file holds the network only (inputs are expected after the spec's transforms; the
``<file>.json`` written next to it lists them, with the class names and the sample shape). The
batch dimension stays free. Every export is loaded back and run on training samples; its
outputs must equal the checkpoint's (to float32 rounding), or the export fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from lightdsl.errors import LightdslError, UsageError
from lightdsl.outputs import output_error, prepare_file, writing

FORMATS = ("torchscript", "pt2", "onnx")
ONNX_PACKAGES = ("onnx", "onnxscript")
ONNX_EXTERNAL_BYTES = 2**30  # weights from this size go to model.onnx.data (protobuf: < 2 GB)
RTOL, ATOL = 1e-4, 1e-5


class ExportError(LightdslError):
    """An export that failed, or whose outputs differ from the checkpoint's."""


@dataclass
class Exported:
    """Where the export went and how closely it matched the checkpoint."""

    path: Path
    format: str
    max_abs_diff: float | None  # None: not checked (no ONNX runtime to run it)
    checked_samples: int
    metadata_path: Path


class Network(torch.nn.Module):
    """The spec's network alone: the compiled module's ``forward``, without training hooks."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.module(inputs)


def export(trained, fmt: str, output: str) -> Exported:
    """Export ``trained`` to ``output`` in format ``fmt`` and check it against the checkpoint."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    path = prepare_file(output, "-o")
    network = Network(trained.module.cpu().float()).eval()
    samples = trained.data.train.inputs.float()
    example = samples[:2]  # 2, not 1: a batch of 1 would fix the batch size in the graph
    try:
        with _quiet():
            run = EXPORTERS[fmt](network, example, path)
    except (ExportError, UsageError):
        raise
    except OSError as error:  # the file could not be written (the folder could be made)
        raise output_error(path, error, "-o") from None
    except Exception as error:
        raise ExportError(f"{fmt} export failed: {_first_line(error)}") from error
    check = samples[:16] if len(samples) > 2 else samples
    diff = _compare(network, run, check, fmt) if run is not None else None
    meta = _write_metadata(trained, fmt, path)
    return Exported(path, fmt, diff, len(check) if run else 0, meta)


@contextlib.contextmanager
def _quiet():
    """Exporters' warnings about optional packages (torchvision) and their own deprecations
    are not the user's business here: the result is checked below."""
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        onnx_log.setLevel(level)


def _torchscript(network, example, path: Path):
    with torch.no_grad():
        traced = torch.jit.trace(network, example, check_trace=False)
    torch.jit.save(traced, str(path))
    loaded = torch.jit.load(str(path))
    return lambda x: loaded(x)


def _pt2(network, example, path: Path):
    batch = torch.export.Dim("batch")
    with torch.no_grad():
        program = torch.export.export(network, (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    loaded = torch.export.load(str(path)).module()
    return lambda x: loaded(x)


def _onnx(network, example, path: Path):
    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(
            f"ONNX export needs the {' and '.join(missing)} package{'s' * (len(missing) > 1)}, "
            "which this environment does not have",
            hint="pip install 'lightdsl[onnx]' (or pip install onnx onnxscript), "
            "or export with --format torchscript or pt2",
        )
    batch = torch.export.Dim("batch")
    data = path.with_name(path.name + ".data")  # where torch puts external weights
    existed = data.exists()
    size = sum(p.numel() * p.element_size() for p in network.parameters())
    with torch.no_grad():  # weights inside the file, unless protobuf's 2 GB limit forbids it
        torch.onnx.export(network, (example,), str(path), dynamo=True, input_names=["input"],
                          output_names=["output"], dynamic_shapes=({0: batch},), verbose=False,
                          external_data=size >= ONNX_EXTERNAL_BYTES)
    if not existed and data.is_file() and data.stat().st_size == 0:
        data.unlink()  # an empty file this export wrote (no weights went there)
    return _onnx_runner(path)


def _onnx_runner(path: Path):
    """Run the ONNX file with onnxruntime if installed, else onnx's reference evaluator."""
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(str(path))
    return lambda x: torch.from_numpy(evaluator.run(None, {"input": x.numpy()})[0])


EXPORTERS = {"torchscript": _torchscript, "pt2": _pt2, "onnx": _onnx}


def _compare(network, run, inputs: torch.Tensor, fmt: str) -> float:
    with torch.no_grad():
        expected, got = network(inputs), run(inputs)
    got = torch.as_tensor(got).to(expected.dtype)
    if got.shape != expected.shape:
        raise ExportError(f"the {fmt} export gives outputs of shape {tuple(got.shape)}, the "
                          f"checkpoint {tuple(expected.shape)}")
    diff = float((got - expected).abs().max()) if expected.numel() else 0.0
    if not torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
        raise ExportError(f"the {fmt} export's outputs differ from the checkpoint's by up to "
                          f"{diff:.3g} (tolerance: rtol {RTOL}, atol {ATOL})")
    return diff


def _write_metadata(trained, fmt: str, path: Path) -> Path:
    data = trained.data
    meta = {
        "format": fmt,
        "checkpoint": str(trained.checkpoint),
        "sample_shape": list(data.train.sample_shape),
        "classes": data.classes,
        "classifier": trained.is_classifier,
        "preprocessing": [[name, args] for name, args in data.fitted_steps],
    }
    meta_path = path.with_name(path.name + ".json")
    with writing(meta_path, "-o"):
        meta_path.write_text(json.dumps(meta, indent=2, default=_jsonable) + "\n")
    return meta_path


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return str(value)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]

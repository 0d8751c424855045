"""Semantic checks that stop what train, graph or codegen would crash on (issue 11, items 9, 18).

Each test runs the real checker on spec text and asserts the diagnostic: its code, message and
where it points (line and column).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightdsl.analysis import analyze_text
from lightdsl.install import extra_command
from lightdsl.vocab import reserved
from tests.helpers.runner import TIMEOUT_S, run_code

ROOT = Path(__file__).resolve().parents[2]
INLINE = """
data points {
    inputs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    labels = LABELS
    EXTRA
}
"""


def spec(model: str, labels: str = "[0, 1, 0, 1]", extra: str = "", train: str = "",
         loss: str = "cross_entropy") -> str:
    data = INLINE.replace("LABELS", labels).replace("EXTRA", extra)
    return (f"{model}\n{data}\ntrain {{\n    model = Net\n    data = points\n"
            f"    loss = {loss}\n    {train}\n}}\n")


def found(text: str, code: str | None = None, severity: str = "error"):
    """(line, column, message) of the diagnostics of ``code`` (all codes if None)."""
    analysis = analyze_text(text, "spec.lit")
    return [(d.line, d.column, d.message) for d in analysis.diagnostics
            if d.severity == severity and (code is None or d.code == code)]


def where(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# ---- reserved names ------------------------------------------------------------------------

ALL_RESERVED = sorted(reserved.NN_MODULE_METHODS | reserved.NN_MODULE_ATTRIBUTES
                      | reserved.COMPILED_MODULE | reserved.LIGHTNING_MODULE)
GRAMMAR_WORDS = {"model", "data", "train", "param", "layers", "forward", "return", "frozen",
                 "true", "false", "none"}


def _public_and_private(obj) -> set[str]:
    return {n for n in set(dir(obj)) | set(vars(obj) if not isinstance(obj, type) else ())
            if not (n.startswith("__") and n.endswith("__"))}


def _not_reserved(names) -> list[str]:
    return sorted(n for n in names if reserved.reserved_reason(n) is None)


def test_reserved_names_cover_torch_nn_module():
    import torch

    assert _not_reserved(_public_and_private(torch.nn.Module)
                         | _public_and_private(torch.nn.Module())) == []
    methods = {n for n in dir(torch.nn.Module) if callable(getattr(torch.nn.Module, n))
               and not n.startswith("__") and n != "T_destination"}
    assert methods == set(reserved.NN_MODULE_METHODS)


def test_reserved_names_cover_the_compiled_module():
    import lightdsl

    module = lightdsl.load(str(ROOT / "specs" / "digits_mlp.lit")).module
    assert _not_reserved(_public_and_private(type(module)) | _public_and_private(module)) == []


def test_reserved_names_cover_lightning_module():
    pl = pytest.importorskip("pytorch_lightning")
    assert _not_reserved(_public_and_private(pl.LightningModule)
                         | _public_and_private(pl.LightningModule())) == []


def test_reserved_names_are_spec_identifiers():
    """Every listed name can be written in a spec (else listing it would be dead weight)."""
    import re

    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in ALL_RESERVED)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(ALL_RESERVED), kind=st.sampled_from(["layer", "param"]))
def test_every_reserved_name_is_a_located_error(name, kind):
    assume_writable(name)
    member = f"    {name} = linear(2, 2)" if kind == "layer" else f"    param {name} = 1.0"
    use = f"{name}(x)" if kind == "layer" else f"x * {name}"
    text = spec(f"model Net {{\n{member}\n    forward(x) {{\n        return {use}\n    }}\n}}",
                loss="mse", labels="[[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]")
    errors = found(text, "reserved")
    line, column = where(text, name)
    assert errors and errors[0][:2] == (line, column)
    assert errors[0][2].startswith(f'{kind} name "{name}" is reserved: ')


def assume_writable(name: str) -> None:
    from hypothesis import assume

    assume(name not in GRAMMAR_WORDS)


@pytest.mark.parametrize("name", ["class", "lambda", "__shift", "_x", "train_", "Eval"])
def test_names_the_module_does_not_have_are_allowed(name):
    """Python keywords included: the code generator renames them (tests/codegen/specs)."""
    text = spec(f"model Net {{\n    {name} = linear(2, 2)\n    forward(x) {{\n"
                f"        return {name}(x)\n    }}\n}}")
    assert found(text) == []


def train_cli(text: str, tmp_path, capsys, name: str = "spec.lit") -> tuple[int, str, Path]:
    """`lightdsl train FILE --fast-dev-run` in process: exit code, all output, the spec path."""
    from lightdsl.cli import main

    path = tmp_path / name
    path.write_text(text)
    code = main(["train", str(path), "--fast-dev-run"])
    out = capsys.readouterr()
    return code, out.out + out.err, path


def test_train_on_a_reserved_name_stops_cleanly(tmp_path, capsys):
    text = spec("model Net {\n    eval = linear(2, 2)\n    forward(x) {\n        return eval(x)"
                "\n    }\n}")
    code, output, path = train_cli(text, tmp_path, capsys)
    assert code == 1
    assert "Traceback" not in output
    assert f'{path}:2:5: error: layer name "eval" is reserved: it is a method of ' \
        "torch.nn.Module; rename it" in output


# ---- inline class labels -------------------------------------------------------------------


def _labels_spec(labels: list[int], width: int, extra: str = "") -> str:
    inputs = ", ".join("[0.0, 1.0]" for _ in labels)
    return (f"model Net {{\n    layers {{\n        linear(2, {width})\n    }}\n}}\n"
            f"data points {{\n    inputs = [{inputs}]\n    labels = {labels}\n    {extra}\n}}\n"
            "train {\n    model = Net\n    data = points\n    loss = cross_entropy\n}\n")


def _label_columns(text: str, labels: list[int]) -> list[int]:
    """The column of each label in the `labels = [...]` line."""
    line = next(x for x in text.splitlines() if x.strip().startswith("labels"))
    columns, start = [], line.index("[") + 1
    for value in labels:
        start = line.index(str(value), start)
        columns.append(start + 1)
        start += len(str(value))
    return columns


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.integers(-3, 6), min_size=1, max_size=6), width=st.integers(1, 5))
def test_inline_labels_outside_the_output_width_are_errors_where_torch_fails(labels, width):
    import torch
    import torch.nn.functional as F

    text = _labels_spec(labels, width)
    errors = found(text, "label-range")
    columns = _label_columns(text, labels)
    bad = [i for i, v in enumerate(labels) if not 0 <= v < width]
    assert sorted(c for _, c, _ in errors) == sorted({columns[i] for i in bad})
    assert all(line == 8 and f"for cross_entropy: the labels must be in 0..{width - 1}" in m
               for line, _, m in errors)
    try:
        F.cross_entropy(torch.zeros(len(labels), width), torch.tensor(labels))
        torch_fails = False
    except (IndexError, RuntimeError):
        torch_fails = True
    assert torch_fails == bool(bad)


def test_inline_labels_outside_num_classes_are_errors_for_any_loss():
    text = _labels_spec([0, 5, 1], 3, "num_classes = 3").replace("cross_entropy", "mse")
    errors = found(text, "label-range")
    assert errors == [(8, 18, "label 5 is outside 0..2 (num_classes = 3)")]


def test_one_hot_of_a_negative_label_is_an_error():
    text = _labels_spec([0, -1, 1], 3, "one_hot(3)").replace("cross_entropy", "mse")
    message = "one_hot cannot encode label -1: the classes are 0..2"
    assert found(text, "label-range") == [(8, 18, message)]


def test_train_with_a_negative_label_stops_before_torch(tmp_path, capsys):
    code, output, path = train_cli(_labels_spec([2, -1], 3), tmp_path, capsys)
    assert code == 1 and "Traceback" not in output
    assert f"{path}:8:18: error: label -1 is not a class index for cross_entropy" in output


# ---- embedding needs integer indices -------------------------------------------------------

EMBEDDING_MODELS = {
    "layers": "model Net {\n    layers {\n        embedding(10, 3)\n        flatten()\n"
              "        linear(CAT, 2)\n    }\n}",
    "forward": "model Net {\n    e = embedding(10, 3)\n    fl = flatten()\n    f = linear(CAT, 2)"
               "\n    forward(x) {\n        h = relu(x) * 2\n        return f(fl(e(h)))\n    }\n}",
}
SOURCES = {  # data sources of float inputs and the feature count of one sample
    "inline floats": ("inputs = [[0, 1.5], [1, 0]]\n    labels = [0, 1]", 2),
    "csv": (f'source = csv("{ROOT}/specs/data/iris_like.csv", label = "species")', 4),
    "images": ("source = digits()", 64),
}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("style", EMBEDDING_MODELS)
def test_embedding_on_data_inputs_is_an_error_at_the_layer(style, source):
    settings_, features = SOURCES[source]
    model = EMBEDDING_MODELS[style].replace("CAT", str(3 * features))
    if source == "images":
        model = model.replace("embedding(10, 3)\n", "flatten()\n        embedding(10, 3)\n") \
            if style == "layers" else model.replace("e(h)", "e(fl(h))")
    text = (f"{model}\ndata points {{\n    {settings_}\n}}\ntrain {{\n    model = Net\n"
            "    data = points\n    loss = cross_entropy\n}\n")
    needle = "embedding(10, 3)" if style == "layers" else "e(h)" if source != "images" \
        else "e(fl(h))"
    message = "embedding looks up integer indices, but its input is float (images, CSV " \
        "features and inline numbers with a fraction are floats)"
    assert found(text) == [(*where(text, needle), message)]


@pytest.mark.parametrize("style", EMBEDDING_MODELS)
def test_embedding_on_inline_integers_checks(style):
    model = EMBEDDING_MODELS[style].replace("CAT", "6").replace("relu(x) * 2", "x * 2")
    text = (f"{model}\ndata points {{\n    inputs = [[0, 1], [9, 3]]\n    labels = [0, 1]\n}}"
            "\ntrain {\n    model = Net\n    data = points\n    loss = cross_entropy\n}\n")
    assert found(text) == []


@pytest.mark.parametrize("expression", ["x * 0.5", "x / 2", "exp(x)", "x + w"])
def test_float_arithmetic_on_indices_is_float(expression):
    text = ("model Net {\n    param w = 1.0\n    e = embedding(10, 3)\n    fl = flatten()\n"
            "    f = linear(6, 2)\n    forward(x) {\n        h = EXPR\n"
            "        return f(fl(e(h)))\n    }\n}\n"
            "data points {\n    inputs = [[0, 1], [9, 3]]\n    labels = [0, 1]\n}\n"
            "train {\n    model = Net\n    data = points\n    loss = cross_entropy\n}\n"
            ).replace("EXPR", expression)
    message = "embedding looks up integer indices, but its input is float (images, CSV " \
        "features and inline numbers with a fraction are floats)"
    assert [m for _, _, m in found(text, "dtype")] == [message]


def test_every_loader_gives_the_model_float_inputs():
    """The fact the dtype check relies on (DataInfo.input_dtype = "float")."""
    from lightdsl.compile.data import load_data

    for settings_, _ in SOURCES.values():
        analysis = analyze_text(f"data points {{\n    {settings_}\n}}\n", "spec.lit")
        info = analysis.program.data["points"]
        assert info.input_dtype == "float"
        assert load_data(info, str(ROOT)).train.inputs.is_floating_point(), settings_


# ---- monitored metric names ----------------------------------------------------------------

MONITOR_SPEC = """model Net {
    layers {
        linear(2, 2)
    }
}
data points {
    inputs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    labels = [0, 1, 0, 1]
    batch_size = 2
    VAL
}
train {
    model = Net
    data = points
    loss = cross_entropy
    metrics = [accuracy]
    max_epochs = 1
    logger = none
    enable_checkpointing = false
    enable_progress_bar = false
    log_every_n_steps = 1
    enable_model_summary = false
    callbacks = [early_stopping(monitor = "MONITOR")]
}
"""


def _monitor_spec(monitor: str, val: bool = True) -> str:
    return MONITOR_SPEC.replace("MONITOR", monitor).replace("VAL", "val = split(0.5)" if val
                                                                else "")


def test_logged_metric_names_are_the_trainers(tmp_path):
    """The checker's list of monitorable names is what the trainer really logs."""
    from lightdsl.api import load_source
    from lightdsl.checker.train import logged_metrics
    from lightdsl.frontend.source import SourceFile

    experiment = load_source(SourceFile(_monitor_spec("val_loss"), str(tmp_path / "m.lit")))
    trainer = experiment.trainer(default_root_dir=str(tmp_path))
    trainer.fit(experiment.module)
    assert sorted(trainer.callback_metrics) == sorted(logged_metrics(experiment.run, True))


@settings(max_examples=40, deadline=None)
@given(monitor=st.one_of(
    st.sampled_from(["train_loss", "train_loss_epoch", "train_accuracy", "train_loss_step",
                     "train_accuracy_epoch", "train_accuracy_step", "val_loss", "val_accuracy",
                     "val_los", "train_los_step",
                     "val_acc", "accuracy", "loss", "train_los", "val_accuracy_epoch"]),
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True)))
def test_a_monitor_the_run_never_logs_is_an_error_at_the_name(monitor):
    logged = {"train_loss", "train_loss_step", "train_loss_epoch", "train_accuracy",
              "train_accuracy_step", "train_accuracy_epoch", "val_loss", "val_accuracy"}
    text = _monitor_spec(monitor)
    errors = found(text, "unknown-metric")
    if monitor in logged:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0][:2] == where(text, f'"{monitor}"')
        assert errors[0][2].startswith(f'early_stopping monitors "{monitor}", which this run '
                                       "never logs")


def test_monitor_typo_has_a_suggestion_and_train_stops_before_an_epoch(tmp_path, capsys):
    code, output, path = train_cli(_monitor_spec("val_los"), tmp_path, capsys)
    assert code == 1 and "Traceback" not in output and "Epoch" not in output
    assert f'{path}:23:43: error: early_stopping monitors "val_los", which this run never ' \
        'logs; did you mean "val_loss"?' in output


def test_monitoring_a_val_metric_without_val_data_is_an_error():
    text = _monitor_spec("val_accuracy", val=False)
    message = 'early_stopping monitors "val_accuracy", but data points has no `val`'
    assert found(text, "no-validation") == [(*where(text, '"val_accuracy"'), message)]


# ---- parameter memory estimate -------------------------------------------------------------


def test_a_model_above_1_gb_of_parameters_is_a_warning_with_the_estimate():
    text = spec("model Net {\n    layers {\n        linear(2, 100000)\n"
                "        linear(100000, 100000)\n        linear(100000, 2)\n    }\n}")
    assert found(text, "memory", "warning") == [
        (1, 7, "model Net has 10,000,600,002 parameters (about 40.0 GB in float32)")]
    assert found(text) == []  # a warning: a big model is allowed


@pytest.mark.parametrize("width,warns", [(15809, False), (15810, True)])
def test_the_memory_warning_starts_above_1_gb(width, warns):
    """w * w + 4 * w floats: 249,987,717 for w = 15809, 250,019,340 (over 1e9 bytes) for 15810."""
    text = spec(f"model Net {{\n    layers {{\n        linear(2, {width}, bias = false)\n"
                f"        linear({width}, {width}, bias = false)\n"
                f"        linear({width}, 2, bias = false)\n    }}\n}}")
    assert bool(found(text, "memory", "warning")) == warns


# ---- data set files (item 18) --------------------------------------------------------------

MNIST_SPEC = """model Net {
    layers {
        flatten()
        linear(784, 10)
    }
}
data images {
    source = SOURCE
}
train {
    model = Net
    data = images
    loss = cross_entropy
}
"""


def _data_warnings(tmp_path, source: str, features=784) -> list[tuple[int, int, str]]:
    path = tmp_path / "spec.lit"
    path.write_text(MNIST_SPEC.replace("SOURCE", source).replace("784", str(features)))
    from lightdsl.analysis import analyze_file

    analysis = analyze_file(str(path))
    assert analysis.errors == []
    return [(d.line, d.column, d.message + " | " + (d.hint or "")) for d in analysis.diagnostics
            if d.code == "missing-file"]


@pytest.fixture
def torchvision(monkeypatch):
    """Set whether the checker sees torchvision installed: torchvision(True/False)."""
    from lightdsl.checker import data

    def set_installed(installed: bool) -> None:
        monkeypatch.setattr(data, "torchvision_installed", lambda: installed)
    return set_installed


def test_the_checkers_mnist_layout_is_the_loaders():
    from lightdsl.data import vision
    from lightdsl.vocab import data

    assert data.RAW_FILES == vision.RAW_FILES
    assert data.MNIST_FOLDERS == {k: v[0] for k, v in vision.MNIST_FAMILY.items()}


def test_mnist_cnn_example_warns_that_its_files_are_missing(monkeypatch):
    monkeypatch.chdir(ROOT)
    analysis = analyze_text((ROOT / "specs" / "mnist_cnn.lit").read_text(),
                            str(ROOT / "specs" / "mnist_cnn.lit"))
    assert analysis.errors == []
    (warning,) = [d for d in analysis.diagnostics if d.code == "missing-file"]
    assert (warning.line, warning.column) == (22, 31)
    assert warning.message == "mnist train split: specs/data/MNIST/raw/ has no " \
        "train-images-idx3-ubyte or train-labels-idx1-ubyte"
    assert warning.hint == "place the files (gzipped or not) in specs/data/MNIST/raw/, or " \
        "install lightdsl[vision] (pip install -e '.[vision]') and set download = true"


@pytest.mark.parametrize("installed", [False, True])
def test_download_without_torchvision_warns(tmp_path, monkeypatch, torchvision, installed):
    monkeypatch.chdir(tmp_path)
    torchvision(installed)
    warnings = _data_warnings(tmp_path, 'mnist(root = "data", download = true)')
    if installed:
        assert warnings == []
    else:
        message = ("download = true needs torchvision, which is not installed, and "
                   "data/MNIST/raw/ has no train-images-idx3-ubyte or train-labels-idx1-ubyte | "
                   f"install lightdsl[vision] ({extra_command('vision')}), or place the "
                   "mnist train files (gzipped or not) in data/MNIST/raw/")
        assert warnings == [(8, 46, message)]


@pytest.mark.parametrize("download", ["true", "false"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_present_idx_files_do_not_warn(tmp_path, torchvision, download, suffix):
    torchvision(False)
    raw = tmp_path / "data" / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / (name + suffix)).write_bytes(b"")
    source = f'kmnist(root = "data", split = "test", download = {download})'
    assert _data_warnings(tmp_path, source) == []
    assert _data_warnings(tmp_path, source.replace("test", "train")) != []


@pytest.mark.parametrize("installed,download,warns", [
    (False, "false", "the cifar10 source needs torchvision, which is not installed"),
    (False, "true", "the cifar10 source needs torchvision, which is not installed"),
    (True, "false", "cifar10 train split: "), (True, "true", None)])
def test_cifar10_needs_torchvision_and_its_folder(tmp_path, torchvision, installed, download,
                                                  warns):
    torchvision(installed)
    source = f'cifar10(root = "data", download = {download})'
    warnings = _data_warnings(tmp_path, source, features=3072)
    assert [w[2].startswith(warns) for w in warnings] == ([True] if warns else [])


def test_torchvision_is_detected_without_importing_it(monkeypatch):
    import importlib.util

    from lightdsl.checker import data

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert data.torchvision_installed() is False
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert data.torchvision_installed() is True


def test_check_stays_torch_free_with_image_sources(tmp_path):
    path = tmp_path / "spec.lit"
    path.write_text(MNIST_SPEC.replace("SOURCE", 'mnist(root = "data", download = true)'))
    code = ("import sys; from lightdsl.analysis import analyze_file; "
            f"analyze_file({str(path)!r}); "
            "print('torch' in sys.modules, 'torchvision' in sys.modules)")
    result = run_code(code, check=True, timeout=TIMEOUT_S)
    assert result.stdout.split() == ["False", "False"]


def test_the_loader_fails_where_check_warns(tmp_path, monkeypatch):
    import re

    from lightdsl.data import vision
    from lightdsl.errors import DataError

    monkeypatch.setattr(vision, "torchvision_datasets", lambda: None)
    raw = tmp_path / "data" / "MNIST" / "raw"
    with pytest.raises(DataError, match=re.escape(f"missing train-images-idx3-ubyte and "
                                                  f"train-labels-idx1-ubyte in {raw}/")):
        vision.load_mnist(tmp_path / "data", download=True)


@pytest.mark.parametrize("value,shown", [("1e999", "")])
def test_non_finite_numbers_are_rejected_where_a_number_is_wanted(value, shown):
    text = spec("model Net {\n    layers {\n        linear(2, 2)\n    }\n}",
                train=f"optimizer = sgd(lr = {value})")
    message = f"number too large: {value} overflows to infinity"  # the literal, before the type
    assert found(text) == [(*where(text, value), message)]

"""Pictures: each PNG exists, has the expected size and is not blank; the DOT text names every
layer with its shape; the commands fail with clear messages (exit 2), never tracebacks."""

from __future__ import annotations

import os
import sys

import pytest

import lightdsl
from lightdsl.analysis import analyze_file
from lightdsl.cli import main
from lightdsl.plots.graph import build_graph, to_dot
from tests.helpers.runner import run_code

plt = pytest.importorskip("matplotlib.pyplot")

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")
STATQUEST = os.path.join(SPECS, "statquest.lit")


def assert_picture(path, min_size=(300, 200), max_size=(3000, 3000)):
    """A PNG that exists, has a plausible size and is not one flat colour."""
    assert os.path.isfile(path), path
    image = plt.imread(path)
    height, width = image.shape[:2]
    assert min_size[0] <= width <= max_size[0] and min_size[1] <= height <= max_size[1], \
        (width, height)
    assert image[..., :3].std() > 0.02  # not blank


def run_of(spec):
    analysis = analyze_file(spec)
    return next(iter(analysis.program.runs.values()))


def exit_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """StatQuest trained once, with CSV logs in one run and TensorBoard logs in another."""
    root = tmp_path_factory.mktemp("logs")
    short = ["--max-epochs", "40"]  # the pictures need a run's files, not its 2000 epochs
    assert main(["train", STATQUEST, "--default-root-dir", str(root), *short]) == 0
    assert main(["train", STATQUEST, "--default-root-dir", str(root), *short,
                 "--set", "train.logger=csv", "--set", "train.log_every_n_steps=1"]) == 0
    return root / "statquest"


def test_lr_curve_png(tmp_path):
    from lightdsl.tuner import lr_find

    experiment = lightdsl.load(STATQUEST)
    result = lr_find(experiment.module, experiment.trainer_kwargs(), min_lr=0.001,
                     max_lr=1.0, early_stop_threshold=None)
    paths = result.plot(str(tmp_path / "curve.png"), formats=("png", "svg"))
    assert paths == [str(tmp_path / "curve.png"), str(tmp_path / "curve.svg")]
    assert_picture(paths[0], min_size=(500, 400), max_size=(700, 550))
    with open(paths[1]) as f:
        assert "<svg" in f.read()


def test_train_writes_the_response_plot(trained):
    assert_picture(trained / "version_0" / "response.png", (500, 400), (700, 550))


@pytest.mark.parametrize("version", ["version_0", "version_1"], ids=["tensorboard", "csv"])
def test_run_curves_from_logs(trained, version, tmp_path, capsys):
    out = tmp_path / "curves.png"
    assert main(["plot", str(trained / version), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert_picture(out, (400, 200), (900, 800))


def test_run_curves_pick_the_newest_version(trained, capsys):
    assert main(["plot", str(trained)]) == 0
    assert_picture(trained / "version_1" / "curves.png")


def test_response_from_last_checkpoint(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(trained.parent.parent)
    out = tmp_path / "dose.png"
    code = main(["plot", STATQUEST, "--set", f"train.default_root_dir={str(trained.parent)!r}",
                 "--ckpt", "last", "--range", "0:1", "-o", str(out), "--svg"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "last.ckpt" in printed and str(out) in printed
    assert_picture(out, (500, 400), (700, 550))
    assert (tmp_path / "dose.svg").is_file()


def test_dot_names_every_layer_with_its_shape():
    dot = to_dot(build_graph(run_of(os.path.join(SPECS, "mnist_mlp.lit"))))
    for text in ("flatten", "linear(784, 500)", "relu", "linear(500, 10)",
                 "(N, 1, 28, 28)", "(N, 784)", "(N, 500)", "(N, 10)"):
        assert text in dot, text
    cnn = to_dot(build_graph(run_of(os.path.join(SPECS, "mnist_cnn.lit"))))
    for text in ("conv1: conv2d(1, 16, 3, padding=1)", "conv2: conv2d(16, 32, 3, padding=1)",
                 "pool: maxpool2d(2)", "fc1: linear(1568, 128)", "fc2: linear(128, 10)",
                 "drop: dropout(p=0.25)", "x (N, 16, 14, 14)", "x (N, 32, 7, 7)", "(N, 1568)"):
        assert text in cnn, text


def test_dot_marks_frozen_and_trainable_params():
    dot = to_dot(build_graph(run_of(STATQUEST)))
    for name in ("w00", "b00", "w01", "w10", "b10", "w11"):
        assert f"{name} = " in dot and dot.count("(frozen)") == 6
    assert "final_bias = 0\\n(trainable)" in dot
    assert 'label="top (N,)"' in dot and 'label="bottom (N,)"' in dot
    assert dot.startswith('digraph "BasicLightningTrain"') and dot.rstrip().endswith("}")


@pytest.mark.parametrize("name", ["net.png", "net.dot"])
def test_graph_command(tmp_path, name, capsys):
    out = tmp_path / name
    assert main(["graph", os.path.join(SPECS, "mnist_cnn.lit"), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    if name.endswith(".png"):
        assert_picture(out, (300, 300), (3000, 3000))
    else:
        assert "conv1: conv2d" in out.read_text()


@pytest.mark.parametrize("argv", [
    ["plot", "no/such/dir"],
    ["plot", STATQUEST, "--range", "1:0"],
    ["plot", STATQUEST, "--range", "zero:one"],
    ["plot", STATQUEST, "--ckpt", "missing.ckpt"],
    ["plot", os.path.join(SPECS, "mnist_mlp.lit")],
    ["graph", "missing.lit"],
    ["graph", STATQUEST, "-o", "net.jpeg"],
])
def test_usage_errors_exit_2_without_traceback(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_new_commands_do_not_import_torch_or_matplotlib_at_registration():
    code = ("import sys; from lightdsl.cli import build_parser; build_parser(); "
            "from lightdsl.plots.graph import build_graph; "
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = run_code(code, check=True).stdout
    assert out.strip() == "[]"


def test_missing_matplotlib_is_a_clear_error(monkeypatch):
    from lightdsl.errors import LightdslError
    from lightdsl.plots import require_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(LightdslError, match="pip install lightdsl\\[plot\\]"):
        require_matplotlib()

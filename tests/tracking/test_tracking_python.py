"""python(...) callbacks and loggers at train time, a logger added as one vocabulary entry, and
what generated scripts do with several loggers."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

import lightdsl
from lightdsl.analysis import analyze_file
from lightdsl.codegen import generate_file
from lightdsl.vocab.registry import REGISTRY, Arg, Entry
from lightdsl.vocab.types import Str
from tests.helpers.specs import iris_spec

QUIET = {"enable_progress_bar": False}
NAMES = itertools.count()

OWN = '''
import json
from pathlib import Path


class Recorder:
    """Writes what it was given and told into log_dir/recorder.json at the end."""

    def __init__(self, log_dir, tag="mine"):
        self.log_dir, self.tag = Path(log_dir), tag
        self.rows, self.params, self.status = [], None, None

    def log_hyperparams(self, params):
        self.params = params

    def log_metrics(self, metrics, step):
        self.rows.append({**metrics, "step": step})

    def finalize(self, status):  # Lightning's form: with the fit's status
        (self.log_dir / "recorder.json").write_text(json.dumps(
            {"tag": self.tag, "rows": self.rows, "params": self.params, "status": status}))


class EpochCounter:
    def __init__(self, path):
        self.path, self.epochs = Path(path), 0

    def on_train_epoch_end(self, trainer, module):
        self.epochs += 1
        self.path.write_text(str(self.epochs))
'''


def _own_module(tmp_path: Path) -> str:
    """A user module in the spec's folder, under a name no other test imported."""
    name = f"tracking_own_{next(NAMES)}"
    (tmp_path / f"{name}.py").write_text(OWN, encoding="utf-8")
    return name


def _csv_rows(log_dir: str) -> list[dict]:
    with open(Path(log_dir) / "metrics.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]


def test_a_python_logger_beside_csv_gets_the_same_metrics(tmp_path):
    module = _own_module(tmp_path)
    counter = tmp_path / "epochs.txt"
    spec = iris_spec(tmp_path, 3, 16, f'logger = [csv, python("{module}:Recorder", '
                     'tag = "t")]', f'callbacks = [python("{module}:EpochCounter", '
                     f'path = "{counter.as_posix()}")]', "log_every_n_steps = 4",
                     f'default_root_dir = "{(tmp_path / "logs").as_posix()}"')
    result = lightdsl.load(str(spec)).fit(**QUIET)
    recorded = json.loads((Path(result.log_dir) / "recorder.json").read_text())
    assert recorded["tag"] == "t" and recorded["status"] == "success"
    assert recorded["rows"] == _csv_rows(result.log_dir)  # exactly: both floats round-trip
    assert recorded["params"]["model"] == "IrisNet"
    assert counter.read_text() == "3"


def test_a_python_logger_that_fails_to_build_names_the_spec_line(tmp_path):
    from lightdsl.errors import ConfigError

    module = _own_module(tmp_path)
    (tmp_path / f"{module}.py").write_text(OWN.replace('self.log_dir, self.tag = Path(log_dir)'
                                                       ', tag', 'raise ValueError("no")\n  '
                                                       '      self.log_dir, self.tag = None, tag'
                                                       ), encoding="utf-8")
    spec = iris_spec(tmp_path, 1, 16, f'logger = python("{module}:Recorder")',
                     f'default_root_dir = "{(tmp_path / "logs").as_posix()}"')
    with pytest.raises(ConfigError) as error:
        lightdsl.load(str(spec)).fit(**QUIET)
    assert error.value.location == f"{spec}:18:21"
    assert "building the logger Recorder() failed: ValueError: no" in error.value.message


class Memo:
    """A logger for the one-entry test: records into log_dir/memo.txt."""

    def __init__(self, log_dir, prefix=""):
        self.path, self.prefix, self.lines = Path(log_dir) / "memo.txt", prefix, []

    def log_metrics(self, metrics, step):
        self.lines.append(f"{self.prefix}{step}:{sorted(metrics)}")

    def finalize(self):
        self.path.write_text("\n".join(self.lines))


@pytest.fixture
def memo_entry():
    """A new logger, added as nothing but one vocabulary entry (as W&B would be)."""
    entry = REGISTRY.add(Entry(kind="logger", name="memo", args=(Arg("prefix", Str(), ""),),
                               target=f"{__name__}.Memo", doc="test logger"))
    yield entry
    del REGISTRY._entries["logger"]["memo"]


def test_a_new_logger_is_one_vocabulary_entry(tmp_path, memo_entry):
    spec = iris_spec(tmp_path, 2, 16, 'logger = [csv, memo(prefix = "m")]',
                     f'default_root_dir = "{(tmp_path / "logs").as_posix()}"')
    assert analyze_file(str(spec)).diagnostics == []
    result = lightdsl.load(str(spec)).fit(**QUIET)
    lines = (Path(result.log_dir) / "memo.txt").read_text().splitlines()
    assert len(lines) == len(_csv_rows(result.log_dir)) and lines[0].startswith("m")


SEVERAL = '''\
    logger = [tensorboard, csv, mlflow(log_model = false)]
    callbacks = [early_stopping(monitor = "val_loss"), python("MODULE:EpochCounter", path = "x")]
'''


def test_the_lightning_script_passes_every_logger_and_notes_the_python_callback(tmp_path):
    module = _own_module(tmp_path)
    spec = iris_spec(tmp_path, 1, 16, *SEVERAL.replace("MODULE", module).strip().splitlines())
    generated = generate_file(str(spec), None, "lightning", str(tmp_path / "s.py"))
    text = generated.text
    assert ('"logger": [\n            pl.loggers.TensorBoardLogger(),\n'
            '            pl.loggers.CSVLogger(),\n            pl.loggers.MLFlowLogger(\n'
            '                experiment_name="iris",\n'
            '                tracking_uri="sqlite:///mlruns/mlflow.db",\n'
            '                log_model=False,\n            ),\n        ],') in text
    assert "EpochCounter" not in text.split('"""', 2)[2]  # only the docstring names it
    note = f"python('{module}:EpochCounter') callback: not in the script"
    assert [n for n in generated.notes if n.startswith(note)]
    assert note.replace('"', "'") in text
    compile(text, "s.py", "exec")


def test_the_torch_script_says_it_prints_instead_of_the_loggers(tmp_path):
    module = _own_module(tmp_path)
    spec = iris_spec(tmp_path, 1, 16, *SEVERAL.replace("MODULE", module).strip().splitlines())
    generated = generate_file(str(spec), None, "torch", str(tmp_path / "s.py"))
    assert generated.notes[0] == ("logger = [tensorboard, csv, mlflow]: the script prints each "
                                  "epoch's metrics instead of writing logs")
    assert any(n.startswith(f"python('{module}:EpochCounter') callback") for n in
               generated.notes)
    assert "EpochCounter" not in generated.text.split('"""', 2)[2]
    compile(generated.text, "s.py", "exec")

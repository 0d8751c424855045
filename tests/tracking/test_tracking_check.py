"""``lightdsl check`` of loggers and of python(...) callbacks and loggers: located errors for a
missing module or class and for misspelt hooks (did-you-mean), several loggers checked
together, mlflow's install hint, and neither torch nor mlflow imported."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import pytest

from lightdsl import run_settings as rs
from lightdsl.analysis import analyze_file
from tests.helpers.runner import run_code

HOOKS = '''
class Good:
    def __init__(self, every=1):
        self.every = every

    def on_train_epoch_end(self, trainer, module):
        pass

    def _helper(self):
        pass

    def report(self):  # a public method that is no hook and looks like none: fine
        pass


class Typos:
    def on_epoch_end(self, trainer, module):
        pass

    def on_train_batch_end(self, trainer):
        pass

    def teardwon(self, trainer, module, stage):
        pass


class Logs:
    def __init__(self, log_dir, prefix=""):
        self.log_dir, self.prefix = log_dir, prefix

    def log_metrics(self, metrics, step):
        pass

    def finalize(self):  # without the status: accepted
        pass


class LogsBadly:
    def log_metric(self, name, value):
        pass


class Inherits(Logs):
    pass


def not_a_class():
    pass
'''


def _spec(tmp_path: Path, lines: str, module: str = "hooks") -> Path:
    (tmp_path / f"{module}.py").write_text(HOOKS, encoding="utf-8")
    spec = tmp_path / "s.lit"
    spec.write_text(textwrap.dedent('''\
        model M { layers { linear(4, 3) } }
        data d {
            inputs = [[1.0, 2.0, 3.0, 4.0]]
            labels = [0]
            num_classes = 3
        }
        train {
            model = M
            data = d
            loss = cross_entropy
        ''') + "".join(f"    {line}\n" for line in lines.splitlines()) + "}\n",
        encoding="utf-8")
    return spec


def _found(spec: Path) -> list[tuple[str, int, int, str]]:
    analysis = analyze_file(str(spec))
    return [(d.severity, d.span.line, d.span.column, d.message) for d in analysis.diagnostics]


def test_good_python_callbacks_and_loggers_check_clean(tmp_path):
    spec = _spec(tmp_path, 'callbacks = [python("hooks:Good", every = 2)]\n'
                 'logger = [csv, python("hooks:Logs", prefix = "x"), python("hooks:Inherits")]')
    assert _found(spec) == []  # log_dir is the trainer's to pass; Inherits may inherit hooks


def test_misspelt_hooks_are_located_errors_with_did_you_mean(tmp_path):
    spec = _spec(tmp_path, 'callbacks = [python("hooks:Typos")]\n'
                 'logger = python("hooks:LogsBadly")')
    found = _found(spec)
    column = len('    callbacks = [python("hooks:') + 1  # the class name in the string
    assert found == [
        ("error", 11, column, ('Typos.on_epoch_end (hooks, line 17) is not a callback hook '
         'lightdsl calls; did you mean "on_train_epoch_end"?')),
        ("error", 11, column, ("Typos.on_train_batch_end (hooks, line 20) takes (self, "
         "trainer), but the trainer calls it with (self, trainer, module, outputs, batch, "
         "batch_idx)")),
        ("error", 11, column, ('Typos.teardwon (hooks, line 23) is not a callback hook '
         'lightdsl calls; did you mean "teardown"?')),
        ("error", 12, 28, ('LogsBadly.log_metric (hooks, line 39) is not a logger hook '
         'lightdsl calls; did you mean "log_metrics"?')),
        ("error", 12, 28, ("LogsBadly defines no log_metrics(metrics, step), which every "
         "logger needs")),
    ]


def test_a_missing_module_class_or_a_function_is_a_located_error(tmp_path):
    spec = _spec(tmp_path, 'callbacks = [python("hookz:Good"), python("hooks:Godo"), '
                 'python("hooks:not_a_class")]\nlogger = python("hooks:Nope")')
    messages = [(line, column, message) for _, line, column, message in _found(spec)]
    assert messages == [
        (11, 26, 'cannot find Python module "hookz"; did you mean "hooks"?'),
        (11, 54, 'Python module "hooks" defines no "Godo"; did you mean "Good"?'),
        (11, 76, ('"not_a_class" is a function, but a python callback must be a class with '
         "the trainer's hooks (on_fit_start, ...)")),
        (12, 28, 'Python module "hooks" defines no "Nope"'),
    ]


def test_a_python_loggers_keywords_are_checked_and_log_dir_is_not_the_specs(tmp_path):
    spec = _spec(tmp_path, 'logger = python("hooks:Logs", prefx = "x", log_dir = "here")')
    messages = [m for *_, m in _found(spec)]
    assert messages == ['Logs.__init__ has no argument "prefx"; did you mean "prefix"?',
                        'Logs.__init__ has no argument "log_dir"']


@pytest.mark.parametrize(("setting", "message"), [
    ("logger = [csv, csv]", "logger csv is given twice"),
    ('logger = [tensorboard(save_dir = "a"), csv(save_dir = "b")]',
     ("csv save_dir = 'b', but tensorboard gives save_dir = 'a': all loggers write one run "
     "folder")),
    ('logger = [tensorboard(name = "a"), csv(name = "b")]',
     "csv name = 'b', but tensorboard gives name = 'a': all loggers write one run folder"),
    ("logger = [none]", ('"logger": expected a logger, a list of values (a logger) or `none`, '
     "got [none]")),
    ("logger = [csv, wandb]", 'unknown logger "wandb"'),
])
def test_several_loggers_are_checked_together(tmp_path, setting, message):
    found = _found(_spec(tmp_path, setting))
    assert [m for *_, m in found if m.startswith(message)] and len(found) == 1, found


def test_logger_list_with_one_folder_is_fine(tmp_path):
    spec = _spec(tmp_path, 'logger = [tensorboard(save_dir = "a"), csv(save_dir = "a"), '
                 'mlflow(tracking_uri = "http://localhost:5000", log_model = false)]')
    assert _found(spec) == []


def test_mlflow_not_installed_is_a_warning_with_the_install_command(tmp_path, monkeypatch):
    from lightdsl.checker import loggers

    monkeypatch.setattr(loggers, "installed", lambda name: name != "mlflow")
    found = _found(_spec(tmp_path, "logger = [tensorboard, mlflow]"))
    assert found == [("warning", 11, 28, ("logger mlflow needs mlflow, which is not "
                      "installed: training will stop before it starts"))]
    analysis = analyze_file(str(tmp_path / "s.lit"))
    hint = analysis.diagnostics[0].hint
    assert re.fullmatch(r"install lightdsl\[mlflow\] \(pip install (-e )?'.*\[mlflow\]'\)", hint)


def test_check_imports_neither_torch_nor_mlflow(tmp_path):
    spec = _spec(tmp_path, 'logger = [tensorboard, csv, mlflow, python("hooks:Logs")]\n'
                 'callbacks = [python("hooks:Good")]')
    code = ("import sys; from lightdsl.cli import main; "
            f"rc = main(['check', {str(spec)!r}]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; "
            "assert 'mlflow' not in sys.modules, 'mlflow was imported'; sys.exit(rc)")
    result = run_code(code)
    assert result.returncode == 0, result.stdout + result.stderr


def _params(function) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)[1:]  # without self


def test_the_hook_tables_are_the_trainers_hooks():
    """check's tables (run_settings) against what the trainer defines and calls."""
    from lightdsl.trainer import loggers
    from lightdsl.trainer.callbacks import Callback, CallbackList
    from lightdsl.trainer.loggers import Logger, LoggerCallback
    from lightdsl.trainer.mlflow_logger import MLflowLogger

    for name, params in rs.CALLBACK_HOOKS.items():
        owner = Callback if hasattr(Callback, name) else LoggerCallback
        assert _params(getattr(owner, name)) == params, name
    assert {n for n in vars(Callback) if n.startswith("on_")} <= set(rs.CALLBACK_HOOKS)
    assert hasattr(CallbackList, "state_dict")
    source = inspect.getsource(loggers)
    called = set(re.findall(r'call_logger\(self\.logger, "(\w+)"', source))
    assert called | {"finalize", "state_dict"} == set(rs.LOGGER_HOOKS)
    for name, params in rs.LOGGER_HOOKS.items():
        owner = Logger if hasattr(Logger, name) else MLflowLogger
        assert _params(getattr(owner, name)) in (params, ()), name
    assert _params(MLflowLogger.finalize) == rs.LOGGER_HOOKS["finalize"]

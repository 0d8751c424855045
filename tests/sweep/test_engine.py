"""The sweep engine on a tiny iris spec: better than the defaults, pruning, the grid, resume,
failed trials, and sweep show."""

from __future__ import annotations

import pytest

from lightdsl.analysis import analyze_file

from .helpers import write_spec

optuna = pytest.importorskip("optuna")

from lightdsl.sweep.engine import (
    Experiment,
    Sweep,
    SweepOptions,
    objective_value,
    point_analysis,
)
from lightdsl.sweep.launch import run_sweep
from lightdsl.sweep.show import trial_rows, write_plots


def _sweep(tmp_path, block: str, **options):
    analysis = analyze_file(str(write_spec(tmp_path, block)))
    assert analysis.ok, analysis.diagnostics
    space = analysis.sweeps["default"]
    folder = tmp_path / "sweep"
    study, _, _ = run_sweep(analysis, space, SweepOptions(folder=str(folder), **options))
    return analysis, space, study, folder


def _states(study) -> dict:
    found = {}
    for trial in study.trials:
        found[trial.state.name] = found.get(trial.state.name, 0) + 1
    return found


def test_a_sweep_beats_the_spec_defaults(tmp_path):
    analysis, space, study, folder = _sweep(tmp_path, """sweep {
        optimizer.lr     = loguniform(0.02, 0.2)
        hidden           = choice(16, 64)
        train.max_epochs = 1
        monitor          = val_accuracy
        trials           = 3
        sampler          = random(seed = 0)
    }""")
    baseline = point_analysis(analysis, space, {})  # the spec's values, max_epochs = 1
    result = Experiment(baseline, baseline.program.runs["default"]).fit(
        default_root_dir=str(tmp_path / "base"), enable_progress_bar=False,
        enable_model_summary=False)
    default = objective_value(result.history, "val_accuracy", "max")
    assert _states(study) == {"COMPLETE": 3}
    assert study.best_value > default
    best = folder / f"trial_{study.best_trial.number}"
    assert (best / "values.json").is_file() and (best / "version_0" / "checkpoints").is_dir()


def test_grid_covers_its_grid_exactly(tmp_path):
    _, _, study, _ = _sweep(tmp_path, """sweep {
        hidden           = choice(8, 16)
        optimizer.lr     = choice(0.01, 0.05)
        train.max_epochs = 1
        sampler          = grid
    }""")
    points = sorted((t.params["hidden"], t.params["optimizer.lr"]) for t in study.trials)
    assert points == [(8, 0.01), (8, 0.05), (16, 0.01), (16, 0.05)]


def test_resume_adds_only_the_remaining_trials(tmp_path):
    block = """sweep {
        optimizer.lr     = loguniform(0.001, 0.1)
        train.max_epochs = 1
        trials           = %d
        sampler          = tpe(seed = 1)
    }"""
    _, _, first, _ = _sweep(tmp_path, block % 2)
    started = {t.number: t.datetime_start for t in first.trials}
    _, _, again, _ = _sweep(tmp_path, block % 3)
    assert len(again.trials) == 3
    assert {t.number: t.datetime_start for t in again.trials[:2]} == started
    params = [t.params["optimizer.lr"] for t in again.trials]
    assert len(set(params)) == 3  # the resumed sampler does not repeat the first points
    _, _, last, _ = _sweep(tmp_path, block % 3)  # nothing left: no trial added
    assert len(last.trials) == 3


def test_pruning_cuts_hopeless_trials(tmp_path):
    _, _, study, _ = _sweep(tmp_path, """sweep {
        optimizer.lr     = choice(0.05, 0.00001)
        train.max_epochs = 4
        monitor          = val_accuracy
        pruner           = median
        trials           = 6
        sampler          = random(seed = 0)
    }""")
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert len(pruned) >= 1
    assert all(t.params["optimizer.lr"] == 0.00001 for t in pruned)
    assert all(max(t.intermediate_values) < 3 for t in pruned)  # stopped before the end


def test_a_failed_trial_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    real = Sweep._train

    def train(self, trial, point):
        if trial.number == 1:
            raise RuntimeError("out of luck")
        return real(self, trial, point)

    monkeypatch.setattr(Sweep, "_train", train)
    _, _, study, folder = _sweep(tmp_path, """sweep {
        optimizer.lr     = loguniform(0.001, 0.1)
        train.max_epochs = 1
        trials           = 3
    }""")
    assert _states(study) == {"COMPLETE": 2, "FAIL": 1}
    assert study.trials[1].user_attrs["error"] == "out of luck"
    rows = trial_rows(study)
    assert [r[1] for r in rows[1:]] == ["complete", "fail", "complete"]
    pytest.importorskip("matplotlib")
    assert {p.name for p in write_plots(study, folder)} == {
        "history.png", "parallel_coordinates.png", "importance.png"}


def test_the_command_to_run_a_sweep_again_keeps_its_options_but_not_a_password(tmp_path):
    analysis = analyze_file(str(write_spec(tmp_path, "sweep {\n    hidden = choice(8, 16)\n}")))
    options = SweepOptions(trials=5, folder="my sweeps/a", storage="postgresql://me:pw@db/s")
    command = Sweep(analysis, analysis.sweeps["default"], options).command()
    assert command == (f"lightdsl sweep {analysis.source.path} --trials 5 --dir 'my sweeps/a' "
                       "--storage 'postgresql://me:***@db/s'")
    plain = Sweep(analysis, analysis.sweeps["default"], SweepOptions()).command()
    assert plain == f"lightdsl sweep {analysis.source.path}"

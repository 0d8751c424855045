"""A sweep whose run logs to MLflow: one parent run, each trial nested under it, read back
from a real local MLflow store with ``mlflow.MlflowClient``."""

from __future__ import annotations

import json

import pytest

from lightdsl.analysis import analyze_file

from ..helpers.tracking import local_store, template_db
from .helpers import write_spec

optuna = pytest.importorskip("optuna")
mlflow = pytest.importorskip("mlflow")

from lightdsl.sweep.engine import SweepOptions
from lightdsl.sweep.launch import run_sweep

BLOCK = """sweep {
    hidden           = choice(8, 32)
    train.max_epochs = 1
    trials           = 2
    sampler          = random(seed = 0)
}"""


@pytest.fixture(scope="module")
def template(request, tmp_path_factory):
    """A migrated MLflow database to copy (shared with tests/tracking through pytest's
    cache)."""
    return template_db(request, tmp_path_factory)


def _sweep(folder, trials=None):
    analysis = analyze_file(str(folder / "iris.lit"))
    assert analysis.ok, analysis.diagnostics
    return run_sweep(analysis, analysis.sweeps["default"], SweepOptions(trials=trials))


def _runs(client, experiment) -> dict:
    found = client.search_runs([experiment.experiment_id])
    return {run.info.run_name: run for run in found}


@pytest.mark.slow  # three trials and MLflow's writes: about 6 s
def test_a_sweep_is_a_parent_run_with_its_trials_nested(tmp_path, monkeypatch, template):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path, BLOCK)
    spec.write_text(spec.read_text().replace("    seed       = 0\n",
                                             "    seed       = 0\n    logger = [csv, mlflow]\n"))
    store = local_store(template, tmp_path / "lightning_logs")
    study, folder, _ = _sweep(tmp_path)
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("iris-sweep")
    runs = _runs(client, experiment)
    assert sorted(runs) == ["iris-sweep", "trial_0", "trial_1"]
    parent = runs["iris-sweep"]
    assert parent.info.status == "FINISHED"
    assert parent.data.params["hidden"] == "choice(8, 32)"
    assert parent.data.params["sweep.trials"] == "2"
    assert parent.data.params["sweep.monitor"] == "val_loss"
    best = client.get_metric_history(parent.info.run_id, "best_objective")
    assert [m.step for m in best] == [0, 1]
    assert best[-1].value == pytest.approx(study.best_value)
    for trial in study.trials:
        run = runs[f"trial_{trial.number}"]
        values = json.loads((folder / f"trial_{trial.number}" / "values.json").read_text())
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["lightdsl.trial"] == str(trial.number)
        assert run.data.params["sweep.hidden"] == str(values["values"]["hidden"])
        assert run.data.params["hidden"] == str(values["values"]["hidden"])  # the model's
        assert run.data.metrics["objective"] == pytest.approx(trial.value)
        assert "val_loss" in run.data.metrics and run.info.status == "FINISHED"
    # continued: the same parent, one more child
    study, _, _ = _sweep(tmp_path, trials=3)
    runs = _runs(client, experiment)
    assert sorted(runs) == ["iris-sweep", "trial_0", "trial_1", "trial_2"]
    assert runs["trial_2"].data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert runs["iris-sweep"].info.status == "FINISHED"
    assert len(client.get_metric_history(parent.info.run_id, "best_objective")) == 3

"""``logger = [tensorboard, csv, mlflow]``: several loggers on one run folder, and the MLflow run
read back from a real store with ``mlflow.MlflowClient`` (issue 17 item 3).

Each test trains the small iris classifier (tests.helpers.specs) with its log root in
tmp_path, so that the local store ``mlruns/`` beside it is the test's own (a copy of a migrated
database: see tests/helpers/tracking.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import lightdsl
from tests.helpers.specs import iris_spec
from tests.helpers.tracking import local_store, mlflow_server

mlflow = pytest.importorskip("mlflow")

QUIET = {"enable_progress_bar": False}


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Each test runs in an empty working folder, which must stay empty: every file goes to
    the log root or the store beside it (MLflow's own default is ./mlruns)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield
    assert list(folder.iterdir()) == []


def _train(tmp_path: Path, logger: str, epochs: int = 3, ckpt=None, **overrides):
    root = tmp_path / "lightning_logs"
    spec = iris_spec(tmp_path, epochs, 16, f"logger = {logger}",
                     f'default_root_dir = "{root.as_posix()}"', "log_every_n_steps = 5")
    return lightdsl.load(str(spec)).fit(ckpt_path=ckpt, **QUIET, **overrides), spec


def _client(tmp_path: Path):
    uri = "sqlite:///" + (tmp_path / "mlruns" / "mlflow.db").as_posix()
    return mlflow.MlflowClient(tracking_uri=uri)


def _only_run(client, experiment: str = "iris"):
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id])
    assert len(runs) == 1, [r.info.run_name for r in runs]
    return runs[0]


def _csv_rows(log_dir: str) -> list[dict[str, str]]:
    with open(Path(log_dir) / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def _history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def _csv_history(rows, key: str) -> list[tuple[int, float]]:
    return [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]


def _same(ours: list[tuple[int, float]], theirs: list[tuple[int, float]]) -> bool:
    """The same steps, and the same values (to float32's precision)."""
    assert [s for s, _ in ours] == [s for s, _ in theirs]
    return [v for _, v in ours] == pytest.approx([v for _, v in theirs], rel=1e-6)


def test_three_loggers_write_one_run_folder_and_mlflow_has_what_csv_has(tmp_path, mlflow_db):
    local_store(mlflow_db, tmp_path / "lightning_logs")
    result, _ = _train(tmp_path, "[tensorboard, csv, mlflow]")
    run_dir = Path(result.log_dir)
    assert run_dir == tmp_path / "lightning_logs" / "iris" / "version_0"
    assert [p.name for p in (tmp_path / "lightning_logs" / "iris").iterdir()] == ["version_0"]
    assert list(run_dir.glob("events.out.tfevents.*")) and (run_dir / "metrics.csv").is_file()

    client = _client(tmp_path)
    run = _only_run(client)
    assert (run.info.run_name, run.info.status) == ("version_0", "FINISHED")
    assert run.data.tags["lightdsl.log_dir"] == str(run_dir)
    rows = _csv_rows(result.log_dir)
    columns = set(rows[0]) - {"step"}
    assert set(run.data.metrics) == columns  # the same names: train_loss_step, val_loss, epoch...
    assert {"train_loss_step", "train_loss_epoch", "val_loss", "epoch"} <= columns
    for key in ("train_loss_step", "train_loss_epoch", "val_loss"):
        ours = _history(client, run.info.run_id, key)
        assert ours and _same(ours, _csv_history(rows, key)), key
    params = run.data.params
    assert (params["model"], params["optimizer"], params["adam.lr"]) == ("IrisNet", "adam",
                                                                          "0.01")
    assert (params["max_epochs"], params["precision"], params["seed"]) == ("3", "32-true", "0")
    assert params["batch_size"] == "16"


def test_mlflow_artifacts_are_the_spec_and_the_best_checkpoint(tmp_path, mlflow_db):
    local_store(mlflow_db, tmp_path / "lightning_logs")
    result, spec = _train(tmp_path, "mlflow")
    client = _client(tmp_path)
    run = _only_run(client)
    listed = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert listed == {"spec.lit", "checkpoints"}
    (kept,) = client.list_artifacts(run.info.run_id, "checkpoints")
    best = Path(result.best_checkpoint)
    assert kept.path == f"checkpoints/{best.name}" and best.name.startswith("epoch=")
    folder = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "down")))
    assert (folder / "spec.lit").read_text() == spec.read_text()
    assert (folder / "checkpoints" / best.name).read_bytes() == best.read_bytes()
    # the artifacts live in the local store beside the log root, not in the working folder
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(tmp_path / "mlruns")


def test_resume_continues_the_same_mlflow_run(tmp_path, mlflow_db):
    local_store(mlflow_db, tmp_path / "lightning_logs")
    first, _ = _train(tmp_path, "[csv, mlflow]", epochs=2)
    client = _client(tmp_path)
    run_id = _only_run(client).info.run_id
    again, _ = _train(tmp_path, "[csv, mlflow]", epochs=4, ckpt=first.last_checkpoint)
    assert Path(again.log_dir).name == "version_1"  # a resume writes a new version folder
    run = _only_run(client)  # ... and the same MLflow run, not a second one
    assert run.info.run_id == run_id and run.info.status == "FINISHED"
    assert run.data.tags["lightdsl.log_dir"] == again.log_dir
    epochs = _history(client, run_id, "train_loss_epoch")
    both = _csv_history(_csv_rows(first.log_dir), "train_loss_epoch") + \
        _csv_history(_csv_rows(again.log_dir), "train_loss_epoch")
    assert len(epochs) == 4 and _same(epochs, both)
    # the resume's max_epochs differs: MLflow keeps the first value, the new one is a tag
    assert run.data.params["max_epochs"] == "2" and run.data.tags["resumed.max_epochs"] == "4"


def test_a_failed_fit_marks_the_run_failed(tmp_path, mlflow_db):
    from lightdsl.trainer import Trainer
    from lightdsl.trainer.callbacks import Callback

    class Boom(Callback):
        def on_train_epoch_end(self, trainer, module):
            raise RuntimeError("boom")

    local_store(mlflow_db, tmp_path / "lightning_logs")
    spec = iris_spec(tmp_path, 2, 16)
    module = lightdsl.load(str(spec)).module
    trainer = Trainer(logger=["csv", "mlflow"], callbacks=[Boom()], max_epochs=2, log_every_n_steps=1,
                      default_root_dir=str(tmp_path / "lightning_logs"), run_name="iris",
                      enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(module)
    assert [type(x).__name__ for x in trainer.loggers] == ["CSVLogger", "MLflowLogger"]
    assert trainer.logger is trainer.loggers[0]
    run = _only_run(_client(tmp_path))
    assert run.info.status == "FAILED" and "train_loss_step" in run.data.metrics


def test_nested_runs_under_a_parent_run(tmp_path, mlflow_db):
    """The sweeps' hook: each trial's logger gets the parent's id (LoggerChoice options)."""
    from lightdsl.run_settings import LoggerChoice
    from lightdsl.trainer.mlflow_logger import close_parent_run, open_parent_run

    store = local_store(mlflow_db, tmp_path / "lightning_logs")
    uri = "sqlite:///" + (store / "mlflow.db").as_posix()
    parent = open_parent_run("iris", "sweep", uri)
    spec = iris_spec(tmp_path, 1, 16)
    for trial in range(2):
        choice = LoggerChoice("lightdsl.trainer.mlflow_logger.MLflowLogger",
                              {"parent_run_id": parent, "run_name": f"trial-{trial}"})
        lightdsl.load(str(spec)).fit(logger=choice, **QUIET,
                                     default_root_dir=str(tmp_path / "lightning_logs"))
    close_parent_run(parent, uri)
    client = _client(tmp_path)
    experiment = client.get_experiment_by_name("iris").experiment_id
    children = client.search_runs([experiment],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    assert sorted(r.info.run_name for r in children) == ["trial-0", "trial-1"]
    assert client.get_run(parent).info.status == "FINISHED"
    assert all(r.info.status == "FINISHED" for r in children)


@pytest.mark.slow  # the server takes a while to start on a busy machine
def test_a_real_mlflow_server_via_tracking_uri(tmp_path, mlflow_db):
    with mlflow_server(mlflow_db, tmp_path / "server") as url:
        result, spec = _train(tmp_path, f'[csv, mlflow(tracking_uri = "{url}", '
                              'experiment_name = "served")]', epochs=2)
        client = mlflow.MlflowClient(tracking_uri=url)
        run = _only_run(client, "served")
        assert run.info.status == "FINISHED"
        rows = _csv_rows(result.log_dir)
        ours = _history(client, run.info.run_id, "train_loss_epoch")
        assert len(ours) == 2 and _same(ours, _csv_history(rows, "train_loss_epoch"))
        folder = Path(client.download_artifacts(run.info.run_id, "spec.lit", str(tmp_path)))
        assert folder.read_text() == spec.read_text()
    assert not (tmp_path / "mlruns").exists()  # nothing went to a local store


def test_without_mlflow_installed_training_says_how_to_install_it(tmp_path, monkeypatch):
    from lightdsl.errors import ConfigError

    monkeypatch.setitem(__import__("sys").modules, "mlflow", None)  # import mlflow fails
    spec = iris_spec(tmp_path, 1, 16, "logger = [csv, mlflow]")
    with pytest.raises(ConfigError, match="logger mlflow needs the mlflow package") as error:
        lightdsl.load(str(spec)).fit(**QUIET, default_root_dir=str(tmp_path / "logs"))
    assert "install lightdsl[mlflow]" in error.value.hint and "[mlflow]'" in error.value.hint


def test_the_generated_lightning_script_logs_to_mlflow_what_lightdsl_logs(tmp_path, mlflow_db):
    """The Lightning script's MLFlowLogger writes to lightdsl's store, beside lightdsl's own
    run, the same metrics at the same steps (Lightning and lightdsl train alike)."""
    pytest.importorskip("pytorch_lightning")
    from tests.helpers.scripts import load_script, write_script

    local_store(mlflow_db, tmp_path / "lightning_logs")
    _, spec = _train(tmp_path, "mlflow", enable_model_summary=False)
    script = load_script(write_script(spec, tmp_path / "iris_pl.py", target="lightning"))
    script.main(enable_progress_bar=False, enable_model_summary=False)
    client = _client(tmp_path)
    found = client.get_experiment_by_name("iris")
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])
    assert len(runs) == 2, [r.info.run_name for r in runs]
    ours, theirs = (run.info.run_id for run in runs)  # lightdsl's first, then Lightning's
    keys = sorted(client.get_run(ours).data.metrics)
    assert keys == sorted(client.get_run(theirs).data.metrics) == \
        ["epoch", "train_loss_epoch", "train_loss_step", "val_loss"]
    for key in keys[1:]:
        assert _same(_history(client, ours, key), _history(client, theirs, key)), key
    # Lightning adds `epoch` to each of its log calls (three at an epoch's last step, where
    # lightdsl logs two): the same (step, epoch) points
    assert set(_history(client, ours, "epoch")) == set(_history(client, theirs, "epoch"))

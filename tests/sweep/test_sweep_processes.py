"""``lightdsl sweep`` as processes: ``--jobs 2`` on one journal, Ctrl-C on a live sweep, a
worker killed mid-trial, and two workers sharing a real PostgreSQL server."""

from __future__ import annotations

import re
import signal

import pytest

from ..helpers.postgres import missing_reason, postgres_server
from ..helpers.runner import finish, run_lightdsl, start_lightdsl, wait_until
from .helpers import write_gated_spec, write_spec

optuna = pytest.importorskip("optuna")

BLOCK = """sweep {
    optimizer.lr     = loguniform(0.001, 0.1)
    train.max_epochs = %d
    trials           = 3
    sampler          = random(seed = 0)
}"""


def _study(folder, storage=None):
    from lightdsl.sweep.study import load_study

    return load_study(folder, storage)


def _states(study) -> list[str]:
    return [t.state.name for t in sorted(study.trials, key=lambda t: t.number)]


def _held(tmp_path, hook: str):
    """A sweep of 3 trials started in the background and holding still in trial 1 (at
    ``hook``: its fit start, or after its first step) until the test's signal comes."""
    write_gated_spec(tmp_path, BLOCK % 20, hook)
    sweep = tmp_path / "sweep"
    child = start_lightdsl("sweep", "iris.lit", "--dir", sweep, cwd=tmp_path,
                           log=tmp_path / "child.log")
    wait_until(lambda: (tmp_path / "gate.ready").is_file(), "trial 1 holding", process=child)
    return child, sweep


def _ctrl_c_at(tmp_path, hook: str):
    """The sweep of :func:`_held`, sent a Ctrl-C while it holds at ``hook``: it exits 130.
    Returns its folder and what it printed."""
    child, sweep = _held(tmp_path, hook)
    child.send_signal(signal.SIGINT)
    log = tmp_path / "child.log"
    assert finish(child) == 130, log.read_text()
    return sweep, log.read_text()


@pytest.mark.slow
def test_jobs_2_runs_the_exact_count_in_two_workers_on_one_journal(tmp_path):
    write_spec(tmp_path, BLOCK % 1)
    done = run_lightdsl("sweep", "iris.lit", "--dir", "sweep", "--jobs", "2", "--trials", "4",
                        cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study = _study(tmp_path / "sweep")
    assert _states(study) == ["COMPLETE"] * 4
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert len({t.user_attrs["owner"]["pid"] for t in study.trials}) == 2  # two workers
    assert [p.name for p in (tmp_path / "sweep").glob("optuna.*")] == ["optuna.journal"]
    assert sorted(p.name for p in (tmp_path / "sweep").glob("trial_*")) == \
        ["trial_0", "trial_1", "trial_2", "trial_3"]


@pytest.mark.slow
@pytest.mark.parametrize("hook", ["fit_start", "step"])
def test_ctrl_c_keeps_finished_trials_and_a_rerun_completes_the_rest(tmp_path, hook):
    """Ctrl-C in a trial's set-up (a KeyboardInterrupt) or in its training (the trainer stops
    after the step): the trial is interrupted, not counted, and said so without a traceback."""
    sweep, shown = _ctrl_c_at(tmp_path, hook)
    assert "Traceback" not in shown, shown
    assert ("Ctrl-C: the sweep stopped; 1 finished trial kept in" in shown
            and f"`lightdsl sweep iris.lit --dir {sweep}` runs the 2 still missing" in shown), \
        shown
    study = _study(sweep)
    assert _states(study) == ["COMPLETE", "FAIL"]
    assert study.trials[1].user_attrs.get("interrupted") is True
    if hook == "step":  # the trainer saw the Ctrl-C: it stopped after the step and saved
        assert "Ctrl-C: stopping after the current step" in shown
        assert f"continue with lightdsl sweep iris.lit --dir {sweep} (a new trial takes its " \
            "place)" in shown
        assert list((sweep / "trial_1").glob("version_0/checkpoints/last.ckpt")), shown
    done = run_lightdsl("sweep", "iris.lit", "--dir", "sweep", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 trials, 2 to run" in done.stderr
    study = _study(sweep)
    assert _states(study) == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]


@pytest.mark.slow
def test_a_ctrl_c_that_code_swallowed_still_stops_the_sweep(tmp_path):
    """Swallowed at the trial's fit start, the Ctrl-C stops the trial before its first step
    (the trainer asks lightdsl.interrupts), and the sweep there."""
    sweep, shown = _ctrl_c_at(tmp_path, "swallow")
    assert (tmp_path / "gate.swallowed").is_file()
    assert "Ctrl-C: the sweep stopped; 1 finished trial kept in" in shown
    study = _study(sweep)
    assert _states(study) == ["COMPLETE", "FAIL"]
    assert study.trials[1].user_attrs.get("interrupted") is True


@pytest.mark.slow
def test_a_ctrl_c_swallowed_after_training_stops_the_sweep_after_the_trial(tmp_path):
    """Swallowed at the trial's fit end, the Ctrl-C lets the trial finish (it counts) and
    stops the sweep after it."""
    sweep, shown = _ctrl_c_at(tmp_path, "swallow_end")
    assert (tmp_path / "gate.swallowed").is_file()
    assert "Ctrl-C: the sweep stopped; 2 finished trials kept in" in shown
    assert _states(_study(sweep)) == ["COMPLETE", "COMPLETE"]


@pytest.mark.slow
def test_a_killed_workers_trial_is_failed_and_replaced(tmp_path):
    child, sweep = _held(tmp_path, "fit_start")
    child.kill()  # SIGKILL: no handler runs, the trial stays RUNNING in the journal
    finish(child)
    assert _states(_study(sweep)) == ["COMPLETE", "RUNNING"]
    done = run_lightdsl("sweep", "iris.lit", "--dir", "sweep", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "trial 1: its worker ended before the trial did" in done.stderr
    assert "3 trials, 2 to run" in done.stderr
    study = _study(sweep)
    assert _states(study) == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert "lost" in study.trials[1].user_attrs
    shown = run_lightdsl("sweep", "show", "sweep", "--no-plots", cwd=tmp_path)
    assert re.search(r"^1 +lost ", shown.stdout, re.MULTILINE), shown.stdout
    assert "4 trials (3 complete, 1 lost)" in shown.stdout


@pytest.mark.slow
@pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
def test_two_workers_share_one_postgresql_study(tmp_path):
    write_spec(tmp_path, BLOCK % 1)
    with postgres_server() as url:
        children = [start_lightdsl("sweep", "iris.lit", "--dir", "sweep", "--storage", url,
                                   "--trials", "4", cwd=tmp_path, log=tmp_path / f"w{i}.log")
                    for i in range(2)]
        codes = [finish(child) for child in children]
        logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
        assert codes == [0, 0], logs
        from lightdsl.sweep.study import driver_url  # psycopg2: SQLAlchemy 2.1 wants psycopg

        study = optuna.load_study(study_name="iris-default", storage=driver_url(url))
        assert _states(study) == ["COMPLETE"] * 4, logs
        assert len({t.user_attrs["owner"]["pid"] for t in study.trials}) == 2
        assert study.best_value == min(t.value for t in study.trials)
        assert sorted(p.name for p in (tmp_path / "sweep").glob("trial_*")) == \
            ["trial_0", "trial_1", "trial_2", "trial_3"]

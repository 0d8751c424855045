"""Two workers deciding at the same moment whether the sweep needs another trial start one
trial between them, not one each: the decision and Optuna's ask are taken under one claim
lock across workers (the journal's file lock, a SQLite file's, a PostgreSQL advisory lock)."""

from __future__ import annotations

import threading

import pytest

from lightdsl.analysis import analyze_file

from ..helpers.postgres import missing_reason, postgres_server
from .helpers import write_spec

optuna = pytest.importorskip("optuna")

from lightdsl.sweep.claims import AdvisoryLock, FileClaim, advisory_key, claim_lock
from lightdsl.sweep.engine import Sweep, SweepOptions

BLOCK = """sweep {
    optimizer.lr = loguniform(0.001, 0.1)
    trials       = 1
    sampler      = random(seed = 0)
}"""
CHANCE_S = 2.0  # how long the first worker to decide waits for the other to decide too


def _race(tmp_path, monkeypatch, storage: str | None) -> list:
    """Two worker threads on one study of 1 trial, the first to decide holding still (before
    its ask) until the other has decided too, or CHANCE_S has passed; the study's trials."""
    analysis = analyze_file(str(write_spec(tmp_path, BLOCK)))
    decided, other_decided = [], threading.Event()
    real_needed = Sweep.needed

    def needed(self, study):
        count = real_needed(self, study)
        decided.append(count)
        if len(decided) == 1:
            other_decided.wait(CHANCE_S)  # unlocked, the other decides now and sees 1 too
        else:
            other_decided.set()
        return count

    monkeypatch.setattr(Sweep, "needed", needed)
    monkeypatch.setattr(Sweep, "_train", lambda self, trial, point: 0.5)  # no training
    start, errors = threading.Barrier(2), []

    def worker(index: int) -> None:
        options = SweepOptions(folder=str(tmp_path / "sweep"), storage=storage, worker=index)
        start.wait()
        try:
            Sweep(analysis, analysis.sweeps["default"], options).run(workers_share=1)
        except BaseException as error:  # noqa: BLE001 (shown by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and not any(t.is_alive() for t in threads), errors
    assert decided[:2] == [1, 0]  # the second decided after the first's trial existed
    reread = Sweep(analysis, analysis.sweeps["default"],
                   SweepOptions(folder=str(tmp_path / "sweep"), storage=storage))
    return reread.study().trials


def test_two_workers_deciding_together_on_the_journal_run_one_trial(tmp_path, monkeypatch):
    trials = _race(tmp_path, monkeypatch, None)
    assert [t.state.name for t in trials] == ["COMPLETE"]
    assert (tmp_path / "sweep" / ".optuna.journal.claim.lock").exists()


def test_two_workers_deciding_together_on_sqlite_run_one_trial(tmp_path, monkeypatch):
    trials = _race(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'study.db'}")
    assert [t.state.name for t in trials] == ["COMPLETE"]
    assert (tmp_path / ".study.db.iris-default.claim.lock").exists()


@pytest.mark.slow
@pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
def test_two_workers_deciding_together_on_postgresql_run_one_trial(tmp_path, monkeypatch):
    with postgres_server() as url:
        trials = _race(tmp_path, monkeypatch, url)
    assert [t.state.name for t in trials] == ["COMPLETE"]


def test_each_storage_gets_the_lock_every_worker_can_reach(tmp_path):
    journal = claim_lock(tmp_path, None, "s")
    assert isinstance(journal, FileClaim) and journal.path == tmp_path / \
        ".optuna.journal.claim.lock"
    sqlite = claim_lock(tmp_path, "sqlite:////data/studies.db", "s")
    assert str(sqlite.path) == "/data/.studies.db.s.claim.lock"
    other = claim_lock(tmp_path, "mysql://u@h/db", "s")
    assert other.path == tmp_path / ".s.claim.lock"
    assert isinstance(claim_lock(tmp_path, "postgresql://u@h/db", "s"), AdvisoryLock)
    assert advisory_key("iris-default") == advisory_key("iris-default") != advisory_key("b")
    assert -2**63 <= advisory_key("iris-default") < 2**63


def test_a_released_claim_is_free_for_another_holder(tmp_path):
    path = tmp_path / "x.claim.lock"
    with FileClaim(path) as first, FileClaim(path) as second:
        first.take()
        first.release()
        first.release()  # releasing what is not held does nothing
        second.take()  # would block for ever if the first still held it
        assert second.held and not first.held

"""Runs started at the same moment on the same log folder each get their own ``version_N``
(claimed with an atomic mkdir), so none overwrites another's last.ckpt or logs.

The processes are forked and released together by a barrier (an event, not a sleep); each
round's eight claims or runs must end in eight different folders."""

from __future__ import annotations

import json
import multiprocessing
import traceback
from pathlib import Path

import pytest
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.errors import UsageError
from lightdsl.outputs import claim_version_dir, next_version_dir
from lightdsl.trainer import Trainer

PROCESSES = 8
TIMEOUT_S = 300  # a child that never reaches the barrier fails the test instead of hanging it


def _claimer(barrier, results, root: str, rounds: int) -> None:
    try:
        for round_ in range(rounds):
            barrier.wait(TIMEOUT_S)
            results.put((round_, str(claim_version_dir(root, f"round{round_}"))))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put(("error", traceback.format_exc()))


def _trainer(barrier, results, root: str, rounds: int, lr: float) -> None:
    import torch

    torch.set_num_threads(1)  # as DataLoader workers do after a fork
    try:
        for round_ in range(rounds):
            module = Regression(n=16, lr=lr)
            kwargs = fast_trainer_kwargs(root, logger="csv", enable_checkpointing=True,
                                         max_epochs=1, run_name=f"round{round_}")
            barrier.wait(TIMEOUT_S)
            results.put((round_, Trainer(**kwargs).fit(module).log_dir))
    except BaseException:  # noqa: BLE001
        results.put(("error", traceback.format_exc()))


def _start_together(target, args_of, rounds: int) -> dict[int, list[str]]:
    """Run ``target`` in PROCESSES forked processes; the folders each round gave, by round."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    children = [context.Process(target=target, args=(barrier, results, *args_of(i)))
                for i in range(PROCESSES)]
    for child in children:
        child.start()
    by_round: dict[int, list[str]] = {}
    try:
        for _ in range(PROCESSES * rounds):
            key, value = results.get(timeout=TIMEOUT_S)
            assert key != "error", value
            by_round.setdefault(key, []).append(value)
    finally:
        for child in children:
            child.join(TIMEOUT_S)
            if child.is_alive():
                child.kill()
    assert [child.exitcode for child in children] == [0] * PROCESSES
    return by_round


def test_eight_claims_at_once_get_eight_folders_20_rounds(tmp_path):
    rounds = _start_together(_claimer, lambda i: (str(tmp_path), 20), 20)
    assert sorted(rounds) == list(range(20))
    for round_, paths in rounds.items():
        expected = {str(tmp_path / f"round{round_}" / f"version_{n}") for n in range(PROCESSES)}
        assert set(paths) == expected, round_  # eight distinct folders, numbered 0..7
        assert all(Path(p).is_dir() for p in paths)


def test_eight_runs_started_at_once_never_share_a_version(tmp_path):
    lrs = [0.001 * (i + 1) for i in range(PROCESSES)]
    rounds = _start_together(_trainer, lambda i: (str(tmp_path), 1, lrs[i]), 1)
    for dirs in rounds.values():
        assert len(set(dirs)) == PROCESSES, dirs
        # every run's own files: its hparams (its lr), its metrics and its checkpoint
        found = sorted(json.loads((Path(d) / "hparams.json").read_text())["lr"] for d in dirs)
        assert found == lrs
        assert all((Path(d) / "metrics.csv").is_file() for d in dirs)
        assert all((Path(d) / "checkpoints" / "last.ckpt").is_file() for d in dirs)


def test_a_claim_skips_taken_numbers_and_files_named_like_versions(tmp_path):
    (tmp_path / "run" / "version_3").mkdir(parents=True)
    assert claim_version_dir(tmp_path, "run") == tmp_path / "run" / "version_4"
    (tmp_path / "run" / "version_5").write_text("not a folder")
    assert next_version_dir(tmp_path, "run") == tmp_path / "run" / "version_6"
    assert claim_version_dir(tmp_path, "run") == tmp_path / "run" / "version_6"
    assert not (tmp_path / "run" / "version_7").exists()  # next_version_dir makes nothing


def test_an_unusable_log_folder_is_a_message_naming_it(tmp_path):
    (tmp_path / "logs").write_text("a file where the folder should be")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        claim_version_dir(tmp_path / "logs", "run")


def test_a_run_that_writes_nothing_makes_no_folder(tmp_path):
    result = Trainer(**fast_trainer_kwargs(tmp_path, max_epochs=1, run_name="quiet")
                     ).fit(Regression())
    assert result.log_dir is None and not (tmp_path / "quiet").exists()

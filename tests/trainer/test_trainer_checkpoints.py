"""Checkpoint files across runs: pruning never deletes an earlier run's files (issue 11)."""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.errors import LightdslError, UsageError
from lightdsl.trainer import Callback, ModelCheckpoint, Trainer, atomic_save, load_checkpoint
from lightdsl.trainer.checkpoint import ZIP_MAGIC
from tests.helpers.runner import run_python


class ScoreFeeder(Callback):
    """Sets the monitored ``score`` at each epoch end to the next of ``values``."""

    def __init__(self, values):
        self.values = values

    def on_train_epoch_end(self, trainer, module):
        trainer.callback_metrics["score"] = self.values[trainer.current_epoch]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def fit(root, epochs, callbacks, ckpt_path=None, **kw):
    settings_ = fast_trainer_kwargs(root, enable_checkpointing=True, run_name="run", **kw)
    return Trainer(max_epochs=epochs, callbacks=callbacks, **settings_).fit(
        Regression(n=16, val_size=8), ckpt_path=ckpt_path
    )


def test_resume_into_a_new_version_keeps_every_file_of_the_resumed_run(tmp_path):
    first = fit(tmp_path, 3, [ModelCheckpoint(monitor="val_loss", save_top_k=1)])
    version_0 = tmp_path / "run" / "version_0" / "checkpoints"
    assert Path(first.best_checkpoint).parent == version_0
    before = snapshot(tmp_path)
    # the loss keeps falling, so the resumed run's checkpoints beat version_0's best
    second = fit(tmp_path, 6, [ModelCheckpoint(monitor="val_loss", save_top_k=1)],
                 ckpt_path=first.last_checkpoint)
    after = snapshot(tmp_path)
    assert {k: after.get(k) for k in before} == before  # all there, byte for byte
    assert Path(second.best_checkpoint).parent == tmp_path / "run" / "version_1" / "checkpoints"
    # within its own run, top-k pruning still works: one best file plus last.ckpt
    assert sorted(p.name for p in Path(second.best_checkpoint).parent.iterdir()) == [
        "epoch=5-step=12.ckpt", "last.ckpt"]


scores = st.lists(st.floats(-10, 10, allow_nan=False), min_size=4, max_size=4)


@settings(max_examples=12, deadline=None)
@given(first=scores, second=scores, top_k=st.sampled_from([1, 2]),
       mode=st.sampled_from(["min", "max"]), same_dir=st.booleans())
def test_no_file_from_before_a_run_disappears_whatever_the_scores(first, second, top_k, mode,
                                                                   same_dir):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dirpath = root / "ckpts" if same_dir else None

        def saver():
            return ModelCheckpoint(monitor="score", mode=mode, save_top_k=top_k,
                                   dirpath=dirpath)

        run = fit(root, 2, [ScoreFeeder(first), saver()])
        before = snapshot(root)
        fit(root, 4, [ScoreFeeder(first[:2] + second[2:]), saver()],
            ckpt_path=run.last_checkpoint)
        after = snapshot(root)
        rolling = {k for k in before if k.endswith("last.ckpt")} if same_dir else set()
        assert set(before) <= set(after)
        assert {k: after[k] for k in before if k not in rolling} == {
            k: v for k, v in before.items() if k not in rolling}
        written = set(after) - set(before)
        assert len([k for k in written if "epoch=" in k]) <= top_k


SCRIPT = Path(__file__).with_name("interrupt_script.py")
TINY_SPEC = """
model Line { layers { linear(1, 1) } }
data points {
    inputs = [[0.0], [1.0], [2.0]]
    labels = [[1.0], [3.0], [5.0]]
    batch_size = 1
}
train {
    model = Line
    data = points
    loss = mse
    optimizer = sgd(lr = 0.05, momentum = 0.9)
    max_epochs = 50
    enable_progress_bar = false
    enable_model_summary = false
    logger = none
}
"""


@pytest.fixture
def sigint_ignored():
    """This process, and every child it starts, with SIGINT ignored: what a shell gives a
    background job (``make test &``, nohup, a CI runner), where this test once failed."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("when", ["3", "after"])
def test_second_ctrl_c_during_the_save_exits_130_and_leaves_a_complete_checkpoint(
        tmp_path, when, sigint_ignored):
    spec = tmp_path / "tiny.lit"
    spec.write_text(TINY_SPEC)
    done = run_python(SCRIPT, spec, tmp_path, "7", when)  # inherits the ignored SIGINT
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    folder = tmp_path / "tiny" / "version_0" / "checkpoints"
    last = folder / "last.ckpt"
    before = done.stdout.split("before ")[1].split()[0]
    ckpt = load_checkpoint(last)  # complete: the old file or the new one, never a torn one
    if when == "after":
        assert ckpt["loop"]["global_step"] == 7
        assert "Aborted: nothing saved since the last checkpoint" in done.stderr
    else:
        assert hashlib.sha256(last.read_bytes()).hexdigest() == before
        assert f"Aborted while saving a checkpoint: {last} is the previous complete " \
               "checkpoint" in done.stderr
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp file


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory) -> bytes:
    root = tmp_path_factory.mktemp("real")
    result = Trainer(max_steps=2, **fast_trainer_kwargs(root, enable_checkpointing=True)).fit(
        Regression(n=16))
    return Path(result.last_checkpoint).read_bytes()


def load_bytes(data: bytes):
    """Load ``data`` as a checkpoint file; anything but a LightdslError fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.ckpt"
        path.write_bytes(data)
        try:
            return load_checkpoint(path)
        except LightdslError as error:
            return error


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_truncated_checkpoints_say_truncated_and_how_long(real_checkpoint, data):
    size = data.draw(st.integers(len(ZIP_MAGIC), len(real_checkpoint) - 1))
    message = str(load_bytes(real_checkpoint[:size]))
    assert f"x.ckpt: not a complete lightdsl checkpoint, it is truncated ({size} bytes" \
        in message


@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=300), as_zip=st.booleans())
def test_arbitrary_bytes_are_a_clear_error(garbage, as_zip):
    outcome = load_bytes((ZIP_MAGIC if as_zip else b"") + garbage)
    assert isinstance(outcome, LightdslError)
    assert "x.ckpt" in str(outcome) and "lightdsl checkpoint" in str(outcome)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_checkpoints_load_or_fail_clearly(real_checkpoint, data):
    at = data.draw(st.integers(0, len(real_checkpoint) - 1))
    byte = data.draw(st.integers(0, 255))
    outcome = load_bytes(real_checkpoint[:at] + bytes([byte]) + real_checkpoint[at + 1:])
    assert isinstance(outcome, (dict, LightdslError))


def test_a_csv_or_an_empty_file_is_named_for_what_it_is(tmp_path):
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    with pytest.raises(UsageError, match=r"cannot read checkpoint .*data.csv: not a lightdsl "
                                         r"checkpoint \(not a torch zip archive\)"):
        load_checkpoint(tmp_path / "data.csv")
    (tmp_path / "empty.ckpt").write_bytes(b"")
    with pytest.raises(UsageError, match=r"empty.ckpt: not a lightdsl checkpoint \(empty file"):
        load_checkpoint(tmp_path / "empty.ckpt")


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoints_get_the_mode_a_new_file_gets(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = atomic_save({"x": 1}, tmp_path / "new.ckpt")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)  # an existing file keeps its mode when rewritten, as with open("w")
    atomic_save({"x": 2}, path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_an_abort_before_any_checkpoint_says_none_was_saved(tmp_path):
    from lightdsl.trainer.fitting import abort_message

    assert abort_message(KeyboardInterrupt(), None) == "Aborted: no checkpoint was saved."
    kept = str(tmp_path / "last.ckpt")
    assert abort_message(KeyboardInterrupt(), kept) == \
        f"Aborted: nothing saved since the last checkpoint ({kept})."

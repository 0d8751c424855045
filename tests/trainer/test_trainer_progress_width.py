"""Progress lines stay within the width even when what must stay (v_num, the loss, the monitored
metrics) is long: names are shortened further, never a monitored value dropped."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_modules import FakeTerminal

from lightdsl.trainer.progress import (
    NAME_LIMITS,
    BarProgress,
    PlainProgress,
    short_names,
    short_number,
)

CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Monitor:
    def __init__(self, monitor):
        self.monitor = monitor


def _lines(progress, terminal, metrics: dict, max_epochs: int = 100) -> list[str]:
    progress.start_epoch(max_epochs - 1, max_epochs, 1000)
    progress.update(torch.tensor(0.5))
    progress.end_epoch(metrics)
    progress.close()
    parts = re.split(r"[\r\n]", CONTROL.sub("", terminal.text))
    return [part.rstrip() for part in parts if part.strip()]


def _shows(line: str, name: str, value: float) -> bool:
    """Whether ``line`` shows ``name=value`` under one of its shortened display names."""
    return any(f" {short_names([name], limit)[name]}={short_number(value)}" in line
               for limit in NAME_LIMITS)


def test_two_monitored_16_character_metrics_fit_a_plain_line():
    metrics = {"train_loss_epoch": 0.123456, "val_sixteen_chars": 1.23456e-5,
               "val_other_sixteen": -12345.6, "val_loss": 0.5}
    terminal = FakeTerminal()
    progress = PlainProgress(terminal)
    progress.set_context(Path("logs/run/version_1234"),
                         [Monitor("val_sixteen_chars"), Monitor("val_other_sixteen")])
    last = _lines(progress, terminal, metrics)[-1]
    assert len(last) <= 80, last
    assert last.startswith("Epoch 99/99 ") and " v_num=1234 " in last and " loss=0.123 " in last
    assert _shows(last, "val_sixteen_chars", 1.23456e-5), last
    assert _shows(last, "val_other_sixteen", -12345.6), last


names = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=12, max_size=30)
values = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=40, deadline=None)
@given(val=st.dictionaries(names.map(lambda n: "val_" + n), values, min_size=2, max_size=5),
       loss=values, v_num=st.integers(0, 9999), bar=st.booleans())
def test_every_line_with_two_long_monitors_fits_80_columns_and_shows_both(val, loss, v_num,
                                                                          bar):
    first, second = sorted(val)[:2]
    terminal = FakeTerminal()
    progress = BarProgress(terminal, ncols=80) if bar else PlainProgress(terminal)
    progress.set_context(Path(f"logs/run/version_{v_num}"), [Monitor(first), Monitor(second)])
    lines = _lines(progress, terminal, {"train_loss_epoch": loss, **val}, max_epochs=1000)
    assert lines and all(len(line) <= 80 for line in lines), lines
    last = lines[-1]
    assert f" v_num={v_num}" in last and f" loss={short_number(loss)}" in last, last
    assert _shows(last, first, val[first]) and _shows(last, second, val[second]), last

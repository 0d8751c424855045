"""`lightdsl train`'s shortcut options: numbers go to check as written, so that a bad one gets
the located error `--set train.<setting>=...` gets (exit 2), never a quoted string."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightdsl.cli import main

SPEC = str(Path(__file__).resolve().parents[2] / "specs" / "statquest.lit")


def _error(capsys, *argv) -> tuple[int, str]:
    code = main(["train", SPEC, *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flag, setting, value", [
    ("--seed", "seed", "2**70"),
    ("--seed", "seed", "1180591620717411303424"),
    ("--max-steps", "max_steps", "2**64"),
    ("--max-epochs", "max_epochs", "1.5"),
    ("--num-nodes", "num_nodes", "0"),
])
def test_a_bad_number_is_the_same_located_error_as_with_set(capsys, flag, setting, value):
    code, shortcut = _error(capsys, flag, value)
    assert code == 2
    set_code, with_set = _error(capsys, "--set", f"train.{setting}={value}")
    assert set_code == 2
    # the same message, about the value as written (not about a string '2**70')
    message = shortcut.split(": error: ")[1].splitlines()[0]
    assert message == with_set.split(": error: ")[1].splitlines()[0]
    assert f"{flag}:1:1: error: " in shortcut and repr(value) not in shortcut
    assert shortcut.splitlines()[2].strip() == value  # the source line, then the caret
    assert set(shortcut.splitlines()[3].strip()) <= {"^", "~"}


def test_a_huge_seed_says_it_is_too_large(capsys):
    code, err = _error(capsys, "--seed", "2**70")
    assert code == 2 and "number too large" in err and "Traceback" not in err

"""A Ctrl-C that code swallows while a run is set up (a ``__del__``, a library's ``except
BaseException``, a python(...) callback) still stops ``lightdsl train`` before its first step,
with the usual message and exit code 130, instead of a whole run nobody asked for."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.runner import run_python
from tests.sweep.helpers import write_spec

SWALLOW = '''
import signal


class Swallow:
    """Presses Ctrl-C while it is built (with the run's other callbacks) and swallows it."""

    def __init__(self):
        try:
            signal.raise_signal(signal.SIGINT)  # delivered before it returns
        except KeyboardInterrupt:
            print("swallowed", flush=True)
'''
# Ctrl-C as in an interactive terminal, whatever the test runner's parent gave it (a shell
# starts background jobs with SIGINT ignored)
TERMINAL = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from lightdsl.cli import main; sys.exit(main(sys.argv[1:]))")


def _spec(folder: Path) -> Path:
    (folder / "swallow.py").write_text(SWALLOW)
    path = write_spec(folder, "")
    text = path.read_text().replace("    seed       = 0\n}", '    seed       = 0\n'
                                    '    callbacks  = [python("swallow:Swallow")]\n}')
    assert "swallow:Swallow" in text
    path.write_text(text)
    return path


def test_a_ctrl_c_swallowed_in_set_up_stops_train_before_its_first_step(tmp_path):
    _spec(tmp_path)
    done = run_python("-c", TERMINAL, "train", "iris.lit", cwd=tmp_path)
    assert "swallowed" in done.stdout
    assert done.returncode == 130, done.stdout + done.stderr
    assert "Aborted: no checkpoint was saved." in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("lightning_logs/*/version_*/checkpoints/*.ckpt"))


def test_lr_find_stops_the_same_way(tmp_path):
    _spec(tmp_path)
    done = run_python("-c", TERMINAL, "lr-find", "iris.lit", cwd=tmp_path)
    assert "swallowed" in done.stdout
    assert done.returncode == 130, done.stdout + done.stderr
    assert "Traceback" not in done.stderr

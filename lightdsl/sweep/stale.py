"""Trials a killed worker left RUNNING: failed on the next run, not counted, run again.

Each trial records its owner (user attribute ``owner``: host, process id and the process's
start time, so a reused pid is not mistaken for the owner). When a sweep opens its study, a
RUNNING trial whose owner is a process of this host that no longer exists is set FAIL with the
user attribute ``lost``; like a trial Ctrl-C cut short, it does not count toward ``trials``,
so the sweep runs another in its place (neither lost nor counted twice). Owners on other
machines are Optuna's heartbeat's business: an RDB storage (``--storage postgresql://...``)
is opened with ``heartbeat_interval`` and ``grace_period``, and Optuna fails a trial whose
heartbeat stopped (``optuna.storages.fail_stale_trials``, run before each new trial) and
:func:`counted` leaves it out as well (a FAIL without the ``error`` a failing run records).
"""

from __future__ import annotations

import os
import socket
import warnings

HEARTBEAT_S = 10  # an RDB trial's heartbeat, and how long one may be missed before it fails
GRACE_S = 60


def owner() -> dict:
    """This process, as a trial's ``owner``."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": started(os.getpid())}


def started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), None if it does not
    exist; "" where /proc cannot tell (then only its existence is checked)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # the command name (field 2) may hold spaces: count fields after its ")"
            return stat.read().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""


def is_lost(trial) -> bool:
    """A RUNNING trial whose owner was a process of this host that is gone."""
    who = trial.user_attrs.get("owner")
    if not who or who.get("host") != socket.gethostname():
        return False
    now = started(int(who["pid"]))
    return now is None or (now != "" and who.get("started") not in (None, "", now))


def fail_lost_trials(study) -> list[int]:
    """Set FAIL (with ``lost``) every RUNNING trial of ``study`` whose owner is gone; their
    numbers."""
    import optuna

    failed = []
    storage = study._storage  # Optuna's own fail_stale_trials works on the storage too
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if not is_lost(trial):
            continue
        who = trial.user_attrs["owner"]
        try:
            storage.set_trial_user_attr(trial._trial_id, "lost",
                                        f"its worker (pid {who['pid']}) ended before it did")
            storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another process failed it first
        failed.append(trial.number)
    with warnings.catch_warnings():  # Optuna marks it experimental; a user can do nothing
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # an RDB storage's heartbeat: other machines
    return failed

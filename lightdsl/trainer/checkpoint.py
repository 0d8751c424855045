"""Checkpoint files: atomic writes, safe loads, and the random-number state a resume needs.

A checkpoint holds only tensors, dicts, lists, tuples, strings and numbers, so it loads with
``torch.load(weights_only=True)``: opening a checkpoint never runs code from the file. Random
generator states are therefore stored as tensors, not as the tuples Python and NumPy return.

Resuming takes only lightdsl's own checkpoints (:func:`load_checkpoint`); weights come from
those, from pytorch-lightning's or from any ``{"state_dict": ...}`` file
(:func:`load_weights_checkpoint`). lightdsl's checkpoints also carry Lightning's keys (see
:mod:`lightdsl.trainer.lightning_layout`); they are additions an older lightdsl ignores, so the
format tag stays ``lightdsl-checkpoint/1``.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from lightdsl.errors import TrainingError, UsageError

from .compiling import strip_compiled_prefix
from .lightning_layout import lightning_version

FORMAT = "lightdsl-checkpoint/1"


class SaveInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived while a checkpoint was being written; ``path`` was left as it was."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` to ``path`` so that a crash leaves either the old file or the new one.

    The data goes to a temporary file in the same directory (so the final rename stays on one
    file system), is flushed to disk with fsync, then replaces ``path`` in one ``os.replace``.
    The file gets the mode a plainly created file would (``0o666`` less the umask), not the
    temporary file's private ``0o600``. Ctrl-C during the write raises :class:`SaveInterrupted`
    (whatever torch turned the interrupt into), with ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # not on Windows, where mkstemp's mode is the default
                os.fchmod(f.fileno(), _new_file_mode(path))
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if _caused_by_ctrl_c(exc):
            raise SaveInterrupted(path) from None
        failure = _os_error(exc)
        if failure is not None:  # a full disk, a quota: torch wraps it in "enforce fail at ..."
            raise _write_error(path, failure) from exc
        raise
    _fsync_dir(path.parent)
    return path


def _os_error(exc: BaseException | None) -> OSError | None:
    """The OSError along ``exc``'s chain of causes and contexts, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _write_error(path: Path, error: OSError) -> TrainingError:
    """A failed checkpoint write, saying what was kept: ``path`` was never touched."""
    why = error.strerror or str(error)
    try:
        free = f", {shutil.disk_usage(path.parent).free / 1e6:.1f} MB free there"
    except OSError:
        free = ""
    kept = (f"the previous checkpoint {path} is intact" if path.exists()
            else f"nothing was written to {path}")
    return TrainingError(f"could not save checkpoint {path}: {why}{free}; {kept}",
                         hint="free some disk space (or log to another folder), then resume "
                         "from the last checkpoint with --resume")


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: the existing file's, else 0o666 less umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        pass
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def _caused_by_ctrl_c(exc: BaseException | None) -> bool:
    # torch.save turns a KeyboardInterrupt raised inside its writer into a RuntimeError
    # raised while handling it: look along the chain
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__context__
    return False


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (e.g. Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a lightdsl checkpoint with ``weights_only=True``; a clear UsageError if it can't
    (a pytorch-lightning checkpoint is refused: it lacks what resuming a run needs)."""
    ckpt = _read(Path(path))
    if is_lightdsl(ckpt):
        return ckpt
    if _is_lightning(ckpt):
        raise UsageError(
            f"{path} is a pytorch-lightning checkpoint (Lightning "
            f"{lightning_version(ckpt)}), not a lightdsl one: resuming needs lightdsl's "
            "loop position, random states and running epoch sums, which it does not have",
            hint="evaluate, predict, export and plot read its weights (--ckpt PATH); to train "
            "further, resume it with the Lightning script (lightdsl codegen --target "
            "lightning) or start fresh")
    raise UsageError(f"{path} is not a lightdsl checkpoint (no {FORMAT!r} format tag)")


def load_weights_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint to take weights from: lightdsl's, one pytorch-lightning wrote (its
    ``state_dict`` holds the same keys as lightdsl's for the same architecture: the Lightning
    script of ``lightdsl codegen --target lightning`` names its modules as lightdsl does), or
    any dict whose ``state_dict`` maps names to tensors."""
    ckpt = _read(Path(path))
    if is_lightdsl(ckpt) or _has_state_dict(ckpt):
        return ckpt
    raise UsageError(f"{path} is not a lightdsl or pytorch-lightning checkpoint (no "
                     f"{FORMAT!r} format tag, no state_dict of tensors)")


def is_lightdsl(ckpt: dict) -> bool:
    """Whether a loaded checkpoint is lightdsl's own (else, for example, Lightning's)."""
    return isinstance(ckpt, dict) and ckpt.get("format") == FORMAT


def _is_lightning(ckpt) -> bool:
    return _has_state_dict(ckpt) and lightning_version(ckpt) is not None


def _has_state_dict(ckpt) -> bool:
    weights = ckpt.get("state_dict") if isinstance(ckpt, dict) else None
    return isinstance(weights, dict) and all(isinstance(v, torch.Tensor)
                                             for v in weights.values())


def _read(path: Path):
    if not path.is_file():
        raise UsageError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling or format problem: one clear message
        raise UsageError(_unreadable(path, exc)) from exc
    if isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict):
        # weights of a torch.compile(model) wrapper are named _orig_mod.*: lightdsl never
        # writes those, but a checkpoint from elsewhere may have them
        ckpt["state_dict"] = strip_compiled_prefix(ckpt["state_dict"])
    return ckpt


ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def _unreadable(path: Path, exc: Exception) -> str:
    """Why ``path`` could not be loaded, from what the file is rather than torch's message."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
    except OSError as error:  # e.g. no permission to read it
        return f"cannot read checkpoint {path}: {error.strerror or error}"
    if size == 0:
        return f"cannot read checkpoint {path}: not a lightdsl checkpoint (empty file: 0 bytes)"
    if head != ZIP_MAGIC:
        return (f"cannot read checkpoint {path}: not a lightdsl checkpoint (not a torch zip "
                "archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return (f"cannot read checkpoint {path}: not a complete lightdsl checkpoint, it is "
                f"truncated ({size} bytes; the end of the zip archive is missing): the copy or "
                "the save was cut off")
    except (NotImplementedError, RuntimeError) as error:  # a flipped flag byte: "encrypted", ...
        return f"cannot read checkpoint {path}: the file is damaged ({size} bytes; {error})"
    if damaged is not None:
        return (f"cannot read checkpoint {path}: the file is damaged ({size} bytes; "
                f"{damaged!r} in it fails its checksum)")
    if "weights only load failed" in str(exc).lower():
        return (f"cannot read checkpoint {path}: not a file torch.save wrote with tensors and "
                "plain values only")
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return f"cannot read checkpoint {path}: {reason}"


def to_safe(value: Any) -> Any:
    """``value`` with anything ``weights_only`` loading would refuse turned into its ``str``."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, dict):
        return {str(k): to_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_safe(v) for v in value]
    return str(value)


def capture_rng() -> dict:
    """The state of every random generator training may draw from, as tensors."""
    version, mt_state, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "python": {"version": version, "state": torch.tensor(mt_state), "gauss": gauss},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    numpy = sys.modules.get("numpy")  # only if something in this process uses it
    if numpy is not None:
        name, keys, pos, has_gauss, cached = numpy.random.get_state()
        state["numpy"] = {
            "name": name,
            "keys": torch.from_numpy(keys.astype("int64")),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        }
    return state


def restore_rng(state: dict) -> None:
    """Put every generator back to a state from :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"].tolist()), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy = sys.modules.get("numpy")
    if "numpy" in state and numpy is not None:
        np_state = state["numpy"]
        keys = np_state["keys"].numpy().astype("uint32")
        numpy.random.set_state(
            (np_state["name"], keys, np_state["pos"], np_state["has_gauss"], np_state["cached"])
        )

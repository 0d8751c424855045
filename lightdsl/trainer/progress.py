"""Progress output: a tqdm bar per epoch on a terminal, plain periodic lines elsewhere (CI logs).

Both show, as Lightning's bar does, the run's version (``v_num``), the training loss and the
latest validation metrics, compactly (3 significant digits, short names), within the width of
the terminal (80 columns for plain lines):

    Epoch 3/9 ███████ 150/150 00:02 v_num=2 loss=0.312 val_loss=0.281 val_acc=0.912

When the line is too long, parts go in this order: the rate, the bar, the elapsed time, the
training metrics other than the loss, validation metrics nobody monitors, the batch counts.
``v_num``, the loss and the metrics a callback monitors (the checkpoint's, early stopping's)
always stay; when even they do not fit, metric names are shortened further (to 10, 8, then 6
characters), and a plain line that still does not fit is cut at the width. Reading the loss
from a GPU waits for the GPU, so the loss is read only when the display is about to change (a
few times a second), never on every step.

Every epoch's closing line stays, with its final count (``14/14``; a mid-epoch resume's bar
starts at the batch it resumes from); a run of more than :data:`MAX_EPOCH_LINES` epochs keeps
every :func:`epoch_stride`-th epoch's line, the last epoch's and the last one reached.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import time
from dataclasses import dataclass

from .callbacks import BuiltinCallback

WIDTH = 80  # plain lines (logs have no terminal width)
MIN_BAR = 6  # a narrower bar is dropped rather than shown
MAX_NAME = 16  # longer metric names are shortened
NAME_LIMITS = (MAX_NAME, 10, 8, 6)  # tighter and tighter, while what must stay does not fit
# what is dropped first when a line is too long (lower goes first); KEEP never goes
RATE, BAR, ELAPSED, TRAIN_METRIC, VAL_METRIC, COUNTS, KEEP = range(7)
_WORDS = {"accuracy": "acc", "validation": "val", "precision": "prec", "learning": "l",
          "rate": "r"}


def short_number(value: float) -> str:
    """3 significant digits, no more than 10 characters: 0.312, 12.3, 1234, 1.23e-5, nan."""
    value = float(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = f"{value:.3g}"
    if "e" not in text:
        return text
    if 1 <= abs(value) < 99999.5:
        return f"{value:.0f}"
    mantissa, exponent = f"{value:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def short_names(names, limit: int = MAX_NAME) -> dict[str, str]:
    """Display names: ``train_loss_epoch`` -> loss, ``val_accuracy`` -> val_acc, at most
    ``limit`` characters; names that would look alike keep their (shortened) full form."""
    short = {name: _abbreviate(name, limit) for name in names}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    return {name: value if counts[value] == 1 else clip(name, limit)
            for name, value in short.items()}


def _abbreviate(name: str, limit: int) -> str:
    if name in ("loss", "train_loss", "train_loss_epoch", "train_loss_step"):
        return "loss"
    name = re.sub(r"^(train_.*)_(epoch|step)$", r"\1", name)
    return clip("_".join(_WORDS.get(word, word) for word in name.split("_")), limit)


def clip(name: str, limit: int = MAX_NAME, head_share: float = 0.5) -> str:
    """``name`` if short enough, else its start (``head_share`` of it), ``~`` and its end:
    ``limit`` characters."""
    if len(name) <= limit:
        return name
    head = int((limit - 1) * head_share)
    return f"{name[:head]}~{name[-(limit - 1 - head):]}"


@dataclass
class Piece:
    """A part of the line: ``text`` (its width), dropped by ``rank`` when the line is too
    long; ``template`` is what tqdm fills in (``{bar}``, ``{elapsed}``), if not the text."""

    text: str
    rank: int
    template: str | None = None


def fit(pieces: list[Piece], width: int) -> list[Piece]:
    """The pieces that fit in ``width`` columns (separated by spaces): the lowest ranks are
    dropped first, the last of a rank first."""
    kept = list(pieces)
    while sum(len(p.text) + 1 for p in kept) - 1 > width:
        droppable = [i for i, p in enumerate(kept) if p.rank != KEEP]
        if not droppable:
            break  # only what must stay is left: the caller shortens names (fitted)
        lowest = min(kept[i].rank for i in droppable)
        kept.pop(max(i for i in droppable if kept[i].rank == lowest))
    return kept


def _width(pieces: list[Piece]) -> int:
    return sum(len(p.text) + 1 for p in pieces) - 1


class _Display:
    """What both displays know: v_num, the monitored names, the latest metrics to show."""

    def __init__(self) -> None:
        self.v_num, self.monitors, self.val_metrics = "", set(), {}

    def set_context(self, run_dir=None, callbacks=(), metrics=None) -> None:
        """The run's folder (its ``version_N`` gives v_num), the callbacks (their ``monitor``
        metrics always stay visible) and the metrics so far (a resumed run's)."""
        name = getattr(run_dir, "name", str(run_dir or ""))
        match = re.fullmatch(r"version_(\d+)", name)
        self.v_num = match.group(1) if match else clip(name)
        self.monitors = {getattr(cb, "monitor", None) for cb in callbacks} - {None}
        self.show_metrics(metrics or {})

    def show_metrics(self, metrics: dict[str, float]) -> None:
        """Keep the latest validation metrics (shown until the next validation)."""
        val = {k: float(v) for k, v in metrics.items() if k.startswith("val_")}
        if val:
            self.val_metrics = val

    def metric_pieces(self, loss, train: dict[str, float], limit: int = MAX_NAME) -> list[Piece]:
        """v_num, the loss, the validation metrics, other training metrics, as pieces (names
        at most ``limit`` characters)."""
        shown = {**({"loss": loss} if loss is not None else {}), **train, **self.val_metrics}
        names = short_names(shown, limit)
        pieces = [Piece(f"v_num={clip(self.v_num, limit)}", KEEP)] if self.v_num else []
        for name, value in shown.items():
            rank = VAL_METRIC if name.startswith("val_") else TRAIN_METRIC
            if name == "loss" or name in self.monitors or names[name] == "loss":
                rank = KEEP
            pieces.append(Piece(f"{names[name]}={short_number(value)}", rank))
        return pieces

    def fitted(self, fixed: list[Piece], loss, train: dict[str, float],
               width: int) -> list[Piece]:
        """``fixed`` and the metric pieces that fit in ``width`` (see :func:`fit`); when what
        must stay is too wide, with names shortened further (:data:`NAME_LIMITS`)."""
        for limit in NAME_LIMITS:
            kept = fit([*fixed, *self.metric_pieces(loss, train, limit)], width)
            if _width(kept) <= width:
                break
        return kept

    def end_metrics(self, metrics: dict[str, float]):
        """An epoch's closing metrics as (loss, other training metrics), val ones kept."""
        self.show_metrics(metrics)
        train = {k: v for k, v in metrics.items() if not k.startswith("val_")}
        loss = next((train.pop(k) for k in ("train_loss_epoch", "train_loss") if k in train),
                    None)
        return loss, train


MAX_EPOCH_LINES = 100  # a run of more epochs keeps one line every `epoch_stride` epochs


def epoch_stride(max_epochs: int) -> int:
    """Every how many epochs a line stays on screen: every epoch up to
    :data:`MAX_EPOCH_LINES` epochs (or when the number is unbounded); beyond, the smallest round
    stride (2, 5, 10, 20, 50, ...) that keeps at most that many lines. A rule by epoch number,
    not by time, so which epochs show never depends on how fast they ran."""
    if max_epochs <= MAX_EPOCH_LINES:
        return 1
    needed, scale = math.ceil(max_epochs / MAX_EPOCH_LINES), 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= needed:
                return step * scale
        scale *= 10


def _keep_epoch_line(epoch: int, max_epochs: int) -> bool:
    """Whether an epoch's closing line stays: see :func:`epoch_stride`; the last epoch's always
    does (and the last one a run reaches, by :meth:`close`)."""
    return epoch % epoch_stride(max_epochs) == 0 or epoch == max_epochs - 1


def _epoch_label(epoch: int, max_epochs: int) -> str:
    return f"Epoch {epoch}" + (f"/{max_epochs - 1}" if max_epochs > 0 else "")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class PlainProgress(_Display):
    """One line at each epoch end, plus one every ``interval_s`` seconds within long epochs."""

    def __init__(self, stream=None, interval_s: float = 10.0, width: int = WIDTH) -> None:
        super().__init__()
        self.stream = stream or sys.stdout
        self.interval_s, self.width = interval_s, width
        self.unprinted: str | None = None  # the last epoch's line, if not kept (yet)

    def start_epoch(self, epoch: int, max_epochs: int, total: int | None, done: int = 0) -> None:
        """Begin an epoch of ``total`` batches (None if unknown), ``done`` of them already
        done (a mid-epoch resume)."""
        self.label, self.total, self.done = _epoch_label(epoch, max_epochs), total, done
        self.epoch, self.max_epochs, self.first = epoch, max_epochs, done
        self.start = self.last_print = time.perf_counter()
        self.unprinted = None

    def update(self, loss) -> None:
        """One more batch done; ``loss`` is a tensor, read only if a line is printed now."""
        self.done += 1
        now = time.perf_counter()
        if now - self.last_print >= self.interval_s:
            self.last_print = now
            self._line(float(loss), {})

    def end_epoch(self, metrics: dict[str, float]) -> None:
        """Print the epoch's closing line with its metrics (for many epochs, every
        :func:`epoch_stride`-th; :meth:`close` prints the last one a run reaches)."""
        line = self._text(*self.end_metrics(metrics))
        if _keep_epoch_line(self.epoch, self.max_epochs):
            print(line, file=self.stream, flush=True)
        else:
            self.unprinted = line

    def _line(self, loss, train: dict[str, float]) -> None:
        print(self._text(loss, train), file=self.stream, flush=True)

    def _text(self, loss, train: dict[str, float]) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        total = f"/{self.total}" if self.total is not None else ""
        rate = (self.done - self.first) / elapsed
        pieces = [Piece(self.label, KEEP), Piece(f"{self.done}{total}", COUNTS),
                  Piece(_clock(elapsed), ELAPSED), Piece(f"{rate:.1f}it/s", RATE)]
        return " ".join(p.text for p in self.fitted(pieces, loss, train, self.width))[: self.width]

    def close(self) -> None:
        """Print the run's last epoch line if the stride skipped it (a run stopped early)."""
        if self.unprinted is not None:
            print(self.unprinted, file=self.stream, flush=True)
            self.unprinted = None


class BarProgress(_Display):
    """A tqdm bar per epoch with v_num, the loss, the latest validation metrics and it/s, in
    the terminal's width (``ncols``, if given, instead)."""

    def __init__(self, stream=None, refresh_s: float = 0.2, ncols: int | None = None) -> None:
        from tqdm.auto import tqdm

        super().__init__()
        self.tqdm, self.stream, self.refresh_s, self.bar = tqdm, stream or sys.stdout, \
            refresh_s, None
        self.ncols = ncols

    def start_epoch(self, epoch: int, max_epochs: int, total: int | None, done: int = 0) -> None:
        """Open the epoch's bar at ``done`` of ``total`` batches (a mid-epoch resume starts
        past 0), erasing the previous epoch's bar if the stride does not keep it."""
        self._finish(leave=False)
        self.epoch, self.max_epochs, self.total = epoch, max_epochs, total
        self.label = _epoch_label(epoch, max_epochs)
        self.bar = self.tqdm(total=total, initial=done, file=self.stream,
                             dynamic_ncols=self.ncols is None, ncols=self.ncols, leave=True,
                             unit="it", bar_format=self._format(None, {}))
        self.last_read = 0.0

    def update(self, loss) -> None:
        now = time.perf_counter()
        if now - self.last_read >= self.refresh_s:
            self.last_read = now
            self.bar.bar_format = self._format(float(loss), {})
        self.bar.update(1)

    def end_epoch(self, metrics: dict[str, float]) -> None:
        """Show the epoch's final count and metrics; the bar stays as a line when the stride
        keeps it, else the next epoch's bar replaces it (and :meth:`close` keeps the last)."""
        self.bar.bar_format = self._format(*self.end_metrics(metrics))
        self.bar.refresh()  # tqdm draws at most every mininterval: show the final count now
        if _keep_epoch_line(self.epoch, self.max_epochs):
            self._finish(leave=True)

    def _format(self, loss, train: dict[str, float]) -> str:
        """tqdm's bar_format for this line: the pieces that fit, tqdm filling the bar."""
        # tqdm keeps a terminal's last column free (no line wrap): so does the layout
        width = self.ncols or shutil.get_terminal_size((WIDTH + 1, 24)).columns - 1
        counts = f"{self.total}/{self.total}" if self.total is not None else "0" * 6
        pieces = [Piece(self.label, KEEP)]
        if self.total is not None:
            pieces.append(Piece("#" * MIN_BAR, BAR, "{bar}"))
        pieces += [Piece(counts, COUNTS, "{n_fmt}" + ("/{total_fmt}" if self.total else "")),
                   Piece("00:00", ELAPSED, "{elapsed}"), Piece("0" * 12, RATE, "{rate_fmt}")]
        kept = self.fitted(pieces, loss, train, width)
        return " ".join(p.template or _escape(p.text) for p in kept)

    def close(self) -> None:
        """End the display: the open bar (the run's last, or the one Ctrl-C stopped) stays as
        a line, so that what follows starts on a line of its own."""
        self._finish(leave=True)

    def _finish(self, leave: bool) -> None:
        if self.bar is not None:
            self.bar.leave = leave
            self.bar.close()
            self.bar = None


def _escape(text: str) -> str:
    """Literal text inside tqdm's format string."""
    return text.replace("{", "{{").replace("}", "}}")


class NoProgress:
    """``enable_progress_bar=False``: nothing is printed."""

    def set_context(self, run_dir=None, callbacks=(), metrics=None) -> None: ...
    def show_metrics(self, metrics: dict[str, float]) -> None: ...
    def start_epoch(self, epoch: int, max_epochs: int, total: int | None, done: int = 0) -> None:
        ...

    def update(self, loss) -> None: ...
    def end_epoch(self, metrics: dict[str, float]) -> None: ...
    def close(self) -> None: ...


def make_progress(enabled: bool, stream=None):
    """A bar when ``stream`` (stdout by default) is a terminal and tqdm is installed, plain lines
    otherwise, nothing when disabled."""
    if not enabled:
        return NoProgress()
    stream = stream or sys.stdout
    if getattr(stream, "isatty", lambda: False)():
        try:
            return BarProgress(stream)
        except ImportError:  # tqdm is optional: fall back to lines
            pass
    return PlainProgress(stream)


class ProgressBar(BuiltinCallback):
    """The progress display on the callback list (as Lightning's TQDMProgressBar): an epoch's
    line or bar, its batches, the validation metrics, the epoch's end; closed on Ctrl-C, an
    error or the fit's end."""

    def __init__(self, display) -> None:
        self.display = display

    def on_fit_start(self, trainer, module) -> None:
        self.display.set_context(trainer.run_dir, trainer.callbacks.callbacks,
                                 trainer.callback_metrics)

    def on_train_epoch_start(self, trainer, module) -> None:
        state = trainer.state
        self.display.start_epoch(state.epoch, trainer.run_config.max_epochs,
                                 trainer.num_train_batches, state.batches_done)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        self.display.update(trainer.state.last_outputs["loss"])  # undivided by accumulation

    def on_validation_end(self, trainer, module) -> None:
        self.display.show_metrics(trainer.state.epoch_val_metrics)

    def on_train_epoch_end(self, trainer, module) -> None:
        shown = trainer.state.history[-1]
        self.display.end_epoch({k: v for k, v in shown.items() if k != "epoch"})

    def on_exception(self, trainer, module, exception) -> None:
        self.display.close()  # the bar stays where it stopped; the message goes below

    def teardown(self, trainer, module, stage: str) -> None:
        self.display.close()

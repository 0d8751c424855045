"""Progress output: a tqdm bar per epoch on a terminal, plain periodic lines elsewhere (CI logs).

Reading the loss from a GPU waits for the GPU, so the loss is read only when the display is about
to change (a few times a second), never on every step.
"""

from __future__ import annotations

import sys
import time


def _format_metrics(metrics: dict[str, float]) -> str:
    return "  ".join(f"{name} {value:.4g}" for name, value in metrics.items())


EPOCH_LINE_INTERVAL_S = 1.0  # with many short epochs, keep an epoch's line at most this often


def _keep_epoch_line(epoch: int, max_epochs: int, since_kept: float) -> bool:
    """The first and last epoch's lines are always kept; in between, one per interval."""
    return epoch == 0 or epoch == max_epochs - 1 or since_kept >= EPOCH_LINE_INTERVAL_S


def _epoch_label(epoch: int, max_epochs: int) -> str:
    return f"Epoch {epoch}" + (f"/{max_epochs - 1}" if max_epochs > 0 else "")


class PlainProgress:
    """One line at each epoch end, plus one every ``interval_s`` seconds within long epochs."""

    def __init__(self, stream=None, interval_s: float = 10.0) -> None:
        self.stream = stream or sys.stdout
        self.interval_s = interval_s
        self.last_kept = float("-inf")

    def start_epoch(self, epoch: int, max_epochs: int, total: int | None) -> None:
        """Begin an epoch of ``total`` batches (None if unknown)."""
        self.label, self.total, self.done = _epoch_label(epoch, max_epochs), total, 0
        self.epoch, self.max_epochs = epoch, max_epochs
        self.start = self.last_print = time.perf_counter()

    def update(self, loss) -> None:
        """One more batch done; ``loss`` is a tensor, read only if a line is printed now."""
        self.done += 1
        now = time.perf_counter()
        if now - self.last_print >= self.interval_s:
            self.last_print = now
            self._line({"loss": float(loss)})

    def end_epoch(self, metrics: dict[str, float]) -> None:
        """Print the epoch's closing line with its metrics (throttled for tiny epochs)."""
        now = time.perf_counter()
        if _keep_epoch_line(self.epoch, self.max_epochs, now - self.last_kept):
            self.last_kept = now
            self._line(metrics)

    def _line(self, metrics: dict[str, float]) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        total = f"/{self.total}" if self.total is not None else ""
        rate = f"{self.done / elapsed:.1f} it/s"
        text = f"{self.label}  {self.done}{total} batches  {_format_metrics(metrics)}  {rate}"
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to release for plain lines."""


class BarProgress:
    """A tqdm bar per epoch with the loss, the latest metrics and it/s."""

    def __init__(self, stream=None, refresh_s: float = 0.2) -> None:
        from tqdm.auto import tqdm

        self.tqdm, self.stream, self.refresh_s, self.bar = (
            tqdm,
            stream or sys.stdout,
            refresh_s,
            None,
        )
        self.last_kept = float("-inf")

    def start_epoch(self, epoch: int, max_epochs: int, total: int | None) -> None:
        self.close()
        self.epoch, self.max_epochs = epoch, max_epochs
        self.bar = self.tqdm(
            total=total,
            desc=_epoch_label(epoch, max_epochs),
            file=self.stream,
            dynamic_ncols=True,
            leave=True,
            unit="it",
        )
        self.last_read = 0.0

    def update(self, loss) -> None:
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.last_read >= self.refresh_s:
            self.last_read = now
            self.bar.set_postfix(loss=f"{float(loss):.4g}", refresh=False)

    def end_epoch(self, metrics: dict[str, float]) -> None:
        now = time.perf_counter()
        keep = _keep_epoch_line(self.epoch, self.max_epochs, now - self.last_kept)
        if keep:
            self.last_kept = now
        self.bar.leave = keep  # tiny epochs: most bars are erased, not left as lines
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=keep)
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NoProgress:
    """``enable_progress_bar=False``: nothing is printed."""

    def start_epoch(self, epoch: int, max_epochs: int, total: int | None) -> None: ...
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

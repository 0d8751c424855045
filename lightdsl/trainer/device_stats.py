"""Device statistics in the logs, as Lightning's ``DeviceStatsMonitor``: GPU memory on a CUDA
device, CPU and memory use (psutil) on the CPU, every ``log_every_n_steps`` optimizer steps.

Names are Lightning's, ``DeviceStatsMonitor.on_train_batch_end/<stat>``, so the curves of a
lightdsl run and a Lightning run line up:

- CUDA (``torch.cuda.memory_stats``, bytes): ``allocated_bytes.all.current`` and ``.peak``,
  ``reserved_bytes.all.current`` and ``.peak`` (reserved: allocated plus the caching
  allocator's free blocks; peaks since the process started, as Lightning reports them).
- CPU (psutil): Lightning's system-wide ``cpu_percent``, ``cpu_vm_percent`` and
  ``cpu_swap_percent``, and this process's own ``process_rss_bytes`` and
  ``process_cpu_percent`` (over the last second or more; 100 is one core busy).

As in Lightning, CPU statistics are logged when training on the CPU, or with
``cpu_stats=True`` on any device, and the values go to the logger only (not to
``callback_metrics``). psutil is needed for the CPU statistics only.
"""

from __future__ import annotations

import time
from collections import deque

import torch

from lightdsl.errors import ConfigError

from .callbacks import Callback

PREFIX = "DeviceStatsMonitor.on_train_batch_end/"
CUDA_STATS = ("allocated_bytes.all.current", "allocated_bytes.all.peak",
              "reserved_bytes.all.current", "reserved_bytes.all.peak")
PSUTIL_HINT = "pip install psutil (or pip install -e '.[stats]' in a lightdsl checkout)"


def cuda_stats(device: torch.device) -> dict[str, float]:
    """The CUDA caching allocator's memory figures for ``device``, in bytes."""
    stats = torch.cuda.memory_stats(device)
    return {name: float(stats.get(name, 0)) for name in CUDA_STATS}


def _psutil():
    try:
        import psutil
    except ImportError:
        raise ConfigError("device_stats logs CPU statistics with psutil, which is not "
                          "installed", hint=PSUTIL_HINT) from None
    return psutil


class CPUStats:
    """The system's and this process's CPU and memory use (psutil).

    psutil's system-wide ``cpu_percent`` covers the time since its previous call (Lightning's
    figure; primed here, as its first call says 0.0). This process's CPU use is averaged over
    at least the last ``WINDOW_S`` seconds (early on: since the process started): CPU times
    advance in clock ticks of 10 ms, so over the milliseconds between two logs of a small
    model a plain difference would read 0 % or many times 100 %.
    """

    WINDOW_S = 1.0

    def __init__(self) -> None:
        self.psutil = _psutil()
        self.process = self.psutil.Process()
        self.psutil.cpu_percent()
        # (wall-clock time, CPU seconds used by then); at the process's start, none
        self.samples = deque([(self.process.create_time(), 0.0)])

    def process_cpu_percent(self) -> float:
        """This process's CPU use (100 = one core busy) over the last WINDOW_S seconds or more."""
        now, times = time.time(), self.process.cpu_times()
        used = times.user + times.system
        while len(self.samples) > 1 and now - self.samples[1][0] >= self.WINDOW_S:
            self.samples.popleft()
        start, used_then = self.samples[0]
        self.samples.append((now, used))
        return 100.0 * (used - used_then) / max(now - start, 1e-6)

    def read(self) -> dict[str, float]:
        """One reading: percentages, and the resident set size in bytes."""
        ps = self.psutil
        return {
            "cpu_percent": float(ps.cpu_percent()),
            "cpu_vm_percent": float(ps.virtual_memory().percent),
            "cpu_swap_percent": float(ps.swap_memory().percent),
            "process_rss_bytes": float(self.process.memory_info().rss),
            "process_cpu_percent": self.process_cpu_percent(),
        }


class DeviceStatsMonitor(Callback):
    """Log device statistics at each logging step (see the module's docs for the names).

    ``cpu_stats``: None logs CPU statistics only when training on the CPU; True on any
    device; False never. A run without a logger is a ConfigError, as in Lightning (except
    under ``fast_dev_run``, which logs nothing anyway).
    """

    reads_outputs = False  # it logs device memory, not the batch's values

    def __init__(self, cpu_stats: bool | None = None) -> None:
        if cpu_stats not in (None, True, False):
            raise ConfigError(f"cpu_stats={cpu_stats!r} is not valid; expected None, True "
                              "or False")
        self.cpu_stats = cpu_stats
        self._cpu: CPUStats | None = None

    def on_fit_start(self, trainer, module) -> None:
        cfg = trainer.run_config
        if cfg.logger is None and not cfg.fast_dev_run:
            raise ConfigError("device_stats logs to the run's logger, but logger is none",
                              hint="set logger = tensorboard or csv, or drop device_stats")
        on_cpu = trainer.device.type == "cpu"
        wants_cpu = self.cpu_stats or (self.cpu_stats is None and on_cpu)
        self._cpu = CPUStats() if wants_cpu and trainer.logger is not None else None

    def stats(self, device: torch.device) -> dict[str, float]:
        """The statistics for ``device`` now, unprefixed."""
        values = cuda_stats(device) if device.type == "cuda" else {}
        if self._cpu is not None:
            values.update(self._cpu.read())
        return values

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        # an optimizer step at a log_every_n_steps step ended this batch
        if trainer.logger is None or not trainer.state.should_log:
            return
        values = {PREFIX + name: v for name, v in self.stats(trainer.device).items()}
        if values:  # Lightning's step, without the epoch (its monitor logs it so too)
            trainer.callbacks.call("on_log_metrics", trainer, values,
                                   max(trainer.global_step - 1, 0))

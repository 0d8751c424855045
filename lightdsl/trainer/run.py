"""What a fit is made of, prepared once: :class:`FitRun` and :func:`prepare_fit`.

``prepare_fit`` decides the run's settings (``fast_dev_run`` applied), device, precision and
process group, seeds, loaders and their batch counts, optimizer, gradient scaler, callbacks
(the progress bar, the hints and the logger among them: one hook channel), and the run folder;
the loop (:mod:`lightdsl.trainer.loop`) reads the result and changes only the
:class:`~lightdsl.trainer.state.LoopState`. ``start_run`` is the device part alone, what
``validate``, ``test`` and ``predict`` need.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lightdsl.errors import ConfigError
from lightdsl.outputs import claim_version_dir

from .callbacks import CallbackList, ModelCheckpoint
from .checkpoint import capture_rng, to_safe
from .config import TrainerConfig
from .data import InMemoryLoader, move_batch, pins_memory
from .devices import (
    check_fits,
    cpu_precision_note,
    resolve_device,
    resolve_precision,
    seed_everything,
)
from .distributed import Distributed, Ranks, rank_device
from .hints import HintsCallback
from .loggers import LoggerCallback, build_loggers
from .optim import OptimizerSetup, parse_optimizers
from .progress import NoProgress, ProgressBar, make_progress
from .resume import check_model_fits
from .setup import Loaders, train_and_val_loaders, val_interval
from .state import LoopState


@dataclass(eq=False)
class FitRun:
    """One run's make-up, set once by :func:`prepare_fit` (or :func:`start_run`) and read by
    the loop. ``trainer`` is what callbacks receive (Lightning's hooks take the trainer)."""

    trainer: Any = None
    config: TrainerConfig | None = None
    """The settings the run uses (``fast_dev_run`` turns limits down and output off)."""
    module: torch.nn.Module | None = None
    device: torch.device | None = None
    precision: Any = None
    """The resolved :class:`~lightdsl.trainer.devices.Precision`."""
    dist: Distributed = field(default_factory=Distributed)
    data_seed: int | None = None
    loaders: Loaders | None = None
    opt: OptimizerSetup | None = None
    training_step: Any = None
    """``module.training_step``, or its DistributedDataParallel wrapper under DDP."""
    scaler: torch.amp.GradScaler | None = None
    callbacks: CallbackList = field(default_factory=lambda: CallbackList([]))
    logger: Any = None
    """The first of ``loggers`` (Lightning's ``trainer.logger``), or None."""
    loggers: list = field(default_factory=list)
    progress: Any = field(default_factory=NoProgress)
    run_dir: Path | None = None
    checkpoint_dir: Path | None = None
    configured_lrs: list[float] = field(default_factory=list)
    """The learning rates configure_optimizers() set (before a checkpoint's replaced them)."""
    base_lr: float | None = None
    """The first parameter group's base learning rate the run trains with."""
    nothing_left: bool = False
    """A resumed run already at max_epochs / max_steps: nothing is trained or written."""
    resume_command: str | None = None
    """How the user continues an interrupted run (None: ``fit(module, ckpt_path=...)``)."""
    compiled: Any = None
    """How torch.compile compiled the module's forward for this fit
    (:class:`~lightdsl.trainer.compiling.Compiled`); None: it runs eagerly."""

    def to_device(self, batch, loader):
        """``batch`` on the training device (in-memory loaders already live there)."""
        if isinstance(loader, InMemoryLoader):
            return batch
        non_blocking = pins_memory(loader) and self.device.type == "cuda"
        return move_batch(batch, self.device, self.precision.input_dtype, non_blocking)

    def saver(self) -> ModelCheckpoint | None:
        """The first checkpoint callback of this run, if checkpointing is on."""
        found = [cb for cb in self.callbacks.callbacks if isinstance(cb, ModelCheckpoint)]
        return found[0] if found else None

    def kept_ckpt(self) -> str | None:
        """The newest checkpoint file on disk (what a NaN stop leaves to resume from)."""
        saver = self.saver()
        path = saver.last_model_path or saver.best_model_path if saver else ""
        return path if path and Path(path).is_file() else None


def run_config(cfg: TrainerConfig) -> TrainerConfig:
    """The settings a run uses: ``fast_dev_run`` turns limits down and output off."""
    n = cfg.fast_dev_run
    if not n:
        return cfg
    return dataclasses.replace(
        cfg, max_epochs=1, max_steps=n, limit_train_batches=n, limit_val_batches=n,
        num_sanity_val_steps=0, val_check_interval=1.0, check_val_every_n_epoch=1, logger=None,
        enable_checkpointing=False,
        callbacks=[cb for cb in cfg.callbacks if not isinstance(cb, ModelCheckpoint)])


def start_run(trainer, module: torch.nn.Module, ckpt: dict | None, ranks: Ranks) -> FitRun:
    """Device, precision, process group and seeds; the module moved to the device."""
    cfg = run_config(trainer.config)
    device = rank_device(resolve_device(cfg.accelerator), ranks)
    precision = resolve_precision(cfg.precision, device)
    dist = Distributed(ranks, device)
    trainer.hints.enabled = dist.is_main
    if precision.name != cfg.precision:  # 16-mixed on the CPU: bf16-mixed
        trainer.hints.once("cpu-fp16", cpu_precision_note(cfg.precision, precision.name),
                           kind="warning")
    if cfg.seed is not None:
        seed_everything(cfg.seed)
    # The data order's seed: the trainer's, else the one the resumed run used, else fresh
    # (rank 0's, so that every rank shuffles alike).
    saved_seed = ckpt["loop"]["data_seed"] if ckpt else None
    fresh = random.SystemRandom().randrange(2**31)
    seed = next(s for s in (saved_seed, cfg.seed, fresh) if s is not None)
    check_fits(module, device, precision.param_dtype)  # before, not during, the copy
    module = module.to(device=device, dtype=precision.param_dtype)
    return FitRun(trainer=trainer, config=cfg, module=module, device=device,
                  precision=precision, dist=dist, data_seed=dist.broadcast(seed))


def prepare_fit(run: FitRun, ckpt: dict | None) -> LoopState:
    """Loaders, optimizer, callbacks, logger and run folder into ``run``; the loop's state
    (the checkpoint's, when resuming) returned."""
    cfg, module, trainer = run.config, run.module, run.trainer
    run.loaders = train_and_val_loaders(run, module, cfg)
    per_epoch = cfg.check_val_every_n_epoch is not None
    interval = val_interval(cfg.val_check_interval, run.loaders.num_train_batches, per_epoch)
    run.opt = parse_optimizers(_configure_optimizers(trainer, module))
    run.opt.optimizer.zero_grad(set_to_none=True)
    # DDP: rank 0's weights (broadcast by DDP) and optimizer settings on every rank
    run.training_step = run.dist.training_step(module)
    run.dist.sync_optimizer(run.opt.optimizer)
    if run.precision.needs_grad_scaler:
        run.scaler = torch.amp.GradScaler(run.device.type)
    run.callbacks = CallbackList(_callback_list(cfg, run.loaders.has_val_data))
    state = trainer.state = LoopState(val_interval=interval, epoch_start_rng=capture_rng())
    run.configured_lrs = base_lrs(run.opt.optimizer)
    if ckpt is not None:
        _restore(run, state, ckpt)  # the checkpoint's lr wins, as in Lightning: resume is exact
    run.base_lr = base_lrs(run.opt.optimizer)[0]
    # decided before any folder exists: a resume with nothing to train writes nothing
    run.nothing_left = ckpt is not None and budget_used_up(run, state)
    if not run.nothing_left:
        _prepare_output(run, ckpt)
    return state


def budget_used_up(run: FitRun, state: LoopState) -> bool:
    """Whether the position is already at max_epochs or max_steps: the loop would not train a
    single batch."""
    epoch, _ = state.next_position()
    cfg = run.config
    steps_done = cfg.max_steps != -1 and state.global_step >= cfg.max_steps
    return (cfg.max_epochs != -1 and epoch >= cfg.max_epochs) or steps_done


def _configure_optimizers(trainer, module):
    """``module.configure_optimizers()`` with ``module.trainer`` set to the trainer during the
    call, as in Lightning (so a schedule can read ``estimated_stepping_batches``); a module
    that has its own ``trainer`` attribute keeps it."""
    if "trainer" in dir(module):
        return module.configure_optimizers()
    module.trainer = trainer
    try:
        return module.configure_optimizers()
    finally:
        del module.trainer


def _callback_list(cfg: TrainerConfig, has_val_data: bool) -> list:
    savers = [cb for cb in cfg.callbacks if isinstance(cb, ModelCheckpoint)]
    if savers and not cfg.enable_checkpointing:
        raise ConfigError(
            "a checkpoint callback was given, but enable_checkpointing=False",
            hint="drop the checkpoint callback or set enable_checkpointing=True",
        )
    if savers or not cfg.enable_checkpointing:
        return list(cfg.callbacks)
    # By default: last.ckpt, plus the best by val_loss when there is validation data.
    monitor = "val_loss" if has_val_data else None
    default = ModelCheckpoint(monitor=monitor, save_top_k=1 if monitor else 0)
    return [*cfg.callbacks, default]


def _restore(run: FitRun, state: LoopState, ckpt: dict) -> None:
    check_model_fits(run.module, ckpt["state_dict"])
    run.module.load_state_dict(ckpt["state_dict"])
    run.opt.load_state_dict(ckpt["optimizer"])
    if run.scaler is not None and ckpt["grad_scaler"]:
        run.scaler.load_state_dict(ckpt["grad_scaler"])
    state.restore(ckpt, run.device, with_means=run.dist.is_main)
    run.callbacks.load_state_dict(ckpt["callbacks"])


def _prepare_output(run: FitRun, ckpt: dict | None = None) -> None:
    """The run folder, the loggers and the progress display, as callbacks on the one list;
    the loggers' own state (an MLflow run id) back from ``ckpt`` when resuming."""
    cfg, module = run.config, run.module
    # a run that logs and saves nothing (fast_dev_run) has no version folder: none is
    # claimed, and the bar shows no v_num
    main = run.dist.is_main
    if cfg.logger is not None or run.saver() is not None:
        own_dir = _own_dir(cfg.logger)
        root = cfg.default_root_dir or "lightning_logs"
        name = cfg.run_name or type(module).__name__
        # claimed atomically, so that two runs started at once never share one
        run_dir = (own_dir or claim_version_dir(root, name)) if main else ""
        run.run_dir = Path(run.dist.broadcast(str(run_dir)))  # rank 0's, on every rank
        run.checkpoint_dir = run.run_dir / "checkpoints"
    run.loggers = build_loggers(cfg.logger if main else None, run.run_dir)
    run.logger = run.loggers[0] if run.loggers else None
    run.progress = make_progress(cfg.enable_progress_bar and main)
    params = to_safe(dict(hparams(module)))
    logging = [LoggerCallback(logger, params) for logger in run.loggers]
    if ckpt is not None:
        CallbackList(logging).load_state_dict(ckpt["callbacks"])
    builtins = [*logging, HintsCallback(run.trainer.hints)]
    if not isinstance(run.progress, NoProgress):  # nothing shown: no per-batch hook to call
        builtins.append(ProgressBar(run.progress))
    run.callbacks = CallbackList([*builtins, *run.callbacks.callbacks])


def _own_dir(setting: Any):
    """The folder a user's logger object chose (its ``log_dir``), if one did."""
    items = setting if isinstance(setting, list) else [setting]
    return next((d for d in (getattr(i, "log_dir", None) for i in items) if d), None)


def base_lrs(optimizer: torch.optim.Optimizer) -> list[float]:
    """Each parameter group's base learning rate: the one a scheduler started from, else the
    current one."""
    return [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]


def hparams(module) -> dict:
    """The module's ``hparams`` (Lightning's), as a dict."""
    found = getattr(module, "hparams", None)
    return dict(found) if found else {}

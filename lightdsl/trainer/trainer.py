"""The :class:`Trainer`: Lightning's arguments and methods, over lightdsl's own loop.

``fit`` prepares a run (device, precision, data, optimizer, logger, checkpoint to resume from),
then hands over to :func:`lightdsl.trainer.loop.fit_loop`. The loop's state (position,
counters, metrics, stop requests) is one :class:`~lightdsl.trainer.loop.LoopState`,
``trainer.state``; Lightning's attributes (``current_epoch``, ``global_step``, ``should_stop``,
``callback_metrics``, ...) are properties over it.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from pathlib import Path

import torch

from lightdsl.errors import ConfigError
from lightdsl.outputs import claim_version_dir

from .callbacks import CallbackList, ModelCheckpoint
from .checkpoint import (
    FORMAT,
    SaveInterrupted,
    atomic_save,
    capture_rng,
    load_checkpoint,
    to_safe,
)
from .config import TrainerConfig
from .data import (
    InMemoryLoader,
    move_batch,
    pins_memory,
    prepare_loader,
)
from .devices import (
    CPU_FP16_NOTE,
    check_fits,
    deterministic_mode,
    resolve_device,
    resolve_precision,
    seed_everything,
)
from .distributed import Distributed, Ranks, plan, rank_device
from .evaluation import evaluate, materialized
from .hints import Hints
from .lightning_layout import lightning_entries
from .loggers import as_floats, build_logger, call_logger
from .loop import LoopState, fit_loop
from .optim import parse_optimizers
from .progress import NoProgress, make_progress
from .result import FitResult, build_result
from .resume import check_model_fits
from .setup import (
    _call,
    example_input,
    stepping_batches,
    train_and_val_loaders,
    val_interval,
)
from .summary import model_summary, plural, run_summary


class Trainer:
    """Trains any LightningModule-style ``torch.nn.Module``; see the package docs for the hooks.

    The arguments are Lightning's (``max_epochs``, ``precision``, ``callbacks``, ...), plus
    ``seed`` (seeds Python, NumPy and torch at the start of each run) and ``run_name`` (the log
    directory is ``<default_root_dir or lightning_logs>/<run_name>/version_N``; the run name
    defaults to the module's class name). Every value is checked here, with a clear
    :class:`~lightdsl.errors.ConfigError`.

    ``devices > 1`` (or ``strategy="ddp"`` with several devices, or ``num_nodes > 1``) trains
    with DistributedDataParallel; see :mod:`lightdsl.trainer.distributed` for how the ranks are
    started and how the data is sharded. Only rank 0 prints, logs and writes checkpoints.
    """

    def __init__(
        self,
        *,
        max_epochs: int | None = None,
        max_steps: int = -1,
        fast_dev_run: bool | int = False,
        limit_train_batches: float = 1.0,
        limit_val_batches: float = 1.0,
        num_sanity_val_steps: int = 2,
        check_val_every_n_epoch: int | None = 1,
        val_check_interval: float = 1.0,
        accumulate_grad_batches: int = 1,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str = "norm",
        deterministic: bool = False,
        seed: int | None = None,
        accelerator: str = "auto",
        devices: int | str = "auto",
        strategy: str = "auto",
        num_nodes: int = 1,
        precision: str | int = "32-true",
        log_every_n_steps: int = 50,
        enable_progress_bar: bool = True,
        enable_model_summary: bool = True,
        enable_checkpointing: bool = True,
        callbacks: list | None = None,
        logger="tensorboard",
        default_root_dir: str | Path | None = None,
        run_name: str | None = None,
    ) -> None:
        settings = {k: v for k, v in locals().items() if k != "self"}
        settings["callbacks"] = list(callbacks or [])
        self.config = TrainerConfig(**settings)
        self.hints = Hints()
        self.result: FitResult | None = None
        self.state = LoopState()
        self.dist = Distributed()
        self.nothing_left = False  # a resumed run already at max_epochs / max_steps
        self.resume_command: str | None = None
        """How the user continues an interrupted run, in the interrupt message (the CLI sets
        ``lightdsl train ... --resume last``); None: ``fit(module, ckpt_path=...)``."""

    # ----------------------------------------------------------------- Lightning's attributes

    @property
    def current_epoch(self) -> int:
        """The current epoch, 0-based (``state.epoch``)."""
        return self.state.epoch

    @property
    def global_step(self) -> int:
        """Optimizer steps taken so far, resumes included."""
        return self.state.global_step

    @property
    def should_stop(self) -> bool:
        """Set it to True (from a callback) to stop at the next optimizer-step boundary."""
        return self.state.should_stop

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self.state.should_stop = bool(value)

    @property
    def callback_metrics(self) -> dict[str, float]:
        """The latest value of every logged metric, as floats."""
        return self.state.callback_metrics

    @property
    def sanity_checking(self) -> bool:
        """True while the sanity-check validation batches run."""
        return self.state.sanity_checking

    @property
    def interrupted(self) -> bool:
        """Whether the fit was stopped by Ctrl-C."""
        return self.state.interrupted

    # ----------------------------------------------------------------- public API

    def fit(self, module: torch.nn.Module, ckpt_path: str | Path | None = None) -> FitResult:
        """Train ``module``; with ``ckpt_path``, continue exactly where that checkpoint stopped.

        Returns a :class:`FitResult` (also kept as ``trainer.result``) and prints its summary
        (unless both the progress bar and the model summary are off). Ctrl-C stops after the
        current optimizer step and saves ``last.ckpt``; the result then has ``interrupted=True``.
        """
        ckpt = load_checkpoint(ckpt_path) if ckpt_path is not None else None
        ranks = plan(self.run_config)  # with devices > 1, may start the other ranks here
        self._start_run(module, ckpt, ranks)
        started = time.perf_counter()
        # what cleanup and error messages see if setup fails
        self.progress, self.logger, self.callbacks = NoProgress(), None, CallbackList([])
        with deterministic_mode(self.run_config.deterministic), self.dist.running():
            try:
                self._setup_training(ckpt)
                if not self.nothing_left:
                    self._announce(ckpt_path, ckpt)
                    self.callbacks.call("on_fit_start", self, module)
                    self._sanity_check()
                    fit_loop(self)
                    self.callbacks.call("on_fit_end", self, module)
            except KeyboardInterrupt as abort:  # a second Ctrl-C: must not wait for the step
                self.progress.close()  # the message goes on a line of its own
                if self.dist.is_main:
                    print(_abort_message(abort, self.kept_ckpt()), file=sys.stderr, flush=True)
                raise
            except RuntimeError as error:  # under DDP: another rank died or vanished
                failure = self.dist.failure(error)
                if failure is None:
                    raise
                raise failure from None
            finally:
                self.progress.close()
                call_logger(self.logger, "finalize")
        self.result = build_result(self, time.perf_counter() - started)
        shown = self.config.enable_progress_bar or self.config.enable_model_summary
        if self.nothing_left and self.dist.is_main:
            print(self._nothing_left_message(ckpt_path), file=sys.stderr, flush=True)
        elif shown and self.dist.is_main:
            print(run_summary(self.result), flush=True)
        return self.result

    def validate(self, module: torch.nn.Module) -> dict[str, float]:
        """Run the validation loop once; returns ``{"val_loss": ..., "val_<metric>": ...}``."""
        return self._evaluate_once(module, "val_dataloader", "validation_step", "val")

    def test(self, module: torch.nn.Module) -> dict[str, float]:
        """Run ``test_step`` over ``test_dataloader()``; returns ``{"test_<metric>": ...}``."""
        return self._evaluate_once(module, "test_dataloader", "test_step", "test")

    def evaluate(self, module: torch.nn.Module, loader, prefix: str = "val") -> dict[str, float]:
        """``validation_step`` over any ``loader``; returns ``{"<prefix>_<metric>": ...}``."""
        self._start_run(module, None, Ranks())
        if not callable(getattr(module, "validation_step", None)):
            raise ConfigError("evaluate() needs module.validation_step()")
        loader = prepare_loader(loader, self.device, self.precision.input_dtype, self.data_seed)
        return evaluate(self, loader, "validation_step", self.run_config.fast_dev_run or None,
                        prefix)

    def predict(self, module: torch.nn.Module, loader=None) -> list[torch.Tensor]:
        """``predict_step`` (or ``module(inputs)``) on each batch; outputs moved to the CPU."""
        self._start_run(module, None, Ranks())
        loader = loader if loader is not None else _call(module, "predict_dataloader")
        if loader is None:
            raise ConfigError("predict() needs a loader (or module.predict_dataloader())")
        loader = prepare_loader(loader, self.device, self.precision.input_dtype, self.data_seed)
        step = getattr(module, "predict_step", None) or (lambda batch, _: module(batch[0]))
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad(), self.precision.autocast():
                return [
                    move_batch(step(self.to_device(batch, loader), i), torch.device("cpu"))
                    for i, batch in enumerate(loader)
                ]
        finally:
            module.train(was_training)

    def save_checkpoint(self, path: str | Path) -> Path:
        """Write a checkpoint of the run's current state to ``path`` atomically (under DDP every
        rank calls this, as the state includes metrics reduced over ranks; rank 0 writes)."""
        state = self.checkpoint_state()
        if self.dist.is_main:
            atomic_save(state, path)
        return Path(path)

    # ----------------------------------------------------------------- setting up a run

    @property
    def run_config(self) -> TrainerConfig:
        """The settings for this run: ``fast_dev_run`` turns limits down and output off."""
        cfg, n = self.config, self.config.fast_dev_run
        if not n:
            return cfg
        return dataclasses.replace(
            cfg,
            max_epochs=1,
            max_steps=n,
            limit_train_batches=n,
            limit_val_batches=n,
            num_sanity_val_steps=0,
            val_check_interval=1.0,
            check_val_every_n_epoch=1,
            logger=None,
            enable_checkpointing=False,
            callbacks=[cb for cb in cfg.callbacks if not isinstance(cb, ModelCheckpoint)],
        )

    def _start_run(self, module: torch.nn.Module, ckpt: dict | None, ranks: Ranks) -> None:
        """Device, precision, process group and seeds; the module moved to the device."""
        cfg = self.run_config
        self.device = rank_device(resolve_device(cfg.accelerator), ranks)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.dist = Distributed(ranks, self.device)
        self.hints.enabled = self.dist.is_main
        if self.precision.name != cfg.precision:  # 16-mixed on the CPU: bf16-mixed
            self.hints.once("cpu-fp16", CPU_FP16_NOTE, kind="warning")
        if cfg.seed is not None:
            seed_everything(cfg.seed)
        # The data order's seed: the trainer's, else the one the resumed run used, else fresh
        # (rank 0's, so that every rank shuffles alike).
        saved_seed = ckpt["loop"]["data_seed"] if ckpt else None
        fresh = random.SystemRandom().randrange(2**31)
        seed = next(s for s in (saved_seed, cfg.seed, fresh) if s is not None)
        self.data_seed = self.dist.broadcast(seed)
        check_fits(module, self.device, self.precision.param_dtype)  # before, not during, the copy
        self.module = module.to(device=self.device, dtype=self.precision.param_dtype)

    def _setup_training(self, ckpt: dict | None) -> None:
        """Loaders, optimizer, callbacks, counters, logger; the checkpoint's state if resuming."""
        cfg, module = self.run_config, self.module
        train_and_val_loaders(self, module, cfg)
        per_epoch = cfg.check_val_every_n_epoch is not None
        interval = val_interval(cfg.val_check_interval, self.num_train_batches, per_epoch)
        self.opt = parse_optimizers(self._configure_optimizers(module))
        self.opt.optimizer.zero_grad(set_to_none=True)
        # DDP: rank 0's weights (broadcast by DDP) and optimizer settings on every rank
        self.training_step = self.dist.training_step(module)
        self.dist.sync_optimizer(self.opt.optimizer)
        use_scaler = self.precision.needs_grad_scaler
        self.scaler = torch.amp.GradScaler(self.device.type) if use_scaler else None
        self.callbacks = CallbackList(self._callback_list(cfg))
        self.state = LoopState(val_interval=interval, epoch_start_rng=capture_rng())
        self.configured_lrs = base_lrs(self.opt.optimizer)
        if ckpt is not None:
            self._restore(ckpt)  # the checkpoint's lr wins, as in Lightning: resume is exact
        self.base_lr = base_lrs(self.opt.optimizer)[0]
        # decided before any folder exists: a resume with nothing to train writes nothing
        self.nothing_left = ckpt is not None and self._budget_used_up()
        if self.nothing_left:
            self.run_dir = self.checkpoint_dir = None
            return
        self._setup_output(cfg, module)

    def _budget_used_up(self) -> bool:
        """Whether the position restored from a checkpoint is already at max_epochs or
        max_steps: the loop would not train a single batch."""
        epoch, _ = self.state.next_position()
        max_epochs = self.run_config.max_epochs
        return (max_epochs != -1 and epoch >= max_epochs) or self.max_steps_reached()

    def _nothing_left_message(self, ckpt_path) -> str:
        """What a resume with nothing to train says instead of the run summary."""
        cfg, state = self.run_config, self.state
        epoch, _ = state.next_position()
        limit = "max_epochs" if cfg.max_epochs != -1 and epoch >= cfg.max_epochs else "max_steps"
        done = f"{plural(epoch, 'epoch')}, {plural(state.global_step, 'step')}"
        return (f"nothing left to do: {ckpt_path} already completed "
                f"{limit}={getattr(cfg, limit)} ({done}); nothing was trained or written. "
                f"Raise {limit} to train further.")

    @property
    def estimated_stepping_batches(self) -> float:
        """How many optimizer steps this run makes (as Lightning's property of that name): with
        ``limit_train_batches``, ``accumulate_grad_batches``, ``max_epochs`` and ``max_steps``
        applied; ``inf`` when nothing bounds it. Known once the run's data is set up."""
        cfg = self.run_config
        return stepping_batches(self.num_train_batches, cfg.accumulate_grad_batches,
                                cfg.max_epochs, cfg.max_steps)

    def _configure_optimizers(self, module):
        """``module.configure_optimizers()`` with ``module.trainer`` set to this trainer during
        the call, as in Lightning (so a schedule can read ``estimated_stepping_batches``); a
        module that has its own ``trainer`` attribute keeps it."""
        if "trainer" in dir(module):
            return module.configure_optimizers()
        module.trainer = self
        try:
            return module.configure_optimizers()
        finally:
            del module.trainer

    def _callback_list(self, cfg: TrainerConfig) -> list:
        savers = [cb for cb in cfg.callbacks if isinstance(cb, ModelCheckpoint)]
        if savers and not cfg.enable_checkpointing:
            raise ConfigError(
                "a checkpoint callback was given, but enable_checkpointing=False",
                hint="drop the checkpoint callback or set enable_checkpointing=True",
            )
        if savers or not cfg.enable_checkpointing:
            return list(cfg.callbacks)
        # By default: last.ckpt, plus the best by val_loss when there is validation data.
        monitor = "val_loss" if self.has_val_data else None
        default = ModelCheckpoint(monitor=monitor, save_top_k=1 if monitor else 0)
        return [*cfg.callbacks, default]

    def _restore(self, ckpt: dict) -> None:
        check_model_fits(self.module, ckpt["state_dict"])
        self.module.load_state_dict(ckpt["state_dict"])
        self.opt.load_state_dict(ckpt["optimizer"])
        if self.scaler is not None and ckpt["grad_scaler"]:
            self.scaler.load_state_dict(ckpt["grad_scaler"])
        self.state.restore(ckpt, self.device, with_means=self.dist.is_main)
        self.callbacks.load_state_dict(ckpt["callbacks"])

    def _setup_output(self, cfg: TrainerConfig, module) -> None:
        """The run directory, the logger (with hparams and spec text) and the progress display."""
        # a run that logs and saves nothing (fast_dev_run) has no version folder: none is
        # claimed, and the bar shows no v_num
        writes = cfg.logger is not None or self.saver() is not None
        self.run_dir = self.checkpoint_dir = None
        main = self.dist.is_main
        if writes:
            own_dir = getattr(cfg.logger, "log_dir", None)
            root = cfg.default_root_dir or "lightning_logs"
            name = cfg.run_name or type(module).__name__
            # claimed atomically, so that two runs started at once never share one
            run_dir = (own_dir or claim_version_dir(root, name)) if main else ""
            self.run_dir = Path(self.dist.broadcast(str(run_dir)))  # rank 0's, on every rank
            self.checkpoint_dir = self.run_dir / "checkpoints"
        self.logger = build_logger(cfg.logger if main else None, self.run_dir)
        call_logger(self.logger, "set_class_names", getattr(module, "class_names", None))
        call_logger(self.logger, "log_hyperparams", to_safe(dict(_hparams(module))))
        spec = getattr(module, "spec_source", None)
        if spec:
            call_logger(self.logger, "log_text", "spec", spec)
        self.progress = make_progress(cfg.enable_progress_bar and main)
        self.progress.set_context(self.run_dir, self.callbacks.callbacks, self.callback_metrics)

    def _announce(self, ckpt_path, ckpt: dict | None) -> None:
        """Print the model summary and what this run starts from; give one-off hints."""
        if self.run_config.fast_dev_run:
            self.hints.fast_dev_run(self.run_config.fast_dev_run)
        self.hints.check_val_shuffle(self.val_loader)
        if not self.dist.is_main:
            return
        if self.run_config.enable_model_summary:
            print(model_summary(self.module, example_input(self)), flush=True)
        if ckpt is not None:
            epoch, skip = self.state.next_position()
            print(
                f"Resuming from {ckpt_path}: epoch {epoch}, batch {skip}, step {self.global_step}",
                flush=True,
            )
            self._announce_lr()

    def _announce_lr(self) -> None:
        """Say so when the checkpoint's learning rate differs from the one configured now."""
        resumed = base_lrs(self.opt.optimizer)
        if resumed == self.configured_lrs:
            return
        source = "the spec says" if getattr(self.module, "spec_source", None) \
            else "configure_optimizers() sets"
        print(
            f"Resuming with lr {_lrs(resumed)} from the checkpoint; {source} "
            f"{_lrs(self.configured_lrs)} (a resume continues the checkpoint's optimizer; "
            "train without resuming to use the new lr)",
            flush=True,
        )

    def _sanity_check(self) -> None:
        """Run a few validation batches first, so a bug there shows before hours of training."""
        n = self.run_config.num_sanity_val_steps
        if not self.has_val_data or n == 0:
            return
        limit = self.num_val_batches if n == -1 else min(n, self.num_val_batches or n)
        self.state.sanity_checking = True
        try:
            evaluate(self, self.val_loader, "validation_step", limit, "val")
        finally:
            self.state.sanity_checking = False

    def _evaluate_once(self, module, loader_hook: str, step_hook: str, prefix: str) -> dict:
        self._start_run(module, None, Ranks())
        loader = _call(module, loader_hook)
        if loader is None or not callable(getattr(module, step_hook, None)):
            raise ConfigError(f"{prefix} needs module.{loader_hook}() and module.{step_hook}()")
        loader = prepare_loader(loader, self.device, self.precision.input_dtype, self.data_seed)
        limit = self.run_config.fast_dev_run or None
        metrics = evaluate(self, loader, step_hook, limit, prefix)
        if self.run_config.enable_progress_bar:
            print("  ".join(f"{k} {v:.6g}" for k, v in metrics.items()), flush=True)
        return metrics

    # ----------------------------------------------------------------- used by the loop

    def to_device(self, batch, loader):
        """``batch`` on the training device (in-memory loaders already live there)."""
        if isinstance(loader, InMemoryLoader):
            return batch
        non_blocking = pins_memory(loader) and self.device.type == "cuda"
        return move_batch(batch, self.device, self.precision.input_dtype, non_blocking)

    def max_steps_reached(self) -> bool:
        """Whether the optimizer-step budget (``max_steps``) is used up."""
        return self.run_config.max_steps != -1 and self.global_step >= self.run_config.max_steps

    def validation_due(self, batches_done: int, epoch_end: bool) -> bool:
        """Whether to validate now (after ``batches_done`` batches of the current epoch).

        Lightning's schedule: after every ``val_interval``-th batch of an epoch (counted across
        epochs when ``check_val_every_n_epoch`` is None), in the epochs that
        ``check_val_every_n_epoch`` selects. A fraction that does not divide the epoch does not
        add a check at the epoch's end. The last batch's check waits for the epoch end (which
        applies a pending accumulated step first). An epoch cut short by ``max_steps`` or a
        stop request validates its final weights once, if they were not just validated.
        """
        every, state = self.run_config.check_val_every_n_epoch, self.state
        if not self.has_val_data or (every is not None and (state.epoch + 1) % every):
            return False
        total, interval = self.num_train_batches, state.val_interval
        if epoch_end and (not state.epoch_finished or state.should_stop):
            return state.validated_at != (state.epoch, batches_done)
        if interval is None:  # an epoch of unknown length: validate at its end
            return epoch_end
        if not epoch_end and batches_done == total:
            return False
        per_epoch = every is not None or total is None
        count = batches_done if per_epoch else state.epoch * total + batches_done
        return count % interval == 0

    def run_validation(self) -> None:
        """Validate, record ``val_*`` metrics, call ``on_validation_end``."""
        limit = self.num_val_batches
        metrics = evaluate(self, self.val_loader, "validation_step", limit, "val")
        state = self.state
        state.has_validated, state.validated_at = True, (state.epoch, state.batches_done)
        state.epoch_val_metrics = metrics
        self.progress.show_metrics(metrics)
        self.callback_metrics.update(metrics)
        self.record_last_step()  # what a checkpoint or early stopping may monitor
        self._log(metrics)
        if metrics.matrices:
            call_logger(self.logger, "log_matrices", metrics.matrices, self.global_step)
        self.callbacks.call("on_validation_end", self, self.module)

    def log_step(self, outputs: dict) -> None:
        """Log ``train_<name>_step`` for the loss and each metric at this optimizer step."""
        metrics = self._step_metrics(outputs)
        self._log({f"{k}_step": v for k, v in metrics.items()})

    def _step_metrics(self, outputs: dict) -> dict[str, float]:
        """A step's ``train_<name>`` values (means over ranks), recorded in callback_metrics
        under Lightning's two names for them: ``train_<name>`` and ``train_<name>_step``."""
        outputs = materialized(outputs)  # the metrics' batch values are computed here
        metrics = as_floats({f"train_{k}": v for k, v in self.dist.mean(outputs).items()})
        self.callback_metrics.update(metrics)
        self.callback_metrics.update({f"{k}_step": v for k, v in metrics.items()})
        return metrics

    def record_last_step(self) -> None:
        """Put the latest batch's values into callback_metrics (as Lightning has them after
        every batch) where log_every_n_steps skipped them, so that a callback can monitor
        ``train_loss`` or ``train_loss_step`` whatever the logging interval. Called at the
        same points on every rank (the values are means over ranks)."""
        if self.state.last_outputs:
            self._step_metrics(self.state.last_outputs)

    def _log(self, metrics: dict[str, float]) -> None:
        """Send ``metrics`` to the logger as Lightning 2.6 does during fit, so that both
        trainers' dashboards line up: with the ``epoch``, at step ``global_step - 1`` (the
        number of batches that stepped before the current one, Lightning's logging step)."""
        metrics = {**metrics, "epoch": self.current_epoch}
        call_logger(self.logger, "log_metrics", metrics, max(self.global_step - 1, 0))

    def log_epoch(self) -> None:
        """Log the epoch's weighted training means (``train_loss_epoch``, ...); afterwards
        ``train_loss`` in callback_metrics is the epoch's mean too, as in Lightning."""
        self.record_last_step()
        means = self.dist.reduce_means(self.state.train_means)
        values = {f"train_{k}": v for k, v in means.compute().items()}
        metrics = {f"{k}_epoch": v for k, v in values.items()}
        self.callback_metrics.update({**values, **metrics})
        self._log(metrics)
        if means.matrices:
            matrices = {f"train_{k}_epoch": v for k, v in means.matrices.items()}
            call_logger(self.logger, "log_matrices", matrices, self.global_step)
        call_logger(self.logger, "save")
        shown = {**metrics, **self.state.epoch_val_metrics}
        self.state.history.append({"epoch": self.current_epoch, **shown})
        self.progress.end_epoch(shown)

    def checkpoint_state(self) -> dict:
        """Everything a resume needs, in types ``torch.load(weights_only=True)`` accepts."""
        loop = self.state.checkpoint_entries(
            self.dist.reduce_means(self.state.train_means).state_dict())
        loop["loop"].update(data_seed=self.data_seed, world_size=self.dist.ranks.world_size)
        optimizer = self.opt.state_dict()
        return {
            "format": FORMAT,
            "state_dict": self.module.state_dict(),
            "optimizer": optimizer,
            "grad_scaler": self.scaler.state_dict() if self.scaler is not None else None,
            **loop,
            "callbacks": self.callbacks.state_dict(),
            "hparams": to_safe(dict(_hparams(self.module))),
            "spec_source": getattr(self.module, "spec_source", None),
            "precision": self.precision.name,
            # what Lightning's load_from_checkpoint and fit(ckpt_path=...) read
            **lightning_entries(loop["loop"], optimizer, to_safe(_init_hparams(self.module))),
        }

    def saver(self) -> ModelCheckpoint | None:
        """The first checkpoint callback of this run, if checkpointing is on."""
        found = [cb for cb in self.callbacks.callbacks if isinstance(cb, ModelCheckpoint)]
        return found[0] if found else None

    def kept_ckpt(self) -> str | None:
        """The newest checkpoint file on disk (what a NaN stop leaves to resume from)."""
        saver = self.saver()
        path = saver.last_model_path or saver.best_model_path if saver else ""
        return path if path and Path(path).is_file() else None

    def save_interrupt_checkpoint(self) -> None:
        """After Ctrl-C: save ``last.ckpt`` at the current (consistent) position and stop."""
        self.state.interrupted = True
        self.progress.close()  # the bar stays where Ctrl-C stopped it; the message goes below
        saver = self.saver()
        if saver is None:
            if self.dist.is_main:
                print("Interrupted; checkpointing is off, so nothing was saved.", flush=True)
            return
        path = saver.directory(self) / "last.ckpt"
        saver.last_model_path = str(path)
        self.save_checkpoint(path)
        epoch, skip = self.state.next_position()
        how = self.resume_command or f"fit(module, ckpt_path={str(path)!r})"
        if self.dist.is_main:
            print(f"Interrupted: saved {path} (resumes at epoch {epoch}, batch {skip}); "
                  f"continue with {how}", flush=True)


def base_lrs(optimizer: torch.optim.Optimizer) -> list[float]:
    """Each parameter group's base learning rate: the one a scheduler started from, else the
    current one."""
    return [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]


def _lrs(values: list[float]) -> str:
    return f"{values[0]:g}" if len(set(values)) == 1 else ", ".join(f"{v:g}" for v in values)


def _abort_message(abort: KeyboardInterrupt, kept: str | None) -> str:
    """What a second Ctrl-C left on disk (an interrupted save leaves the old file intact)."""
    if isinstance(abort, SaveInterrupted):
        left = (f"{abort.path} is the previous complete checkpoint" if abort.path.is_file()
                else f"{abort.path} was not written")
        return f"Aborted while saving a checkpoint: {left}; nothing else was saved."
    return f"Aborted: nothing saved since the last checkpoint ({kept or 'none'})."


def _hparams(module) -> dict:
    hparams = getattr(module, "hparams", None)
    return dict(hparams) if hparams else {}


def _init_hparams(module) -> dict:
    """The module's constructor arguments (Lightning's ``hparams_initial``), else its hparams."""
    initial = getattr(module, "hparams_initial", None)
    return dict(initial) if initial is not None else _hparams(module)

"""The settings of a ``train`` block, with PyTorch Lightning's names, plus its callbacks,
loggers and tuning statements."""

from __future__ import annotations

from ..run_settings import PRECISIONS, SHORT_PRECISIONS
from .registry import Arg, entry
from .types import Bool, Choice, Float, Int, ListOf, OneOf, Ref, Str, VocabRef, optional

BATCHES = OneOf(Int(ge=0), Float(ge=0, le=1))
# Lightning's seed_everything takes seeds in [0, 2**32 - 1] (NumPy's seed range).
SEED = Int(ge=0, le=2**32 - 1)

entry("settings", "train",
      Arg("model", Ref("model")), Arg("data", Ref("data")), Arg("loss", VocabRef("loss")),
      Arg("optimizer", VocabRef("optimizer"), None, "default: adam()"),
      Arg("scheduler", optional(VocabRef("scheduler")), None),
      Arg("metrics", ListOf(VocabRef("metric")), []),
      Arg("callbacks", ListOf(VocabRef("callback")), []),
      Arg("logger", optional(VocabRef("logger")), "tensorboard", "tensorboard, csv or none"),
      Arg("max_epochs", optional(OneOf(Int(ge=1), Choice("-1"))), None,
          "default 1000 as in Lightning; -1 runs until max_steps"),
      Arg("max_steps", Int(ge=-1), -1), Arg("fast_dev_run", OneOf(Bool(), Int(ge=0)), False),
      Arg("limit_train_batches", BATCHES, 1.0), Arg("limit_val_batches", BATCHES, 1.0),
      Arg("num_sanity_val_steps", Int(ge=-1), 2),
      Arg("check_val_every_n_epoch", optional(Int(ge=1)), 1),
      Arg("val_check_interval", OneOf(Int(ge=1), Float(gt=0, le=1)), 1.0),
      Arg("accumulate_grad_batches", Int(ge=1), 1),
      Arg("gradient_clip_val", optional(Float(ge=0)), None),
      Arg("gradient_clip_algorithm", Choice("norm", "value"), "norm"),
      Arg("deterministic", Bool(), False), Arg("seed", optional(SEED), None),
      Arg("accelerator", Choice("auto", "cpu", "gpu", "cuda", "mps"), "auto"),
      Arg("devices", OneOf(Int(ge=1), Choice("auto")), "auto"),
      Arg("strategy", Choice("auto", "ddp"), "auto"), Arg("num_nodes", Int(ge=1), 1),
      Arg("precision", Choice(*PRECISIONS, *SHORT_PRECISIONS), "32-true"),
      Arg("log_every_n_steps", Int(ge=1), 50), Arg("enable_progress_bar", Bool(), True),
      Arg("enable_model_summary", Bool(), True), Arg("enable_checkpointing", Bool(), True),
      Arg("default_root_dir", optional(Str()), None),
      Arg("device_stats", Bool(), False,
          "log GPU memory (CUDA) or CPU and memory use (psutil) every log_every_n_steps steps, "
          "as Lightning's DeviceStatsMonitor"),
      doc="settings of a train block")

entry("callback", "early_stopping", Arg("monitor", Str(), "val_loss"),
      Arg("patience", Int(ge=1), 3), Arg("mode", Choice("min", "max"), "min"),
      Arg("min_delta", Float(ge=0), 0.0), target="lightdsl.trainer.callbacks.EarlyStopping",
      doc="stop when the monitored metric stops improving", aliases=("earlystopping",))
entry("callback", "checkpoint", Arg("monitor", optional(Str()), None),
      Arg("mode", Choice("min", "max"), "min"), Arg("save_top_k", Int(ge=-1), 1),
      Arg("save_last", Bool(), True), target="lightdsl.trainer.callbacks.ModelCheckpoint",
      doc="keep last.ckpt and the best checkpoints by a monitored metric",
      aliases=("modelcheckpoint",))
entry("logger", "tensorboard", Arg("save_dir", Str(), "lightning_logs"),
      Arg("name", optional(Str()), None), target="lightdsl.trainer.loggers.TensorBoardLogger",
      doc="TensorBoard event files in save_dir/name/version_N")
entry("logger", "csv", Arg("save_dir", Str(), "lightning_logs"), Arg("name", optional(Str()), None),
      target="lightdsl.trainer.loggers.CSVLogger", doc="metrics.csv in save_dir/name/version_N")
entry("statement", "lr_find", Arg("min_lr", Float(gt=0), 1e-8), Arg("max_lr", Float(gt=0), 1.0),
      Arg("num_training", Int(ge=2), 100), Arg("mode", Choice("exponential", "linear"),
                                               "exponential"),
      Arg("early_stop_threshold", optional(Float(gt=0)), 4.0),
      Arg("suggestion", Choice("steepest", "valley", "minimum/10"), "steepest",
          "steepest: Lightning's steepest slope; valley, minimum/10: fastai's rules"),
      target="lightdsl.tuner.lr_find",
      validate=lambda a: [("max_lr", "max_lr must be larger than min_lr")]
      if a.get("max_lr", 1) <= a.get("min_lr", 0) else [],
      doc="run the learning-rate finder before fitting and train with its suggestion")

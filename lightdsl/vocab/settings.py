"""The settings of a ``train`` block, with PyTorch Lightning's names, plus its callbacks,
loggers and tuning statements."""

from __future__ import annotations

from .. import run_settings as rs
from .registry import Arg, entry
from .types import (
    Bool,
    Choice,
    Float,
    Int,
    ListOf,
    NoneValue,
    OneOf,
    Ref,
    Str,
    Type,
    VocabRef,
    optional,
)

# How each rule of lightdsl.run_settings reads as a checker type (what `lightdsl check` says).
_TYPES = {
    rs.Flag: lambda r: Bool(),
    rs.Choice: lambda r: Choice(*r.options),
    rs.PrecisionName: lambda r: Choice(*rs.PRECISIONS, *rs.SHORT_PRECISIONS),
    rs.Batches: lambda r: OneOf(Int(ge=0), Float(ge=0, le=1)),
    rs.Interval: lambda r: OneOf(Int(ge=1), Float(gt=0, le=1)),
    rs.DevRun: lambda r: OneOf(Bool(), Int(ge=0)),
    rs.Devices: lambda r: OneOf(Int(ge=1), Choice("auto")),
    rs.Threshold: lambda r: Float(ge=0),
    rs.Folder: lambda r: Str(),
    rs.Maybe: lambda r: optional(setting_type(r.rule)),
    rs.CompileRule: lambda r: Bool(),  # `compile = true`; the compile(...) statement says how
}


def setting_type(rule: rs.Rule) -> Type:
    """The checker's type for a trainer setting's rule."""
    if isinstance(rule, rs.Count):
        number = Int(ge=rule.minimum, le=rule.maximum)
        return OneOf(number, Choice(str(rs.UNBOUNDED))) if rule.unbounded else number
    return _TYPES[type(rule)](rule)


def _setting_args() -> list[Arg]:
    return [Arg(s.name, setting_type(s.rule), s.default, s.doc)
            for s in rs.SETTINGS_TABLE if s.spec]


entry("settings", "train",
      Arg("model", Ref("model")), Arg("data", Ref("data")), Arg("loss", VocabRef("loss")),
      Arg("optimizer", VocabRef("optimizer"), None, "default: adam()"),
      Arg("scheduler", optional(VocabRef("scheduler")), None),
      Arg("metrics", ListOf(VocabRef("metric")), []),
      Arg("callbacks", ListOf(VocabRef("callback")), []),
      Arg("logger", OneOf(VocabRef("logger"), ListOf(VocabRef("logger")), NoneValue()),
          rs.SETTING["logger"].default, rs.SETTING["logger"].doc),
      Arg("init", optional(VocabRef("init")), None,
          "a warm start: weights(\"file\") loads the model's tensors (not a resume)"),
      *_setting_args(), doc="settings of a train block")

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
# A logger is one entry: its target is built with log_dir=<the run folder> and the arguments
# other than save_dir and name (those choose the one run folder all loggers share).
entry("logger", "mlflow",
      Arg("experiment_name", optional(Str()), None, "default: the run folder's name"),
      Arg("run_name", optional(Str()), None, "default: version_N, the run's folder"),
      Arg("tracking_uri", optional(Str()), None,
          "a server (http://host:5000) or store; default: $MLFLOW_TRACKING_URI, else the "
          "local store mlruns/ beside the log root (SQLite: mlruns/mlflow.db)"),
      Arg("log_model", Bool(), True, "log the best checkpoint (else last.ckpt) as an artifact"),
      target="lightdsl.trainer.mlflow_logger.MLflowLogger", needs_package=("mlflow", "mlflow"),
      doc="an MLflow run: params, metrics, the spec and the best checkpoint (extra: mlflow)")
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
entry("statement", "compile", Arg("mode", Choice(*rs.COMPILE_MODES), "default",
                                  "torch.compile's mode"),
      Arg("dynamic", optional(Bool()), None,
          "none: torch decides (dynamic once sizes change); true or false: always or never"),
      target="torch.compile",
      doc="compile the model's forward with torch.compile for training (as compile = true, "
      "with torch.compile's options)")

# ---- fine-tuning: warm starts and unfreezing (lightdsl.checker.finetune) ----
entry("init", "weights", Arg("path", Str()), Arg("strict", Bool(), False),
      Arg("map", ListOf(ListOf(Str(), length=2)), [],
          "prefix renames of the file's names: [[\"encoder.\", \"backbone.\"]]"),
      target="lightdsl.compile.warmstart.load_weights",
      doc="load a lightdsl or Lightning .ckpt, a state_dict .pt or a .safetensors file")
entry("statement", "unfreeze", Arg("part", Str(), doc="a frozen named layer of the model"),
      Arg("at_epoch", Int(ge=0)), Arg("lr", optional(Float(gt=0)), None,
                                       "default: the optimizer's lr times the part's lr_mult"),
      target="lightdsl.trainer.finetuning.Unfreeze",
      doc="train a frozen part from an epoch on, as Lightning's BackboneFinetuning")

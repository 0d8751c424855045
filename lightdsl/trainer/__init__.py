"""lightdsl's trainer: trains any LightningModule-style ``torch.nn.Module``.

It knows nothing about the .lit language. A module provides ``training_step(batch, batch_idx)``
(a loss tensor, or a dict with ``"loss"`` and other scalars), ``configure_optimizers()``,
``train_dataloader()`` and optionally ``validation_step``/``val_dataloader``, ``test_step``/
``test_dataloader``, ``predict_step``, ``hparams``, ``spec_source`` and ``example_input_array``.

    from lightdsl.trainer import Trainer, InMemoryLoader, EarlyStopping, ModelCheckpoint
    result = Trainer(max_epochs=4, seed=0).fit(module)
    Trainer(max_epochs=8).fit(module, ckpt_path=result.last_checkpoint)   # continues exactly
"""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import atomic_save, load_checkpoint, load_weights_checkpoint
from .config import PRECISIONS, TrainerConfig
from .data import InMemoryLoader
from .device_stats import DeviceStatsMonitor
from .devices import Precision, resolve_device, resolve_precision, seed_everything
from .loggers import CSVLogger, Logger, TensorBoardLogger
from .result import FitResult
from .trainer import Trainer

__all__ = [
    "PRECISIONS",
    "CSVLogger",
    "Callback",
    "DeviceStatsMonitor",
    "EarlyStopping",
    "FitResult",
    "InMemoryLoader",
    "Logger",
    "ModelCheckpoint",
    "Precision",
    "TensorBoardLogger",
    "Trainer",
    "TrainerConfig",
    "atomic_save",
    "load_checkpoint",
    "load_weights_checkpoint",
    "resolve_device",
    "resolve_precision",
    "seed_everything",
]

"""Other libraries' names for lightdsl's words (Keras, PyTorch, scikit-learn), offered as
"did you mean" when a spec uses one. Names that differ only in case or by a close spelling
(``ReLU``, ``Conv2d``, ``BatchNorm2d``, ``LeakyReLU``) need no entry here: the suggestion
compares names ignoring case. Aliases are compared ignoring case too."""

from . import data, layers, settings, training  # noqa: F401  (the entries named below)
from .registry import REGISTRY

for _kind, _name, _others in [
    ("layer", "linear", ("dense", "fc", "fully_connected")),
    ("layer", "conv2d", ("conv", "convolution2d")),
    ("layer", "conv1d", ("convolution1d",)),
    ("layer", "batchnorm1d", ("batchnorm", "batchnormalization", "batch_normalization")),
    ("layer", "layernorm", ("layernormalization", "layer_normalization")),
    ("layer", "maxpool2d", ("maxpooling2d", "max_pooling2d")),
    ("layer", "avgpool2d", ("averagepooling2d", "average_pooling2d", "avgpooling2d")),
    ("layer", "adaptive_avgpool2d", ("globalaveragepooling2d", "global_average_pooling2d")),
    ("layer", "multihead_attention", ("multiheadattention", "attention")),
    ("loss", "mse", ("mean_squared_error", "mse_loss", "mseloss")),
    ("loss", "l1", ("mean_absolute_error", "mae", "l1_loss", "l1loss")),
    ("loss", "cross_entropy", ("crossentropy", "categorical_crossentropy",
                               "sparse_categorical_crossentropy", "crossentropyloss")),
    ("loss", "bce", ("binary_cross_entropy", "binary_crossentropy", "bceloss")),
    ("loss", "bce_with_logits", ("bcewithlogitsloss", "binary_cross_entropy_with_logits")),
    ("loss", "nll", ("nll_loss", "nllloss")),
    ("loss", "sum_squared_error", ("sse",)),
    ("optimizer", "adamw", ("adam_w",)),
    ("scheduler", "cosine", ("cosineannealinglr", "cosine_annealing", "cosinedecay")),
    ("scheduler", "step", ("steplr",)),
    ("scheduler", "onecycle", ("onecyclelr",)),
    ("callback", "early_stopping", ("earlystopping",)),
    ("callback", "checkpoint", ("modelcheckpoint",)),
]:
    REGISTRY.alias(_kind, _name, *_others)

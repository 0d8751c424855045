"""Using a trained checkpoint: ``predict`` on new inputs, ``evaluate`` its metrics, ``export`` it
as TorchScript, a ``torch.export`` program or ONNX.

Each starts from a spec and a checkpoint (:func:`load_trained`): the spec rebuilds the module and
its data pipeline (the fitted transforms and class names), the checkpoint gives the weights.

    trained = load_trained("specs/iris_csv.lit", "last")
    table = predict_file(trained, "new.csv")          # class names restored
    metrics = evaluate(trained)                       # {"val": {"loss": ..., "accuracy": ...}}
    export(trained, "torchscript", "model.ts")        # checked against the checkpoint
"""

from .evaluation import evaluate
from .exporting import FORMATS, export
from .loading import Trained, load_trained
from .prediction import Predictions, predict, predict_file

__all__ = [
    "FORMATS",
    "Predictions",
    "Trained",
    "evaluate",
    "export",
    "load_trained",
    "predict",
    "predict_file",
]

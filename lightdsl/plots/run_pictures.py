"""The pictures ``lightdsl train`` leaves in a run's directory after training."""

from __future__ import annotations

from pathlib import Path

from ..errors import LightdslError
from .response import is_scalar_model


def response_labels(run, state: str) -> dict[str, str]:
    """Title (the model's name and ``state``) and x label (forward's input name)."""
    forwards = run.model.node.forwards
    xlabel = forwards[0].inputs[0].id if forwards and forwards[0].inputs else "input"
    return {"title": f"{run.model.name} ({state})", "xlabel": xlabel}


def run_directory(result) -> Path | None:
    """Where a finished run's files are: its log directory, else its checkpoints' parent."""
    if result.log_dir:
        return Path(result.log_dir)
    if result.checkpoint_dir:
        return Path(result.checkpoint_dir).parent
    return None


def write_run_pictures(experiment, result) -> list[str]:
    """For a model with one input and one output, its response over the training inputs'
    range as ``response.png``; with TensorBoard logs, the model graph. Returns the paths; a
    missing matplotlib is a printed note, never a failure."""
    directory = run_directory(result)
    if directory is None:
        return []
    module, run = experiment.module, experiment.run
    written: list[str] = []
    if run.data is not None and is_scalar_model(run.data.sample_shape, run.output_shape):
        written += _response(experiment, directory)
    if any(directory.glob("events.out.tfevents.*")):
        from .tensorboard import add_model_graph

        add_model_graph(directory, module, getattr(module, "example_input_array", None))
    return written


def _response(experiment, directory: Path) -> list[str]:
    from . import plot_response

    inputs = experiment.data.train.inputs
    low, high = float(inputs.min()), float(inputs.max())
    if not low < high:
        low, high = low - 1.0, high + 1.0
    try:
        paths = plot_response(experiment.module, experiment.data, low, high,
                              directory / "response.png", **response_labels(experiment.run,
                                                                            "trained"))
    except LightdslError as error:
        print(f"  response plot not drawn: {error}", flush=True)
        return []
    for path in paths:
        print(f"  response plot: {path}", flush=True)
    return paths

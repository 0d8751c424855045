"""``lightdsl plot``: pictures of a run or a model.

    lightdsl plot lightning_logs/statquest/version_0          # loss and metric curves
    lightdsl plot specs/statquest.lit --ckpt last --range 0:1 # a 1-in/1-out model's response
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..outputs import check_file
from ._args import add_spec_arguments, add_trial_arguments, experiment_from_args


def register(commands) -> None:
    parser = commands.add_parser(
        "plot", help="draw a run's curves, or a 1-input 1-output model's response",
        description="A run directory: its loss and metric curves (from metrics.csv or "
        "TensorBoard events). A spec: the model's output over --range with the training "
        "points (for models with one input and one output).")
    add_spec_arguments(parser)
    add_trial_arguments(parser)
    parser.set_defaults(run=run)
    parser.add_argument("--ckpt", metavar="last|best|PATH", help="weights from a checkpoint "
                        "(`last`/`best`: as for evaluate); default: the spec's initial "
                        "weights")
    parser.add_argument("--range", dest="value_range", metavar="START:END",
                        help="input range of the response plot (default: the training inputs')")
    parser.add_argument("-o", "--output", metavar="PATH", help="the picture's file (.png or "
                        ".svg)")
    parser.add_argument("--svg", action="store_true", help="also write an SVG")


def parse_range(text: str) -> tuple[float, float]:
    """``"0:1"`` -> ``(0.0, 1.0)``; a UsageError for anything else."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(f"--range {text}: expected START:END, e.g. --range 0:1") from None
    if not low < high:
        raise UsageError(f"--range {text}: START must be below END")
    return low, high


def run(args) -> int:
    formats = ("png", "svg") if args.svg else ("png",)
    if args.output:  # before reading logs or building a model
        check_file(args.output, "-o")
    target = args.spec
    if os.path.isdir(target):
        if args.ckpt or args.value_range or args.trial is not None:
            raise UsageError("--ckpt, --range and --trial apply to a spec, not to a run "
                             "directory")
        from ..plots import plot_run
        from ..plots.curves import resolve_run_dir

        run_dir = resolve_run_dir(target)
        print(describe_run_dir(target, run_dir))
        _report(plot_run(run_dir, args.output, formats))
        return 0
    if not os.path.isfile(target):
        raise UsageError(f"{target}: no such file or directory",
                         hint="give a run directory (lightning_logs/<run>/version_N) or a spec")
    if not target.endswith(".lit"):
        raise UsageError(f"{target}: expected a run directory or a .lit spec")
    return _plot_spec(args, formats)


def describe_run_dir(given: str, run_dir) -> str:
    """Which logs are plotted, and how to plot another version."""
    from ..plots.curves import log_versions

    if os.path.samefile(given, run_dir):
        return f"plotting the logs in {run_dir}"
    versions = log_versions(given)
    among = (f"the newest of {len(versions)} versions with logs" if len(versions) > 1
             else "the only version with logs")
    return (f"plotting {run_dir} ({among}; give {os.path.join(given, 'version_N')} for "
            "another)")


def _plot_spec(args, formats) -> int:
    from ..plots import plot_response
    from ..plots.response import is_scalar_model

    low_high = parse_range(args.value_range) if args.value_range else None
    experiment = experiment_from_args(args)
    run = experiment.run
    if not is_scalar_model(run.data.sample_shape, run.output_shape):
        curves = (f"lightdsl plot {experiment.run_folder}" if experiment.run_folder
                  else "give its log directory instead")
        raise UsageError(f"the response plot needs a model with one input and one output; "
                         f"{run.model.name} maps {_shape(run.data.sample_shape)} to "
                         f"{_shape(run.output_shape[1:] if run.output_shape else None)}",
                         hint=f"for a run's curves: {curves}")
    ckpt_path = experiment.checkpoint_path(args.ckpt) if args.ckpt else None
    if ckpt_path:
        from ..deploy.loading import load_weights

        load_weights(experiment, ckpt_path)
    low, high = low_high or _data_range(experiment)
    output = args.output or _default_output(args.spec, ckpt_path)
    what = f"weights from {ckpt_path}" if ckpt_path else "the spec's initial weights"
    print(f"response of {run.model.name} over [{low:g}, {high:g}], {what}")
    from ..plots.run_pictures import response_labels

    labels = response_labels(run, "trained" if ckpt_path else "initial weights")
    _report(plot_response(experiment.module, experiment.data, low, high, output, formats,
                          **labels))
    return 0


def _shape(shape) -> str:
    return "?" if shape is None else str(tuple("N" if d is None else d for d in shape))


def _data_range(experiment) -> tuple[float, float]:
    inputs = experiment.data.train.inputs
    low, high = float(inputs.min()), float(inputs.max())
    return (low, high) if low < high else (low - 1.0, high + 1.0)


def _default_output(spec: str, ckpt_path: str | None) -> str:
    if ckpt_path:  # <version_dir>/checkpoints/last.ckpt -> <version_dir>/response.png
        return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(ckpt_path))),
                            "response.png")
    return os.path.splitext(os.path.basename(spec))[0] + "_response.png"


def _report(paths: list[str]) -> None:
    for path in paths:
        print(f"wrote {path}")

"""``lightdsl lr-find spec.lit``: run the learning-rate finder alone and print its suggestion.

The search uses the spec's ``lr_find(...)`` arguments (Lightning's defaults if it has none),
with the options below on top; the curve is written as a PNG (``--svg`` adds an SVG). It runs
``num_training`` optimizer steps whatever the spec's ``max_epochs`` (as many epochs as needed)
and prints why it ended. Exit 0 with a suggestion, 1 without one, 130 after Ctrl-C.
"""

from __future__ import annotations

from ..errors import UsageError
from ..interrupts import remembering
from ._args import add_spec_arguments


def register(commands) -> None:
    parser = commands.add_parser("lr-find", help="run the learning-rate finder and print its "
                                 "suggestion", description=__doc__.split("\n\n")[0])
    add_spec_arguments(parser)
    parser.add_argument("--min-lr", type=float, metavar="LR", help="smallest lr tried")
    parser.add_argument("--max-lr", type=float, metavar="LR", help="largest lr tried")
    parser.add_argument("--num-training", type=int, metavar="N", help="steps (candidates)")
    parser.add_argument("--mode", choices=("exponential", "linear"), help="lr spacing")
    parser.add_argument("--early-stop-threshold", metavar="X|none",
                        help="stop when the loss exceeds X times the best; none disables")
    parser.add_argument("--suggestion", choices=("steepest", "valley", "minimum/10"),
                        help="the rule that picks the lr: steepest (Lightning's, the default), "
                        "valley or minimum/10 (fastai's)")
    parser.add_argument("-o", "--output", metavar="PATH", help="the curve's file (default: "
                        "<log root>/<run>/lr_find.png)")
    parser.add_argument("--svg", action="store_true", help="also write the curve as SVG")
    parser.set_defaults(run=run)


def _options(args) -> dict:
    options = {}
    for key in ("min_lr", "max_lr", "num_training", "mode", "suggestion"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    threshold = args.early_stop_threshold
    if threshold is not None:
        if threshold.lower() == "none":
            options["early_stop_threshold"] = None
        else:
            try:
                options["early_stop_threshold"] = float(threshold)
            except ValueError:
                raise UsageError(f"--early-stop-threshold {threshold}: expected a number or "
                                 "none") from None
    return options


def default_output(experiment, name: str) -> str:
    """``<default_root_dir or lightning_logs>/<run folder>/<name>``."""
    import os

    kwargs = experiment.trainer_kwargs()
    root = kwargs.get("default_root_dir") or "lightning_logs"
    return os.path.join(str(root), kwargs["run_name"], name)


@remembering  # a Ctrl-C that code swallows in set-up still stops the run before training
def run(args) -> int:
    from ..api import load
    from ..errors import LightdslError
    from ..outputs import check_file
    from ..tuner import lr_find
    from ..tuner.experiment import report_suggestion

    experiment = load(args.spec, args.run_name, args.overrides)
    experiment.require_training("lr-find")
    bound = experiment.run.lr_find
    options = {**(dict(bound.values) if bound is not None else {}), **_options(args)}
    output = args.output or default_output(experiment, "lr_find.png")
    check_file(output, "-o" if args.output else None)  # before the search, not after it
    print(f"lightdsl: lr_find on run {experiment.name!r} of {args.spec}", flush=True)
    result = lr_find(experiment.module, experiment.trainer_kwargs(), **options)
    suggestion = report_suggestion(result, experiment.module.learning_rate)
    try:
        for path in result.plot(output, formats=("png", "svg") if args.svg else ("png",)):
            print(f"lr_find: curve written to {path}")
    except LightdslError as error:
        print(f"lr_find: curve not drawn: {error}")
    if result.stop_reason == "interrupted":
        return 130
    return 0 if suggestion is not None else 1

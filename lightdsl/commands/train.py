"""``lightdsl train spec.lit``: check, build and train one run of a spec."""

from __future__ import annotations

import shlex
import sys

from ..interrupts import remembering
from ._args import add_spec_arguments

# Shortcut options and the train setting each one sets.
SHORTCUTS = {"max_epochs": "--max-epochs", "max_steps": "--max-steps",
             "accelerator": "--accelerator", "devices": "--devices",
             "strategy": "--strategy", "num_nodes": "--num-nodes",
             "precision": "--precision", "seed": "--seed",
             "default_root_dir": "--default-root-dir"}


def register(commands) -> None:
    parser = commands.add_parser("train", help="train a run of a spec",
                                 description="Check a spec, build its model and data, and "
                                 "train with lightdsl's trainer.")
    add_spec_arguments(parser)
    for setting, flag in SHORTCUTS.items():
        parser.add_argument(flag, dest=setting, metavar="VALUE", help=f"same as --set "
                            f"train.{setting}=VALUE")
    parser.add_argument("--fast-dev-run", nargs="?", const="true", default=None, metavar="N",
                        help="run 1 (or N) train and val batches; nothing is logged or saved")
    parser.add_argument("--resume", metavar="last|best|PATH",
                        help="continue from a checkpoint: `last` is the last.ckpt of the "
                        "newest version of this run's log folder that has one; `best` the "
                        "best checkpoint that version recorded")
    parser.set_defaults(run=run)


def collect_overrides(args) -> list[tuple[str, str]]:
    """--set values plus the shortcut options, as (KEY=VALUE, the option as written) pairs."""
    overrides = [(text, f"--set {text}") for text in args.overrides]
    for setting, flag in SHORTCUTS.items():
        value = getattr(args, setting)
        if value is not None:
            text = value if setting in NUMERIC else _as_value(value, quote=setting in QUOTED)
            overrides.append((f"train.{setting}={text}", f"{flag} {value}"))
    if args.fast_dev_run is not None:
        overrides.append((f"train.fast_dev_run={args.fast_dev_run}",
                          f"--fast-dev-run {args.fast_dev_run}"))
    return overrides


QUOTED = {"default_root_dir"}  # paths: always strings, even when they look like names
# numbers: passed as written (`--seed 2**70`), so that check judges them as it judges
# `--set train.seed=2**70`, never as a quoted string
NUMERIC = {"max_epochs", "max_steps", "seed", "num_nodes"}


def resume_command(args) -> str:
    """The command that continues this run from the last.ckpt a Ctrl-C saves: the same spec,
    run and settings, with ``--resume last`` (the newest version's last.ckpt: this run's)."""
    words = ["lightdsl", "train", args.spec]
    if args.run_name:
        words += ["--run", args.run_name]
    for text in args.overrides:
        words += ["--set", text]
    for setting, flag in SHORTCUTS.items():
        if getattr(args, setting) is not None:
            words += [flag, getattr(args, setting)]
    return shlex.join([*words, "--resume", "last"])


def _as_value(text: str, quote: bool = False) -> str:
    """Shortcut values are words or numbers; quote anything else so it parses as a string."""
    stripped = text.strip()
    if not quote and (stripped.replace(".", "", 1).replace("-", "", 1).isdigit()
                      or stripped.isidentifier()):
        return stripped
    return repr(stripped)


@remembering  # a Ctrl-C that code swallows in set-up still stops the run before training
def run(args) -> int:
    from ..api import load
    from ..trainer.distributed import is_rank_zero

    experiment = load(args.spec, args.run_name, collect_overrides(args))
    experiment.require_training("train")
    ckpt = (experiment.checkpoint_path(args.resume, "--resume", announce=is_rank_zero())
            if args.resume else None)
    if is_rank_zero():  # under DDP (torchrun or --devices N) only rank 0 prints
        print(f"lightdsl: training run {experiment.name!r} of {args.spec}", flush=True)
    result = experiment.fit(ckpt_path=ckpt, resume_command=resume_command(args))
    if not is_rank_zero():
        return 130 if result.interrupted else 0
    _print_outcome(experiment, result)
    from ..plots.run_pictures import write_run_pictures

    write_run_pictures(experiment, result)
    return 130 if result.interrupted else 0


def _print_outcome(experiment, result) -> None:
    """The learning rate used and, for small models, every parameter's final value (the lines
    a generated torch script ends with too: lightdsl.runtime.runs)."""
    from ..runtime.runs import parameter_lines

    module = experiment.module
    lr = result.learning_rate  # the optimizer's: a resumed run trains with the checkpoint's
    print(f"  learning rate: {module.learning_rate if lr is None else lr}")
    for line in parameter_lines(module):
        print(line)
    sys.stdout.flush()

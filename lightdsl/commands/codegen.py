"""``lightdsl codegen spec.lit``: standalone Python (plain PyTorch or Lightning) from a spec."""

from __future__ import annotations

import os
import sys

from ..errors import UsageError
from ..outputs import write_text
from ._args import add_trial_arguments, trial_from_args


def register(commands) -> None:
    parser = commands.add_parser("codegen", help="generate a standalone Python script",
                                 description="Write one run of a spec as readable Python: plain "
                                 "PyTorch (model, data, training loop) or pytorch-lightning "
                                 "(LightningModule, DataModule, Trainer). Torch is not needed "
                                 "to generate.")
    parser.add_argument("spec", help="the .lit file")
    parser.add_argument("--run", dest="run_name", help="which train block (when the spec has "
                        "several)")
    parser.add_argument("--target", choices=["torch", "lightning"], default="torch",
                        help="torch (default): needs only torch; lightning: pytorch-lightning")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout "
                        "(`-o -`: stdout); the script reads the data's relative paths from "
                        "the spec's folder as seen from FILE's folder (from the current "
                        "folder when it goes to stdout)")
    add_trial_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..codegen import generate, generate_file

    if not os.path.isfile(args.spec):
        raise UsageError(f"{args.spec}: no such file")
    output = None if args.output == "-" else args.output
    trial = trial_from_args(args)
    code = (generate_file(args.spec, args.run_name, args.target, output) if trial is None
            else generate(trial.analysis, trial.run, args.target, output))
    for note in code.notes:
        print(f"warning: {args.spec}: the {code.target} script does not reproduce {note}",
              file=sys.stderr)
    if output is None:
        sys.stdout.write(code.text)
        return 0
    write_text(args.output, code.text, "-o")
    print(f"wrote {args.output} (run {code.run!r}, target {code.target})", file=sys.stderr)
    return 0

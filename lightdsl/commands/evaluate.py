"""``lightdsl evaluate spec.lit --ckpt PATH``: a checkpoint's loss and metrics on the spec's
validation and test data, as a table (or JSON)."""

from __future__ import annotations

import sys

from ..outputs import write_text
from ._args import add_checkpoint_args, load_from_args


def register(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="a checkpoint's metrics on the validation and test data",
        description="Evaluate a checkpoint on the spec's validation and test data (its training "
        "data when it has neither): loss and metrics, as weighted means over samples.")
    add_checkpoint_args(parser)
    parser.add_argument("--split", action="append", choices=["val", "test", "train"],
                        help="which data (repeatable; default: val and test)")
    parser.add_argument("--format", choices=["table", "json"], default="table",
                        help="what to print (default: table)")
    parser.add_argument("--json", dest="json_path", metavar="FILE",
                        help="also write the metrics as JSON to FILE")
    parser.add_argument("--accelerator", default="cpu", help="cpu (default), gpu, auto, ...")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..deploy import evaluate
    from ..deploy.evaluation import format_table, to_json

    trained = load_from_args(args)
    results = evaluate(trained, args.split, args.accelerator)
    if args.split is None and list(results) == ["train"]:
        print(f"note: {args.spec} has no val or test data; these are training-data metrics",
              file=sys.stderr)
    text = to_json(results, str(trained.checkpoint), args.spec, trained.classes)
    print(text if args.format == "json" else format_table(results, trained.classes))
    if args.json_path:
        write_text(args.json_path, text + "\n", "--json")
    return 0

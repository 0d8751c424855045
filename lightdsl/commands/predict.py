"""``lightdsl predict spec.lit --ckpt last --input FILE [--output FILE]``: a trained model's
outputs for new inputs (CSV, .npz or .pt in; CSV or .npz out; class names restored)."""

from __future__ import annotations

import sys

from ._args import add_checkpoint_args, load_from_args


def register(commands) -> None:
    parser = commands.add_parser(
        "predict", help="run a trained checkpoint on new inputs",
        description="Run a checkpoint on new inputs. Inputs go through the spec's fitted "
        "transforms first. Classifiers give the predicted class (by name when the training "
        "labels were names) and one probability column per class. Exit code 1: bad data; "
        "2: a missing file or bad option.")
    add_checkpoint_args(parser)
    parser.add_argument("--input", "-i", required=True, metavar="FILE",
                        help="the inputs: .csv, .npz or .pt (an array named by --key, or one "
                        "tensor). A CSV's header is optional: a header is matched by name "
                        "against the training CSV's feature columns (any order; other columns, "
                        "such as the label, are left out); a first row of numbers is data, "
                        "its columns those of the training file (label column optional). A "
                        "header that lacks a training feature is an error.")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help=".csv or .npz (default, or -: CSV on standard output)")
    parser.add_argument("--key", default="x", help="the inputs' name in an .npz or .pt file "
                        "(default: x)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..deploy import predict_file
    from ..deploy.prediction import write_predictions

    trained = load_from_args(args)
    predictions = predict_file(trained, args.input, args.key)
    write_predictions(predictions, args.output)
    if args.output and args.output != "-":
        print(f"wrote {len(predictions.outputs)} predictions to {args.output}", file=sys.stderr)
    return 0

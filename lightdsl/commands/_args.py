"""Arguments shared by the commands that start from a spec, or from a spec and a trained
checkpoint (torch-free)."""

from __future__ import annotations


def add_spec_arguments(parser, spec_help: str = "the .lit file") -> None:
    """The arguments every spec command shares: the file, --run and --set."""
    parser.add_argument("spec", help=spec_help)
    parser.add_argument("--run", dest="run_name", help="which train block (when the spec has "
                        "several)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a setting: train.max_epochs=5, "
                        "data.batch_size=64 (the block defaults to train); repeatable")


def add_checkpoint_args(parser) -> None:
    """The spec arguments plus --ckpt."""
    add_spec_arguments(parser, "the .lit file the checkpoint was trained from")
    parser.add_argument("--ckpt", required=True, metavar="last|best|PATH",
                        help="the checkpoint: a .ckpt path; `last`: the last.ckpt of the newest "
                        "version of this run's log folder that has one; `best`: the best "
                        "checkpoint that version recorded (by its monitor). The file used is "
                        "printed")


def load_from_args(args):
    """The spec built from ``args`` with the checkpoint's weights."""
    from ..deploy import load_trained

    return load_trained(args.spec, args.ckpt, args.run_name, args.overrides)

"""``lightdsl export spec.lit --ckpt PATH --format torchscript|pt2|onnx -o FILE``: the trained
network as a deployable file, checked to give the checkpoint's outputs."""

from __future__ import annotations

from ._args import add_checkpoint_args, load_from_args

FORMATS = ("torchscript", "pt2", "onnx")  # as lightdsl.deploy.exporting.FORMATS (no torch here)


def register(commands) -> None:
    parser = commands.add_parser(
        "export", help="export a checkpoint as TorchScript, torch.export (.pt2) or ONNX",
        description="Export the network of a checkpoint. The file is loaded back and run on "
        "training samples; its outputs must equal the checkpoint's. FILE.json (next to it) "
        "lists the input transforms, sample shape and class names. ONNX needs the onnx extra "
        "(pip install 'lightdsl[onnx]').")
    add_checkpoint_args(parser)
    parser.add_argument("--format", "-f", required=True, choices=FORMATS)
    parser.add_argument("--output", "-o", required=True, metavar="FILE", help="where to write")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..deploy import export

    trained = load_from_args(args)
    done = export(trained, args.format, args.output)
    check = ("not run: no ONNX runtime installed" if done.max_abs_diff is None else
             f"max |difference| {done.max_abs_diff:.3g} on {done.checked_samples} samples")
    print(f"exported {args.spec} ({trained.checkpoint}) as {done.format} to {done.path}")
    print(f"  outputs checked against the checkpoint: {check}")
    print(f"  inputs, transforms and classes: {done.metadata_path}")
    return 0

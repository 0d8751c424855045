"""``lightdsl codegen``: readable standalone Python from a spec, without importing torch.

    from lightdsl.codegen import generate_file
    code = generate_file("specs/statquest.lit", target="torch")   # or "lightning"
    print(code.text)          # the script; code.line_map maps its lines to spec lines

The torch target is one self-contained script needing only torch (and the data source's own
library); the lightning target is a LightningModule, a LightningDataModule and a
``Trainer(...)`` call. Both are deterministic (same spec, same bytes), ``ruff format`` and
``ruff check`` clean, use the spec's names, and put strings in only as escaped literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import Analysis, SpecError, analyze, choose_run
from ..errors import UsageError
from ..frontend.source import SourceFile
from .data import write_data
from .model import ModelWriter
from .python import add_imports
from .reserved import shadows_module_attribute
from .script import Plan, Script
from .torch_target import TorchTarget
from .writer import comment_text

TARGETS = ("torch", "lightning")


@dataclass(frozen=True)
class Generated:
    """A generated script: its text and which spec line each commented line came from."""

    text: str
    line_map: dict[int, int]
    run: str
    target: str
    model_call: str  # the expression in main() that builds the run's model
    notes: tuple[str, ...] = ()  # settings the script does not reproduce (codegen warns)


def generate_file(path: str, run: str | None = None, target: str = "torch",
                  output: str | None = None) -> Generated:
    """Parse, check and generate code for one run of a spec file, to be written to ``output``
    (None: stdout); see :func:`generate`."""
    try:
        source = SourceFile.read(path)
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    return generate(analyze(source), run, target, output)


def generate(analysis: Analysis, run: str | None = None, target: str = "torch",
             output: str | None = None) -> Generated:
    """Code for one run of an analysed spec; raises SpecError if the spec has errors.

    The script finds the spec's folder (where the data's relative paths start) from its own
    folder when it is written to the file ``output``, from the folder it runs in when
    ``output`` is None (stdout: the path is then relative to the current folder)."""
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r} (choose {' or '.join(TARGETS)})")
    if not analysis.ok:
        raise SpecError(analysis)
    name = choose_run(analysis, run)
    checked = analysis.program.runs[name]
    _check_member_names(checked.model, analysis.source)
    script = Script(analysis.source.path, checked, target, output)
    plan = Plan(checked)
    add_imports(script, checked)  # first: the user's names keep their spelling
    parts = _model_parts(checked, script)
    notes: list[str] = []
    if target == "lightning":
        from .lightning_target import write_lightning

        docstring = write_lightning(script, plan, parts)
    else:
        docstring = _write_torch(script, plan, parts, notes)
    text, line_map = script.text(docstring)
    return Generated(text, line_map, name, target, parts[1], tuple(notes))


def _check_member_names(info, source: SourceFile) -> None:
    """A param or layer named like an nn.Module attribute (``train``, ``training``,
    ``__dict__``) would break the generated class: refuse it, located, instead of writing it.
    (``lightdsl check`` reports these names as errors too; this guards the generator itself.)"""
    members = [("param", name, p.node.span) for name, p in info.params.items()]
    members += [("layer", name, b.span) for name, b in info.layers.items()]
    for kind, name, span in members:
        if shadows_module_attribute(name):
            raise UsageError(f"{source.path}:{span.line}:{span.column}: error: the {kind} "
                             f"name {name!r} would shadow the nn.Module attribute {name!r} in "
                             "the generated model class; rename it")


def _model_parts(run, script: Script):
    """(class name, hyperparameter defaults, the call that builds the run's model)."""
    info = run.model
    class_name = script.globals(info.name)
    defaults = info.defaults  # evaluated once by the checker
    changed = {k: v for k, v in info.hypers.items() if defaults.get(k) != v}
    writer = ModelWriter(info, defaults, script.w, class_name, class_names=script.globals)
    for helper in writer.helpers():
        script.use(helper)
    from .printer import literal
    from .writer import flat

    arguments = ", ".join(f"{writer.args(k)}={flat(literal(v, tuples=True))}"
                          for k, v in changed.items())
    return writer, f"{class_name}({arguments})"


def _write_torch(script: Script, plan: Plan, parts, notes: list[str]) -> list[str]:
    writer, model_call = parts
    target = TorchTarget(script, plan, writer.class_name)
    notes += target.notes()
    target.constants()
    script.imports |= {"import torch", "from torch import nn"}
    writer.write()
    script.w.blank(2)
    data = write_data(plan.run.data, script)
    if target.has_val:
        script.w.blank(2)
        target.write_evaluate()
    script.w.blank(2)
    target.write_fit()
    if plan.run.lr_find is not None:
        script.w.blank(2)
        target.write_lr_find()
    script.w.blank(2)
    target.write_main(model_call, data.reads_files)
    script.w.blank(2)
    target.write_command_line(data.reads_files)
    docstring = _docstring(script, plan, "Plain PyTorch: run it with python; it needs only "
                           "torch\n(and the data source's own library). It writes into a new "
                           "LOG_ROOT/RUN_NAME/version_N\nfolder (or --out DIR): weights.ckpt, "
                           "the trained weights, loads with\n`lightdsl evaluate SPEC --ckpt "
                           "FILE`. python SCRIPT --help lists its options.")
    if notes:
        docstring += ["", "Not reproduced by this script (lightdsl train does these):"]
        # notes quote spec strings (monitor names): made plain for the docstring
        docstring += ["- " + comment_text(note).replace("\\", "/").replace('"', "'")
                      for note in notes]
    return docstring


def _docstring(script: Script, plan: Plan, how: str) -> list[str]:
    run = plan.run
    return [f"{run.model.name} on {run.data.name}, from {script.file} (run {run.name}).", "",
            "Generated by `lightdsl codegen`. " + how]

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
from .finetune import warm_start_call
from .lightning_target import LightningTarget
from .model import ModelWriter
from .python import add_imports
from .reserved import shadows_module_attribute
from .script import Plan, Script
from .torch_target import TorchTarget

TARGETS = {"torch": TorchTarget, "lightning": LightningTarget}


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
    writer, model_call = _model_parts(checked, script)
    target_writer = TARGETS[target](script, plan, writer, model_call)
    text, line_map = script.text(target_writer.write())
    return Generated(text, line_map, name, target, model_call, tuple(target_writer.notes()))


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
    writer = ModelWriter(info, defaults, script.w, class_name, class_names=script.globals,
                         warm_start=lambda init, part: warm_start_call(init, part, script))
    for helper in writer.helpers():
        script.use(helper)
    from .printer import literal
    from .writer import flat

    arguments = ", ".join(f"{writer.args(k)}={flat(literal(v, tuples=True))}"
                          for k, v in changed.items())
    return writer, f"{class_name}({arguments})"

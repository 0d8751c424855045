"""``python("module:Name", ...)`` in generated scripts: the imports, and how a loss that is a
function (not a class) is printed. Layers and class losses print as any vocabulary call
(``Swish(beta=1.5)``), since their entry's target is ``module.Name``."""

from __future__ import annotations

from collections.abc import Callable

from ..checker.models import leaf_layers
from ..checker.python import PythonBound
from ..checker.train import Run
from ..errors import UsageError
from .writer import Doc, Group, concat


def python_bounds(run: Run, metrics: bool = True) -> list[PythonBound]:
    """Every python(...) call a run uses: the model's layers, the loss, the metrics."""
    candidates = [*leaf_layers(run.model), run.loss, *(run.metrics if metrics else ())]
    unique = {id(b): b for b in candidates if isinstance(b, PythonBound)}
    return list(unique.values())


def add_imports(script, run: Run) -> None:
    """``from module import Name`` for each python(...) object, after putting the spec's
    folder (``SPEC_DIR``, as the script finds it) on ``sys.path`` when ``check`` found the
    module there."""
    # the torch target computes metrics only when validating
    metrics = script.target == "lightning" or run.data is None or run.data.val is not None
    modules: dict[str, set[str]] = {}
    local: set[str] = set()
    for bound in python_bounds(run, metrics):
        ref = bound.ref
        if script.globals(ref.name) != ref.name:
            raise UsageError(f"{ref.where}: error: the python name {ref.name!r} is also a name "
                             "the generated script uses; give it another name in your module")
        modules.setdefault(ref.module, set()).add(ref.name)
        script.python_names.add(ref.name)
        if ref.path_dir is not None:
            local.add(ref.module)
        if _needs_partial(bound):
            script.imports.add("import functools")
    script.imports |= {_from_import(m, names) for m, names in modules.items() if m not in local}
    if local:
        script.imports.add("import sys")
        script.late_imports += ["# the spec's folder, where its Python modules are",
                                f"sys.path.insert(0, str({script.spec_dir()}))"]
        script.late_imports += [_from_import(m, modules[m]) for m in sorted(local)]


def _from_import(module: str, names: set[str]) -> str:
    """One ``from module import A, b`` with the names in isort's order (CONSTANTS, Classes,
    functions)."""
    def key(name: str):
        return (0 if name.isupper() else 1 if name[0].isupper() else 2), name

    return f"from {module} import {', '.join(sorted(names, key=key))}"


def _needs_partial(bound: PythonBound) -> bool:
    return bound.entry.kind == "loss" and bound.ref.kind != "class" and bool(bound.values)


def is_function_loss(bound) -> bool:
    """A python(...) loss the script cannot simply call as a class."""
    return isinstance(bound, PythonBound) and bound.entry.kind == "loss" \
        and bound.ref.kind != "class"


def loss_call(bound: PythonBound, value: Callable[[str], Doc]) -> Doc:
    """A function loss as itself (``smooth``), with its arguments bound by functools.partial;
    an imported name that may be either a class or a function, decided when the script runs."""
    name = bound.ref.name
    keywords = tuple(concat(f"{k}=", value(k)) for k in bound.values)
    function = concat("functools.partial", Group("(", (name, *keywords), ")")) if keywords \
        else name
    if bound.ref.kind == "function":
        return function
    instance = concat(name, Group("(", keywords, ")"))
    return concat(instance, f" if isinstance({name}, type) else ", function)




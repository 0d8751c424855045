"""Hover: shapes, dtypes and parameter counts from the checker, docs from the registry.

On a layer or a ``forward`` line: the inferred ``(N, 64) -> (N, 10)``, the dtype, the layer's
parameter count, and its entry's signature and doc. On a model's name: its parameter total and
a summary of its layers. On a hyperparameter, param or forward variable: its value or shape.
On any vocabulary word or setting: the registry's documentation.
"""

from __future__ import annotations

import re

from ..checker.compose import describe
from ..checker.flow import CallShape, ModelShapes
from ..checker.models import (
    ModelInfo,
    ModelUse,
    Repeated,
    is_trainable,
    layer_parameter_count,
    parameter_bytes,
)
from ..frontend import nodes as n
from ..run_settings import PRECISION_ALIASES
from ..vocab.shapes import fmt
from ..vocab.types import normalize_choice, show
from .documents import Document, View
from .index import Index, chain_at, enclosing
from .vocabulary import KINDS, arg_markdown, entry_markdown, find, setting_entry, wanted_kinds

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DTYPES = {"float": "float32", "int": "int64"}
_SHOWN = 6  # shapes listed per hover (a model used at many places: the first)
_PRECISION_DTYPES = {"64-true": "float64", "16-true": "float16", "bf16-true": "bfloat16",
                     "16-mixed": "float32 (autocast float16)",
                     "bf16-mixed": "float32 (autocast bfloat16)"}


def hover(document: Document, offset: int) -> tuple[str, tuple[int, int]] | None:
    """(markdown, (start, end) offsets in the current text) for a position, or None."""
    view = document.view()
    found = _in_view(view, offset)
    if found is None and document.good is not None and document.good is not view:
        line, column = view.lines.position(offset)
        old = document.to_good(line)
        if old is not None:
            good_offset = document.good.lines.offset(old, column)
            text = _in_view(document.good, good_offset)
            if text is not None:  # from the last good text: the range is this text's word
                found = (text[0], _word_range(view.text, offset) or (offset, offset))
    return found or _from_word(view.text, offset)


def _in_view(view: View, offset: int):
    if view.spec is None or view.program is None:
        return None
    chain = chain_at(view.spec, offset)
    if len(chain) < 2:  # outside every definition
        return None
    return _Hover(view).at(chain, offset)


def _word_range(text: str, offset: int) -> tuple[int, int] | None:
    for match in _WORD.finditer(text, max(0, offset - 64), offset + 64):
        if match.start() <= offset <= match.end():
            return match.start(), match.end()
    return None


def _from_word(text: str, offset: int):
    """Broken text and no good parse to lean on: the registry's doc of the word."""
    where = _word_range(text, offset)
    if where is None:
        return None
    entry = find(text[where[0]:where[1]])
    return (entry_markdown(entry), where) if entry else None


def _span(node) -> tuple[int, int]:
    return node.span.start_pos, node.span.end_pos


class _Hover:
    def __init__(self, view: View):
        self.view, self.program = view, view.program
        self.index = Index(view.spec)

    def at(self, chain: list, offset: int):
        occurrence = self.index.at(offset)
        if occurrence is not None:
            text = self.symbol(occurrence)
            if text:
                return text, _span(occurrence.name)
        if enclosing(chain, n.ModelDef) is not None:
            return self.in_model(chain, offset)
        return self.in_block(chain, offset)

    # ---- names of the spec ----
    def symbol(self, occurrence) -> str | None:
        kind, scope, name = occurrence.key
        if kind == "model":
            return self.model(name)
        if kind == "data":
            return self.data(name)
        if kind == "hyper":
            return self.hyper(scope, name)
        if kind == "member":
            return self.member(scope, name)
        definition = self.index.definition(occurrence)
        shapes = self.variable(scope, definition) if definition else []
        return f"```lightdsl\n{_typed(name, shapes)}\n```\nforward variable of model {scope}"

    def infos(self, model: str) -> list[ModelInfo]:
        """Every checked version of a model: the runs' first (they know the input shape)."""
        found: dict[int, ModelInfo] = {}
        for run in self.program.runs.values():
            if run.model is not None and run.model.name == model:
                found[id(run.model)] = run.model
        base = self.program.models.get(model)
        if base is not None:
            found.setdefault(id(base), base)
            for info in (base.table.checked.values() if base.table else []):
                if info.name == model:
                    found.setdefault(id(info), info)
        return list(found.values())

    def walks(self, model: str) -> list[tuple[ModelInfo, str | None, ModelShapes]]:
        """Every walk the checker made through a model, with the checked version it walked and
        the run whose walk it is (None: not a run's): each run's first (they know the input
        shape), then each version's own walk (the model checked alone) and its walks as a
        layer of another model."""
        found: dict[int, tuple[ModelInfo, str | None, ModelShapes]] = {}
        for run in self.program.runs.values():
            if run.model is not None and run.model.name == model and run.shapes is not None:
                found.setdefault(id(run.shapes), (run.model, run.name, run.shapes))
        for info in self.infos(model):
            for shapes in [info.shapes, *info.layer_shapes.values()]:
                if shapes is not None:
                    found.setdefault(id(shapes), (info, None, shapes))
        return list(found.values())

    def calls_at(self, model: str, start: int) -> list[tuple[str | None, CallShape]]:
        """The calls written at ``start`` in every walk (a call and its function's name start
        together), labelled with the hyperparameter values and runs walked (:func:`_labelled`)."""
        found = [(info, run, call) for info, run, shapes in self.walks(model)
                 for call in shapes.calls if call.span.start_pos == start]
        return _labelled(found, lambda call: call.output)

    def variable(self, model: str, name: n.Name) -> list[tuple[str | None, object]]:
        """The shapes forward gave the variable defined at ``name``, labelled."""
        key = (name.span.start_pos, name.span.end_pos)
        found = [(info, run, shapes.variables[key]) for info, run, shapes in self.walks(model)
                 if key in shapes.variables]
        return _labelled(found, lambda shape: shape)

    def model(self, name: str) -> str | None:
        infos = self.infos(name)
        if not infos:
            return None
        info = self.program.models.get(name) or infos[0]
        header = f"model {name}" + (f"({', '.join(f'{k} = {show(v)}' for k, v in info.hypers.items())})"
                                    if info.hypers else "")
        count = info.parameter_count()
        lines = [f"```lightdsl\n{header}\n```"]
        if count is not None:
            trainable = "trainable" if is_trainable(info) else "all frozen"
            lines.append(f"**{count:,} parameters** ({parameter_bytes(count)} in float32, "
                         f"{trainable})")
        for run in self.program.runs.values():
            if run.model is not None and run.model.name == name and run.data is not None:
                from ..vocab.shapes import batched

                lines.append(f"run `{run.name}`: {fmt(batched(run.data.sample_shape))} -> "
                             f"{fmt(run.output_shape)}")
        lines.append(_layer_table(info))
        return "\n\n".join(line for line in lines if line)

    def data(self, name: str) -> str | None:
        info = self.program.data.get(name)
        if info is None:
            return None
        from ..vocab.shapes import batched

        return (f"```lightdsl\ndata {name}\n```\n\ninputs per batch: "
                f"{fmt(batched(info.sample_shape))}"
                + (f", {_DTYPES.get(info.input_dtype, info.input_dtype)}"
                   if info.input_dtype else ""))

    def hyper(self, model: str, name: str) -> str | None:
        info = self.program.models.get(model)
        if info is None or name not in info.hypers:
            return None
        return f"```lightdsl\n{name} = {show(info.hypers[name])}\n```\nhyperparameter of " \
               f"model {model} (default; a run or a use may give another value)"

    def member(self, model: str, name: str) -> str | None:
        info = self.program.models.get(model)
        if info is None:
            return None
        if name in info.params:
            param = info.params[name]
            shape = "scalar" if param.shape == () else f"shape {param.shape}"
            frozen = "frozen" if param.node.frozen else "trainable"
            return f"```lightdsl\nparam {name} = {show(param.value)}\n```\n{shape}, {frozen}"
        layer = info.layers.get(name)
        if layer is None:
            return None
        found = [(info, run, call) for info, run, shapes in self.walks(model)
                 for call in shapes.calls
                 if call.layer is not None and call.layer is info.layers.get(name)]
        return self.layer_text(layer, _labelled(found, lambda call: call.output), model,
                               title=name)

    # ---- layers and calls ----
    def in_model(self, chain: list, offset: int):
        model = enclosing(chain, n.ModelDef).name.id
        for node in reversed(chain):  # the innermost call (or layers item) with a record
            if isinstance(node, (n.Call, n.Name)):
                uses = self.calls_at(model, node.span.start_pos)
                if uses and uses[0][1].layer is not None:
                    return self.layer_text(uses[0][1].layer, uses, model), _span(node)
            if isinstance(node, n.Keyword):
                call = next(c for c in reversed(chain) if isinstance(c, n.Call))
                entry = find(call.func.id, ("layer", "function"))
                text = arg_markdown(entry, node.name.id) if entry else None
                if text:
                    return text, _span(node.name)
        statement = enclosing(chain, (n.Assign, n.ReturnStmt))
        if isinstance(statement, n.Assign):
            shapes = self.variable(model, statement.target)
            return f"```lightdsl\n{_typed(statement.target.id, shapes)}\n```", _span(statement)
        if isinstance(statement, n.ReturnStmt):
            found = [(info, run, shapes.of(statement.value))
                     for info, run, shapes in self.walks(model)]
            returned = _labelled(found, lambda shape: shape)
            if returned and returned[0][1] is not None:
                shown = ", ".join(fmt(s) + (f" in {label}" if label else "")
                                  for label, s in returned)
                return f"returns {shown}", _span(statement)
        forward = enclosing(chain, n.ForwardDef)
        if forward is not None and statement is None:
            return self.forward(model, forward), _span(forward)
        layer_def = enclosing(chain, n.LayerDef)
        if layer_def is not None:
            text = self.member(model, layer_def.name.id)
            if text:
                return text, _span(layer_def)
        return self.vocabulary_word(chain, offset, ("layer", "function"))

    def forward(self, model: str, forward: n.ForwardDef) -> str:
        """``forward(images)``: each input's shape and what the model returns."""
        inputs = []
        for name in forward.inputs:
            shapes = {fmt(shape) for _, shape in self.variable(model, name)}
            inputs.append(f"{name.id}: {', '.join(sorted(shapes)) or '(unknown)'}")
        outputs = {fmt(run.output_shape) for run in self.program.runs.values()
                   if run.model is not None and run.model.name == model}
        returned = f" -> {', '.join(sorted(outputs))}" if outputs else ""
        return f"```lightdsl\nforward({', '.join(inputs)}){returned}\n```\nmodel {model}"

    def layer_text(self, layer, uses: list[tuple[str | None, CallShape]], model: str,
                   title: str | None = None) -> str:
        """A layer's (or function's) hover: each walk's shapes (up to ``_SHOWN``), labelled
        with the model's hyperparameter values when it was walked with several, its parameter
        count and its entry's documentation."""
        entry = getattr(layer, "entry", None)
        name = layer.name if not isinstance(layer, Repeated) else "repeat"
        head = f"{title}: {name}" if title and title != name else name
        lines = [f"**{head}**"]
        for label, use in uses[:_SHOWN]:
            arrow = f"`{', '.join(fmt(s) for s in use.inputs)} -> {_output(use.output)}`"
            lines.append(arrow + self.dtype(use, model) + (f" · in `{label}`" if label else ""))
        if len(uses) > _SHOWN:
            lines.append(f"... {len(uses) - _SHOWN} more")
        count = layer_parameter_count(layer)
        if count is not None:
            lines.append(f"{count:,} parameter{'s' if count != 1 else ''}")
        if isinstance(layer, ModelUse):
            lines.append(f"model {layer.name} used as a layer")
        elif entry is not None and getattr(layer, "ref", None) is None:
            lines.append(entry_markdown(entry))
        elif entry is not None:
            lines.append(f"Python layer `{layer.ref.text}`")
        return "\n\n".join(lines)

    def dtype(self, use: CallShape, model: str) -> str:
        """`` · float32``, or `` · int64 -> float32`` for a layer or function turning integers
        into floats, `` · int64`` for a function keeping them (relu, sum, reshape, cat)."""
        entry = getattr(use.layer, "entry", None)
        out = self.float_dtype(model)
        if entry is not None and entry.kind == "function":
            if use.dtype is None:
                return ""  # its input's dtype is not known
            if use.dtype == "int":
                return " · int64" if entry.keeps_dtype else f" · int64 -> {out}"
        return f" · {_DTYPES[use.dtype]} -> {out}" if use.dtype in _DTYPES and \
            use.dtype != "float" else f" · {out}"

    def float_dtype(self, model: str) -> str:
        for run in self.program.runs.values():
            if run.model is not None and run.model.name == model:
                value = run.settings.values.get("precision")
                choice = normalize_choice(value)
                choice = PRECISION_ALIASES.get(choice, choice)
                return _PRECISION_DTYPES.get(choice, "float32")
        return "float32"

    # ---- data and train blocks ----
    def in_block(self, chain: list, offset: int):
        block = "train" if enclosing(chain, n.TrainDef) is not None else "data"
        settings = setting_entry(block)
        setting = enclosing(chain, n.Setting)
        if setting is not None and setting.name.span.start_pos <= offset <= \
                setting.name.span.end_pos:
            text = arg_markdown(settings, setting.name.id)
            return (text, _span(setting.name)) if text else None
        keyword = enclosing(chain, n.Keyword)
        call = enclosing(chain, n.Call)
        if keyword is not None and call is not None and offset <= keyword.name.span.end_pos:
            entry = self.entry_for(call, setting, block)
            text = arg_markdown(entry, keyword.name.id) if entry else None
            return (text, _span(keyword.name)) if text else None
        kinds = ["statement"] if block == "train" else ["transform"]
        if setting is not None:
            arg = settings.arg(setting.name.id)
            kinds = wanted_kinds(arg.type) if arg else []
            if setting.name.id in ("val", "test"):
                kinds.append("split")
        return self.vocabulary_word(chain, offset, [*kinds, *KINDS])

    def entry_for(self, call: n.Call, setting, block: str):
        kinds = ["statement"] if block == "train" else ["transform"]
        if setting is not None:
            arg = setting_entry(block).arg(setting.name.id)
            kinds = [*(wanted_kinds(arg.type) if arg else []), "split"]
        return find(call.func.id, [*kinds, *KINDS])

    def vocabulary_word(self, chain: list, offset: int, kinds):
        for node in reversed(chain):
            name = node.func if isinstance(node, n.Call) else node
            if isinstance(name, n.Name) and name.span.start_pos <= offset <= name.span.end_pos:
                entry = find(name.id, kinds)
                return (entry_markdown(entry), _span(name)) if entry else None
        return None


def _labelled(found: list[tuple[ModelInfo, str | None, object]],
              shape_of) -> list[tuple[str | None, object]]:
    """``found`` (the version walked, the run walking it or None, what was seen) as (label,
    what was seen), each distinct one once. Only those whose ``shape_of`` is known when there
    are any (the model checked alone knows no shapes). The label says which hyperparameter
    values (``Net(width = 8)``) when the model was walked with several sets, and which runs
    (``run wide``) when the runs saw different shapes; None when neither."""
    known = [entry for entry in found if shape_of(entry[2]) is not None] or found[:1]
    many = len({repr(sorted(info.hypers.items())) for info, _, _ in known}) > 1
    groups: list[tuple[str | None, object, set[str]]] = []  # (values, seen, by which runs)
    for info, run, item in known:
        values = describe(info) if many else None
        group = next((g for g in groups if g[:2] == (values, item)), None)
        if group is None:
            groups.append(group := (values, item, set()))
        group[2].update([run] if run else [])
    runs = {run for _, run, _ in known if run}
    result = []
    for values, item, where in groups:
        named = f"run {', '.join(sorted(where))}" if where and where != runs else None
        result.append((", ".join(part for part in (values, named) if part) or None, item))
    return result


def _typed(name: str, shapes: list[tuple[str | None, object]]) -> str:
    """``h: (N, 8)``, or one line per hyperparameter values walked: ``h: (N, 8)  # Net(w = 8)``."""
    if any(label for label, _ in shapes):
        return "\n".join(f"{name}: {fmt(shape)}  # {label}" for label, shape in shapes[:_SHOWN])
    return f"{name}: {', '.join(sorted({fmt(shape) for _, shape in shapes})) or '(unknown)'}"


def _output(output) -> str:
    if isinstance(output, tuple) and output and not all(isinstance(d, (int, type(None)))
                                                         for d in output):
        return "(" + ", ".join(fmt(s) for s in output) + ")"
    return fmt(output)


def _layer_table(info: ModelInfo) -> str:
    """The named layers (or the layers { } sequence) with their kind and parameter count."""
    rows = [(name, _kind(layer), layer_parameter_count(layer))
            for name, layer in info.layers.items()]
    if not rows:
        rows = [(str(i + 1), _kind(layer), layer_parameter_count(layer))
                for i, layer in enumerate(info.sequence)]
    if not rows:
        return ""
    width = max(len(r[0]) for r in rows)
    kinds = max(len(r[1]) for r in rows)
    shown = [f"{name.ljust(width)}  {kind.ljust(kinds)}  "
             f"{'?' if count is None else f'{count:,}'}" for name, kind, count in rows[:40]]
    if len(rows) > 40:
        shown.append(f"... {len(rows) - 40} more")
    return "```text\n" + "\n".join(shown) + "\n```"


def _kind(layer) -> str:
    if layer is None:
        return "?"
    if isinstance(layer, Repeated):
        return f"repeat({layer.count})"
    return layer.name

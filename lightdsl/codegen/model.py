"""The model class of a generated script: ``__init__`` declares the spec's params and layers
with the spec's names (the state_dict keys of lightdsl's compiled model), ``forward`` mirrors
the spec's dataflow or ``layers { }`` body statement by statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checker.binding import Bound
from ..checker.models import ModelInfo, ModelUse, Repeated, leaf_layers
from ..frontend import nodes as n
from ..vocab.reserved import argument_names
from ..vocab.types import Tensor, TensorList
from .printer import (
    ExprPrinter,
    Namer,
    as_floats,
    attribute,
    literal,
    plain_attribute,
    str_literal,
    uses_names,
    vocab_call,
)
from .writer import INDENT, WIDTH, CodeWriter, Comprehension, Doc, Group, concat, flat


class ModelWriter:
    """Writes one ``class Name(base):`` for a checked model."""

    def __init__(self, info: ModelInfo, defaults: dict[str, Any], writer: CodeWriter,
                 class_name: str, base: str = "nn.Module",
                 class_names: Callable[[str], str] | None = None,
                 warm_start: Callable[[Any, str], Doc] | None = None):
        self.info, self.defaults, self.w = info, defaults, writer
        # warm_start(init, part): the line that loads a part's init weights(...)
        self.warm_start = warm_start
        self.class_name, self.base = class_name, base
        # the classes of models used as layers: one per model, named by the script's namer
        self.class_names = class_names or (lambda name: name)
        self.args = _arguments(info)  # __init__'s arguments: the hyperparameters
        forward = info.node.forwards[0] if info.node.forwards and not info.node.layers_blocks \
            else None
        self.forward = forward
        self.locals = Namer()
        if forward is not None:
            self.locals.reserve([name.id for name in forward.inputs])
            self.locals.reserve([t.id for s in forward.walk(n.Assign) for t in s.targets])
        self.hypers_in_forward = _hypers_used(forward, info) if forward else []

    def write(self, init_extra: Callable[[], None] | None = None,
              methods: Callable[[], None] | None = None) -> None:
        """The class; ``init_extra`` adds lines to ``__init__``, ``methods`` more methods.
        The classes of the models it uses come first, each once per script."""
        self._used_classes()
        w, node = self.w, self.info.node
        w.ref(node.span, f"model {self.info.name}")
        w.line(f"class {self.class_name}({self.base}):")
        with w.indent():
            w.docstring(f"The model {self.info.name} of the spec.")
            w.blank()
            self._init(init_extra)
            w.blank()
            self._forward()
            self._frozen_train()
            if methods is not None:
                methods()

    def helpers(self) -> list[str]:
        """Runtime classes (lightdsl/runtime/) the model's layers, and the models it uses,
        are built from: the script carries their source."""
        return sorted(_runtime_classes(self.info))

    def _used_classes(self) -> None:
        written = self.w.__dict__.setdefault("model_classes", set())  # once per script
        for use in _uses(self.info):
            if use.name in written:
                continue
            written.add(use.name)
            info = use.model.table.default(use.name) if use.model.table else use.model
            ModelWriter(info, dict(info.hypers), self.w, self.class_names(use.name),
                        class_names=self.class_names, warm_start=self.warm_start).write()
            self.w.blank(2)  # before the next class (a layers { } model's ends with no blank)

    # ---- __init__ ----
    def _init(self, extra) -> None:
        w = self.w
        arguments = ["self"] + [f"{self.args(name)}={_flat(literal(value, tuples=True))}"
                                for name, value in self.defaults.items()]
        w.statement(concat("def __init__", Group("(", tuple(arguments), ")")), suffix=":")
        with w.indent():
            w.line("super().__init__()")
            if self.base == "pl.LightningModule":
                if self.defaults:
                    w.line("self.save_hyperparameters()  # self.hparams")
            elif self.hypers_in_forward:
                items = tuple(f"{str_literal(self.args(h))}: {self.args(h)}"
                              for h in self.hypers_in_forward)
                w.statement(Group("{", items, "}"), prefix="self.hparams = ")
            self._members([(name, self._parameter(p), p.node.span)
                           for name, p in self.info.params.items()], "params")
            self._members([(name, self._layer(b), b.span)
                           for name, b in self.info.layers.items()], "layers")
            if self.info.node.layers_blocks:
                self._sequential()
            self._freeze()
            if extra is not None:
                extra()

    def _members(self, members: list, what: str) -> None:
        """Params or layers, each with a ``# spec.lit:N`` at its end; if one of them does not
        fit that way, one comment above the group instead (the line map keeps every line)."""
        w = self.w
        fits = all(len(INDENT * w.level + flat(self._target(name, doc)) + "  # ")
                   + len(f"{w.spec_name}:{span.line}") <= WIDTH for name, doc, span in members)
        if members and not fits:
            first, last = members[0][2].line, members[-1][2].line
            w.comment(f"{w.spec_name}:{first}-{last} {what}" if last > first else
                      f"{w.spec_name}:{first}")
        for name, doc, span in members:
            if fits:
                self._assign(name, doc, span)
            else:
                w.line_map[len(w.lines) + 1] = span.line
                w.statement(self._target(name, doc))

    @staticmethod
    def _target(name: str, doc: Doc) -> Doc:
        if plain_attribute(name):
            return concat(f"self.{name} = ", doc)
        return concat("setattr", Group("(", ("self", str_literal(name), doc), ")"))

    def _assign(self, name: str, doc: Doc, span) -> None:
        if plain_attribute(name):
            self.w.statement(doc, prefix=f"self.{name} = ", span=span)
        else:
            doc = concat("setattr", Group("(", ("self", str_literal(name), doc), ")"))
            self.w.statement(doc, span=span)

    def _parameter(self, param) -> Doc:
        node = param.node
        if uses_names(node.value, self.info.hypers):
            value = concat(self._constant(node.value), ", dtype=torch.get_default_dtype()")
        else:
            value = literal(as_floats(param.value))
        tensor = concat("torch.tensor", Group("(", (value,), ")"))
        frozen = ("requires_grad=False",) if node.frozen else ()
        return concat("nn.Parameter", Group("(", (tensor, *frozen), ")"))

    def _constant(self, expr: n.Expr) -> Doc:
        """A layer argument or param written with hyperparameters: printed with their names."""
        return ExprPrinter(lambda name: (self.args(name), True), tuples=True).doc(expr)

    def _layer(self, bound: Bound | ModelUse | Repeated) -> Doc:
        if isinstance(bound, ModelUse):
            return self._use(bound)
        if isinstance(bound, Repeated):
            return self._repeat(bound)

        def value(name: str) -> Doc:
            node = bound.nodes.get(name)
            if node is not None and uses_names(node, self.info.hypers):
                return self._constant(node)
            return literal(bound.values[name], tuples=True)

        return vocab_call(bound, value)

    def _use(self, use: ModelUse) -> Doc:
        """``ResBlock(channels=64)``: the values given at the use site (written with this
        model's hyperparameters where the spec does), and derived ones that differ."""
        table = use.model.table
        defaults = table.default(use.name).hypers if table else {}
        names = [h.name.id for h in use.model.node.hyper_params]
        given = dict(zip(names, use.call.args))
        given |= {k.name.id: k.value for k in use.call.keywords}
        args, printed = _arguments(use.model), {}
        for hyper in use.model.node.hyper_params:
            name, node = hyper.name.id, given.get(hyper.name.id)
            if node is not None and uses_names(node, self.info.hypers):
                printed[name] = flat(self._constant(node))
            elif uses_names(hyper.default, printed) and node is None:
                # derived from a value given here (hidden = 2 * c): the same expression
                def known(h: str) -> tuple[str, bool]:
                    text = printed.get(h) or flat(literal(use.model.hypers[h], tuples=True))
                    return _atom(text), True

                printed[name] = flat(ExprPrinter(known, tuples=True).doc(hyper.default))
            elif node is not None or use.model.hypers[name] != defaults.get(name):
                printed[name] = flat(literal(use.model.hypers[name], tuples=True))
        items = tuple(f"{args(name)}={text}" for name, text in printed.items())
        return concat(self.class_names(use.name), Group("(", items, ")"))

    def _repeat(self, repeated: Repeated) -> Doc:
        """``nn.Sequential(*[ResBlock() for _ in range(4)])``: copies with their own weights."""
        items = tuple(self._layer(item) for item in repeated.items)
        one = items[0] if len(items) == 1 else concat("nn.Sequential", Group("(", items, ")"))
        count = repeated.node.count if repeated.node is not None else None
        count = flat(self._constant(count)) if count is not None and uses_names(
            count, self.info.hypers) else str(repeated.count)
        copies = Comprehension("*[", one, f"for _ in range({count})", "]")
        return concat("nn.Sequential", Group("(", (copies,), ")"))

    def _sequential(self) -> None:
        block = self.info.node.layers_blocks[0]
        items = []
        for item, bound in zip(block.items, self.info.sequence):
            name = item.id if isinstance(item, n.Name) else None
            items.append(attribute(name) if name in self.info.layers else self._layer(bound))
        self.w.statement(concat("nn.Sequential", Group("(", tuple(items), ")")),
                         prefix="self.layers = ", span=block.span)

    # ---- fine-tuning: frozen parts (lr_mult, init and unfreeze: see codegen.finetune) ----
    def _part(self, path: str) -> str:
        """The expression of the part at ``path``: ``self.backbone``, ``self.layers[1]``."""
        if path.startswith("layers."):
            return f"self.layers[{path.split('.')[1]}]"
        return f"self.{path}" if plain_attribute(path) else f"getattr(self, {str_literal(path)})"

    def _freeze(self) -> None:
        """Warm-start, then freeze, the parts written with options (as lightdsl builds them)."""
        for path, part in self.info.options.items():
            if part.init is not None and self.warm_start is not None:
                self.w.statement(self.warm_start(part.init, self._part(path)),
                                 span=part.node.span)
            if part.frozen:
                self.w.statement(f"{self._part(path)}.requires_grad_(False)",
                                 span=part.node.span)

    def _frozen_train(self) -> None:
        """``train()`` keeping the frozen parts' batch norms in eval mode, as lightdsl does."""
        kept = [self._part(p) for p, o in self.info.options.items() if o.frozen and o.bn == "eval"]
        if not kept:
            return
        w = self.w
        w.blank()
        w.line("def train(self, mode=True):")
        with w.indent():
            w.line("super().train(mode)")
            w.line("if mode:  # frozen parts' batch norms keep their running statistics")
            with w.indent():
                w.line(f"for part in ({', '.join(kept)},):")
                with w.indent():
                    w.line("if any(p.requires_grad for p in part.parameters()):")
                    with w.indent():
                        w.line("continue  # unfrozen (unfreeze): its batch norms train")
                    w.line("for module in part.modules():")
                    with w.indent():
                        w.line("if isinstance(module, nn.modules.batchnorm._BatchNorm):")
                        with w.indent():
                            w.line("module.eval()")
            w.line("return self")

    # ---- forward ----
    def _forward(self) -> None:
        w = self.w
        if self.forward is None:
            w.line("def forward(self, x):")
            with w.indent():
                w.line("return self.layers(x)")
            return
        inputs = ", ".join(self.locals(name.id) for name in self.forward.inputs)
        w.line(f"def forward(self, {inputs}):")
        unused = _unused_assignments(self.forward)
        with w.indent():
            for index, statement in enumerate(self.forward.body):
                if isinstance(statement, n.ReturnStmt):
                    doc = self.expr(statement.value) if not statement.rest else \
                        Group("(", tuple(self.expr(v) for v in statement.values), ")")
                    w.statement(doc, prefix="return ", span=statement.span)
                    break
                doc = self.expr(statement.value)
                noqa = "  # noqa: F841 (unused in the spec too)" if index in unused else ""
                targets = ", ".join(self.locals(t.id) for t in statement.targets)
                w.statement(doc, prefix=f"{targets} = ", span=statement.span, pragma=noqa)

    def expr(self, expr: n.Expr) -> Doc:
        return ExprPrinter(self._name, self._call).doc(expr)

    def _name(self, name: str) -> tuple[str, bool]:
        if name in self.locals.names:
            return self.locals(name), True
        if name in self.info.params:
            return attribute(name), plain_attribute(name)
        # hparams are keyed by the arguments' names, as Lightning's save_hyperparameters() keys
        # them: a keyword is "lambda_" there
        return f"self.hparams[{str_literal(self.args(name))}]", False

    def _call(self, call: n.Call) -> Doc:
        name = call.func.id
        if name in self.info.layers:  # a used model or an attention layer: several inputs
            inputs = tuple(self.expr(arg) for arg in call.args)
            return concat(attribute(name), Group("(", inputs, ")"))
        bound = self.info.calls[call.span.start_pos]
        tensors = []
        for arg in bound.entry.args:
            node = bound.values.get(arg.name)
            if isinstance(arg.type, Tensor):
                tensors.append(self.expr(node))
            elif isinstance(arg.type, TensorList):
                tensors.append(Group("[", tuple(self.expr(i) for i in node.items), "]"))

        def value(arg: str) -> Doc:
            node = bound.nodes.get(arg)
            if node is not None and uses_names(node, self.hypers_in_forward):
                return ExprPrinter(lambda h: (self._name(h)[0], False), tuples=True).doc(node)
            return literal(bound.values[arg], tuples=True)

        return vocab_call(bound, value, leading=tuple(tensors))


def _flat(doc: Doc) -> str:
    return flat(doc)


def _names_in(expr: n.Node) -> list[str]:
    """The names ``expr`` reads: not a called function's name, nor a keyword's."""
    labels = {id(c.func) for c in expr.walk(n.Call)} | {id(k.name) for k in expr.walk(n.Keyword)}
    return [name.id for name in expr.walk(n.Name) if id(name) not in labels]


def _hypers_used(forward: n.ForwardDef, info: ModelInfo) -> list[str]:
    """Hyperparameters that forward reads (names not shadowed by params or variables)."""
    local = {name.id for name in forward.inputs}
    local |= {t.id for s in forward.walk(n.Assign) for t in s.targets}
    used = [name for s in forward.body for v in _values(s) for name in _names_in(v)]
    hypers = [h for h in dict.fromkeys(used)
              if h in info.hypers and h not in local and h not in info.params]
    return hypers


def _unused_assignments(forward: n.ForwardDef) -> set[int]:
    """Statements whose variable is never read afterwards (pyflakes' F841 would flag them)."""
    unused = set()
    body = forward.body
    for index, statement in enumerate(body):
        if not isinstance(statement, n.Assign) or statement.rest:  # unpacking is not F841
            continue
        name = statement.target.id
        later = body[index + 1:]
        rebound = any(isinstance(s, n.Assign) and name in [t.id for t in s.targets]
                      for s in later)
        read = any(name in _names_in(v) for s in later for v in _values(s))
        if not read and not rebound:
            unused.add(index)
    return unused


def _atom(text: str) -> str:
    """``text`` safe as an operand: a name or number as it is, anything else in parentheses."""
    return text if text.isidentifier() or text.replace(".", "", 1).isdigit() else f"({text})"


def _values(statement) -> list[n.Expr]:
    """The expressions a forward statement computes (``return a, b`` has two)."""
    return statement.values if isinstance(statement, n.ReturnStmt) else [statement.value]


def _arguments(info: ModelInfo) -> Namer:
    """The Python names of a model class's ``__init__`` arguments (its hyperparameters): the
    names lightdsl's checkpoints save them under too (``hparams_initial``), so that Lightning's
    ``load_from_checkpoint`` passes each to its argument."""
    args = Namer()
    args.assign(argument_names(info.hypers))
    return args


def _uses(info: ModelInfo) -> list[ModelUse]:
    """The models ``info`` uses as layers, in the order the spec writes them."""
    found: list[ModelUse] = []

    def visit(layer) -> None:
        if isinstance(layer, ModelUse):
            found.append(layer)
        elif isinstance(layer, Repeated):
            for item in layer.items:
                visit(item)

    for layer in [*info.layers.values(), *info.sequence]:
        visit(layer)
    return found


def _runtime_classes(info: ModelInfo) -> set[str]:
    """Names of the runtime classes the layers of ``info`` and of the models it uses build."""
    return {layer.entry.target.rsplit(".", 1)[1] for layer in leaf_layers(info)
            if layer is not None and (layer.entry.target or "").startswith("lightdsl.runtime.")}

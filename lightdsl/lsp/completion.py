"""Completion from the text before the cursor, so that it works on text that does not parse.

A small scan (strings and comments skipped) finds the blocks and brackets open at the cursor:
``model``/``layers``/``forward``/``repeat``/``data``/``train`` blocks and the calls and lists
inside them. A bracket left open on an earlier line stops counting where a new statement
must have begun (see :func:`_new_statement`). From that and the current line it offers vocabulary names with their signatures,
keyword arguments of the call being written, settings of a ``train`` or ``data`` block, the
spec's models and data blocks, a model's layers and variables, and named choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..vocab import REGISTRY
from ..vocab.types import Bool, Ref
from .documents import Document
from .vocabulary import choices, entry_markdown, find, setting_entry, signature, wanted_kinds

_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"?|\'(?:[^\'\\\n]|\\.)*\'?|#[^\n]*|[A-Za-z_]\w*|'
                     r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\*\*|[-+*/@{}()\[\]=,]")
_PARTIAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\[?)\s*(?:[^=]*,\s*)?$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
TOP_KEYWORDS = ("model", "data", "train")


@dataclass
class Item:
    """One completion: what to show, what kind (an LSP CompletionItemKind name), a one-line
    detail (a signature), markdown documentation and the text to insert."""

    label: str
    kind: str
    detail: str = ""
    documentation: str = ""
    insert: str | None = None


@dataclass
class Context:
    blocks: list[tuple[str, str | None]]  # open blocks, outermost first: (kind, name)
    brackets: list[tuple[str, str | None]]  # open ( and [ in the innermost block: (char, func)
    line_before: str  # the current line before the partial word
    prefix: str  # the partial word before the cursor

    @property
    def block(self) -> str | None:
        return self.blocks[-1][0] if self.blocks else None

    def model(self) -> str | None:
        return next((name for kind, name in reversed(self.blocks) if kind == "model"), None)


def context_at(text: str, offset: int) -> Context:
    """The blocks and brackets open at ``offset``, read from the text alone."""
    before = text[:offset]
    partial = _PARTIAL.search(before)
    prefix = partial.group() if partial else ""
    start = offset - len(prefix)
    found = [m for m in _LEXEME.finditer(text, 0, start) if not m.group().startswith("#")]
    scan = _Scan(text, [m.group() for m in found])
    for index, lexeme in enumerate(found):
        scan.token(index, lexeme)
    if found and prefix:  # the word being typed may begin a new statement as well
        scan.end_statement(found[-1], start, prefix)
    line_before = before[before.rfind("\n") + 1:start]
    return Context(scan.blocks, scan.brackets[-1], line_before, prefix)


class _Scan:
    """The blocks and brackets open so far, token by token."""

    def __init__(self, text: str, tokens: list[str]):
        self.text, self.tokens = text, tokens
        self.blocks: list[tuple[str, str | None]] = []
        self.brackets: list[list] = [[]]  # per block: its open ( and [, (char, func)
        self.opened: list[int] = [0]  # per block: the indent of the line they began on
        self.previous: re.Match | None = None

    def token(self, index: int, lexeme: re.Match) -> None:
        token, tokens = lexeme.group(), self.tokens
        if self.previous is not None:
            self.end_statement(self.previous, lexeme.start(), token)
        self.previous = lexeme
        if token == "{":
            self.blocks.append(_block_kind(tokens, index))
            self.brackets.append([])
            self.opened.append(0)
        elif token == "}" and self.blocks:
            self.blocks.pop()
            self.brackets.pop()
            self.opened.pop()
        elif token in ("(", "["):
            func = tokens[index - 1] if token == "(" and index and _IDENT.match(
                tokens[index - 1]) else None
            if not self.brackets[-1]:
                self.opened[-1] = _indent(self.text, lexeme.start())
            self.brackets[-1].append((token, func))
        elif token in (")", "]") and self.brackets[-1]:
            self.brackets[-1].pop()

    def end_statement(self, previous: re.Match, at: int, token: str) -> None:
        """Forget the open brackets if ``token`` at ``at`` must begin a new statement."""
        if self.brackets[-1] and _new_statement(self.text, previous, at, token,
                                                self.opened[-1]):
            self.brackets[-1] = []


def _new_statement(text: str, previous: re.Match, at: int, token: str, indent: int) -> bool:
    """Whether ``token`` (at offset ``at``, after the lexeme ``previous``) must begin a new
    statement although a bracket is open: the grammar is newline-insensitive, but no
    statement starts with anything but a name, and inside a bracket a name cannot follow a
    finished expression (``linear(4, 8`` then ``relu()`` on the next line). A name starting a
    line no deeper than the line the bracket opened on begins a statement too: a call's
    continuation lines are indented further (``lightdsl fmt`` aligns them)."""
    if "\n" not in text[previous.end():at] or not _IDENT.match(token):
        return False
    last = previous.group()
    finished = last in (")", "]") or _IDENT.match(last) or last[0].isdigit() or \
        last[0] in ".\"'"
    return bool(finished) or _indent(text, at) <= indent


def _indent(text: str, at: int) -> int:
    """The column of the first non-blank character on the line holding offset ``at``."""
    line = text[text.rfind("\n", 0, at) + 1:at + 1]
    return len(line) - len(line.lstrip(" \t"))


def _block_kind(tokens: list[str], index: int) -> tuple[str, str | None]:
    """What the ``{`` at ``tokens[index]`` opens, from the tokens before it."""
    at = index - 1
    if at >= 0 and tokens[at] == ")":  # skip a balanced (...) group
        depth = 0
        while at >= 0:
            depth += tokens[at] == ")"
            depth -= tokens[at] == "("
            at -= 1
            if depth == 0:
                break
    word = tokens[at] if at >= 0 else ""
    previous = tokens[at - 1] if at >= 1 else ""
    if previous in ("model", "data", "train"):
        return previous, word
    if word in ("layers", "forward", "repeat", "train"):
        return word, None
    return "block", None


def complete(document: Document, offset: int) -> list[Item]:
    """The completions at ``offset``, filtered by the partial word before it."""
    context = context_at(document.text, offset)
    items = _Completer(document, context).items()
    prefix = context.prefix.lower()
    seen, found = set(), []
    for item in items:
        if item.label.lower().startswith(prefix) and item.label not in seen:
            seen.add(item.label)
            found.append(item)
    return found


def _vocab(kinds, item_kind: str = "Function") -> list[Item]:
    return [Item(e.name, item_kind, signature(e), entry_markdown(e))
            for kind in kinds for e in REGISTRY.kind(kind).values()]


class _Completer:
    def __init__(self, document: Document, context: Context):
        self.document, self.context = document, context
        self.views = [v for v in (document.view(), document.good) if v and v.spec is not None]

    # ---- names the spec defines ----
    def definitions(self, keyword: str) -> list[str]:
        found = re.findall(rf"(?m)^\s*{keyword}\s+([A-Za-z_]\w*)", self.document.text)
        for view in self.views:
            found += [d.name.id for d in (view.spec.models if keyword == "model"
                                          else view.spec.data)]
        return list(dict.fromkeys(found))

    def model_node(self, name: str | None):
        for view in self.views:
            for model in view.spec.models:
                if model.name.id == name:
                    return model
        return None

    def header_hypers(self, model: str | None) -> list[str]:
        """A model's hyperparameter names read from its header in the raw text."""
        header = re.search(rf"(?m)^\s*model\s+{re.escape(model or '')}\s*\(([^)]*)\)",
                           self.document.text) if model else None
        return re.findall(r"([A-Za-z_]\w*)\s*=", header.group(1)) if header else []

    def model_items(self) -> list[Item]:
        return [Item(name, "Class", "model", f"model `{name}` of this spec")
                for name in self.definitions("model")]

    def members(self) -> list[Item]:
        """The enclosing model's hyperparameters, params, named layers and variables."""
        model = self.model_node(self.context.model())
        items = [Item(h, "Constant", "hyperparameter")
                 for h in (self.header_hypers(self.context.model()) if model is None else [])]
        if model is not None:
            items += [Item(h.name.id, "Constant", "hyperparameter") for h in model.hyper_params]
            items += [Item(p.name.id, "Field", "param") for p in model.params]
            items += [Item(layer.name.id, "Method", "named layer") for layer in model.layers]
            for forward in model.forwards:
                items += [Item(i.id, "Variable", "forward input") for i in forward.inputs]
        text = self.document.text
        items += [Item(name, "Variable", "variable")
                  for name in re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*=(?!=)", text)]
        return items

    # ---- by context ----
    def items(self) -> list[Item]:
        context = self.context
        if context.brackets and context.brackets[-1][0] == "(" and context.brackets[-1][1]:
            return self.in_call(context.brackets[-1][1])
        block = context.block
        if block is None:
            return [Item(k, "Keyword") for k in TOP_KEYWORDS]
        assigned = _ASSIGNED.match(context.line_before)
        if block in ("train", "data"):
            return self.setting_value(block, assigned.group(1)) if assigned \
                else self.block_statement(block)
        if block in ("layers", "repeat"):
            return [*_vocab(["layer"]), *self.model_items(), *self.members(),
                    Item("repeat", "Keyword", "repeat(count) { ... }")]
        if block == "forward":
            if not assigned and not context.line_before.strip():
                return [Item("return", "Keyword"), *self.members()]
            return [*self.members(), *_vocab(["function"])]
        if block == "model":
            if assigned:
                return [*_vocab(["layer"]), *self.model_items(),
                        Item("repeat", "Keyword", "repeat(count) { ... }")]
            return [Item(k, "Keyword") for k in ("param", "layers", "forward")]
        return []

    def block_statement(self, block: str) -> list[Item]:
        entry = setting_entry(block)
        items = [Item(a.name, "Property", a.type.describe(), a.doc, f"{a.name} = ")
                 for a in entry.args]
        kinds = ["statement"] if block == "train" else ["transform"]
        return items + _vocab(kinds)

    def setting_value(self, block: str, name: str) -> list[Item]:
        arg = setting_entry(block).arg(name)
        if arg is None:
            return []
        if isinstance(arg.type, Ref):
            names = self.definitions(arg.type.kind)
            kind = "Class" if arg.type.kind == "model" else "Module"
            return [Item(n, kind, arg.type.kind) for n in names]
        kinds = wanted_kinds(arg.type) + (["split"] if name in ("val", "test") else [])
        items = _vocab(kinds)
        items += [Item(_choice_text(option), "EnumMember", f"{name} choice")
                  for option in choices(arg.type)]
        if isinstance(arg.type, Bool) or "bool" in arg.type.describe():
            items += [Item("true", "Keyword"), Item("false", "Keyword")]
        return items

    def in_call(self, func: str) -> list[Item]:
        """Inside ``func(...)``: its keyword arguments (those not given yet), the values a
        keyword takes after ``=``, and the names usable as values here."""
        context = self.context
        model = self.model_node(func)
        keyword = re.search(r"([A-Za-z_]\w*)\s*=\s*$", context.line_before)
        entry = None if model is not None else find(func, self._kinds())
        if keyword and entry is not None and entry.arg(keyword.group(1)):
            options = choices(entry.arg(keyword.group(1)).type)
            if options:
                return [Item(_choice_text(o), "EnumMember") for o in options]
        values = self.members() if context.model() else []
        if model is not None:
            return [Item(h.name.id, "Property", "hyperparameter", insert=f"{h.name.id} = ")
                    for h in model.hyper_params] + values
        if func in self.definitions("model"):  # a model whose text does not parse now
            return [Item(h, "Property", "hyperparameter", insert=f"{h} = ")
                    for h in self.header_hypers(func)] + values
        if entry is None:
            return values + (_vocab(["function"]) if context.block == "forward" else [])
        given = set(re.findall(r"([A-Za-z_]\w*)\s*=", context.line_before))
        args = [Item(a.name, "Property", a.type.describe(), a.doc, f"{a.name} = ")
                for a in entry.args if a.name not in given]
        return args + values + (_vocab(["function"]) if context.block == "forward" else [])

    def _kinds(self) -> list[str]:
        block = self.context.block
        if block in ("model", "layers", "repeat", "forward"):
            return ["layer", "function"]
        if block == "data":
            return ["source", "split", "transform"]
        return ["optimizer", "scheduler", "loss", "metric", "callback", "logger", "statement"]


def _choice_text(option: str) -> str:
    """A choice as it is written: bare when it is a name (``auto``), else quoted."""
    return option if _IDENT.match(option) else f'"{option}"'

"""The registry as the editor shows it: signatures, docs, and which kind a place wants."""

from __future__ import annotations

from ..vocab import REGISTRY, Entry
from ..vocab.types import Choice, ListOf, OneOf, VocabRef, show

# The kinds a bare word may be, in the order a hover looks them up when nothing says which.
KINDS = ("layer", "function", "loss", "optimizer", "scheduler", "metric", "source", "split",
         "transform", "callback", "logger", "statement")
WHAT = {"layer": "layer", "function": "function", "loss": "loss", "optimizer": "optimizer",
        "scheduler": "scheduler", "metric": "metric", "source": "data source",
        "split": "validation split", "transform": "data transform", "callback": "callback",
        "logger": "logger", "statement": "train statement"}


def signature(entry: Entry) -> str:
    """``linear(in_features, out_features, bias = true)``."""
    args = ", ".join(a.name if a.required else f"{a.name} = {show(a.default)}"
                     for a in entry.args)
    return f"{entry.name}({args})"


def entry_markdown(entry: Entry) -> str:
    """A vocabulary entry's signature, what it is and its arguments, as markdown."""
    lines = [f"```lightdsl\n{signature(entry)}\n```",
             f"{WHAT.get(entry.kind, entry.kind)}: {entry.doc}" if entry.doc else
             WHAT.get(entry.kind, entry.kind)]
    if entry.args:
        lines.append("\n".join(f"- `{a.name}`: {a.type.describe()}"
                               + (f"; {a.doc}" if a.doc else "") for a in entry.args))
    return "\n\n".join(lines)


def arg_markdown(entry: Entry, name: str) -> str | None:
    """One argument or setting of an entry: its type, default and doc."""
    arg = entry.arg(name)
    if arg is None:
        return None
    default = "required" if arg.required else f"default `{show(arg.default)}`"
    where = f"setting of a {entry.name} block" if entry.kind == "settings" \
        else f"argument of `{entry.name}`"
    text = f"**{arg.name}**: {arg.type.describe()} ({default}) — {where}"
    return text + (f"\n\n{arg.doc}" if arg.doc else "")


def find(name: str, kinds=KINDS) -> Entry | None:
    """The first entry called ``name`` among ``kinds``."""
    for kind in kinds:
        found = REGISTRY.get(kind, name)
        if found is not None:
            return found
    return None


def wanted_kinds(type_) -> list[str]:
    """The vocabulary kinds a setting's type takes (``loss``; ``metric`` in a list)."""
    if isinstance(type_, VocabRef):
        return [type_.kind]
    if isinstance(type_, ListOf):
        return wanted_kinds(type_.item)
    if isinstance(type_, OneOf):
        return [kind for inner in type_.types for kind in wanted_kinds(inner)]
    return []


def choices(type_) -> list[str]:
    """The named options a setting's type allows (precision, accelerator)."""
    if isinstance(type_, Choice):
        return list(type_.options)
    if isinstance(type_, OneOf):
        return [option for inner in type_.types for option in choices(inner)]
    return []


def setting_entry(block: str) -> Entry:
    """The settings entry of a ``train`` or ``data`` block."""
    return REGISTRY.get("settings", block)

"""Argument types for vocabulary entries and settings: what a value may be, said in words.

Values here are the constant-evaluated forms of spec expressions (see
:mod:`lightdsl.checker.constants`): int, float, bool, str, None, list, :class:`Symbol` for a bare name
such as ``auto``, and :class:`CallValue` for a call such as ``sgd(lr = 0.01)``.
"""

from __future__ import annotations

import math
from typing import Any

from ..frontend.records import Record, _set
from ..suggest import closest


# Records (frontend/records.py), not dataclasses: a dataclass costs every `check` ~0.5 ms to
# create at import.
class Symbol(Record):
    """A bare name used as a value: ``auto``, ``sum_squared_error``, ``doses``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        _set(self, "name", name)

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:  # by class and name (a subclass's extras aside)
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        return hash((self.__class__, self.name))


class Hyphenated(Symbol):
    """Bare words joined by ``-`` (``bf16-mixed``, ``16-mixed``): the parser reads a
    subtraction. It stands for that choice where a choice is wanted; anywhere else it is the
    arithmetic mistake ``problem`` describes (not compared: the words are the value)."""

    __slots__ = ("problem",)

    def __init__(self, name: str, problem: str = ""):
        _set(self, "name", name)
        _set(self, "problem", problem)


class CallValue(Record):
    """A call used as a value: ``sgd(lr = 0.01)``; ``node`` is its :class:`~lightdsl.frontend.nodes.Call`
    (neither compared nor shown)."""

    __slots__ = ("name", "node")
    _hidden = frozenset({"node"})

    def __init__(self, name: str, node: Any):
        _set(self, "name", name)
        _set(self, "node", node)

    __eq__, __hash__ = Symbol.__eq__, Symbol.__hash__  # by class and name


def show(value: Any) -> str:
    """A value as the user wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, CallValue):
        return f"{value.name}(...)"
    if _is_int(value) and abs(value) >= 10 ** 30:  # `10**200`: its size, not 201 digits
        return f"{str(value)[:4]}... ({len(str(abs(value)))} digits)"
    return str(value)


class Type:
    """Base type: ``problem(value)`` is None when the value fits, else what is wrong.

    Subclasses list their ``_fields`` (class attributes give the defaults); instances are
    immutable and compare by value. Plain classes, not dataclasses: ``lightdsl check`` imports
    this module on every run, and generating dataclass methods costs start-up time.
    """

    _fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._fields)} arguments")
        given = {**dict(zip(self._fields, args)), **kwargs}
        for name in self._fields:
            value = given[name] if name in given else getattr(type(self), name)
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(vars(self).items())))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({shown})"

    def describe(self) -> str:
        raise NotImplementedError

    def problem(self, value: Any) -> str | None:
        if self.accepts(value):
            return None
        return _word_problem(self, value) or f"expected {self.describe()}, got {show(value)}"

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounds_text(ge=None, gt=None, le=None, lt=None) -> str:
    parts = [f">= {ge}" if ge is not None else "", f"> {gt}" if gt is not None else "",
             f"<= {le}" if le is not None else "", f"< {lt}" if lt is not None else ""]
    text = " and ".join(p for p in parts if p)
    return f" {text}" if text else ""


def _within(value, ge=None, gt=None, le=None, lt=None) -> bool:
    return ((ge is None or value >= ge) and (gt is None or value > gt)
            and (le is None or value <= le) and (lt is None or value < lt))


SANITY_BOUND = 2**31 - 1


class Int(Type):
    _fields = ("ge", "le")
    ge: int | None = None
    le: int | None = None

    def describe(self) -> str:
        # A sanity bound on sizes (2**31 - 1 and up) is only worth saying when it is exceeded.
        le = self.le if self.le is not None and self.le < SANITY_BOUND else None
        return "an integer" + _bounds_text(ge=self.ge, le=le)

    def problem(self, value: Any) -> str | None:
        if _is_int(value) and self.le is not None and value > self.le:
            return f"expected an integer{_bounds_text(ge=self.ge, le=self.le)}, got {show(value)}"
        if isinstance(value, float):  # `1e9`, `4.0`: not an integer, whatever its size
            return f"expected an integer, got {show(value)}, " + _float_for_int(value)
        return super().problem(value)

    def accepts(self, value: Any) -> bool:
        return _is_int(value) and _within(value, ge=self.ge, le=self.le)


def _float_for_int(value: float) -> str:
    """Why a float is no integer, and the integer to write where it is a whole one."""
    if not math.isfinite(value):
        return "which is not a number"
    if not value.is_integer():
        return "which is not a whole number"
    why = "which is a float (an exponent or a decimal point makes one)"
    return f"{why}: write {int(value)}" if abs(value) < 2**63 else f"{why}, and too large"


class Float(Type):
    _fields = ("ge", "gt", "le", "lt")
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def describe(self) -> str:
        return "a number" + _bounds_text(self.ge, self.gt, self.le, self.lt)

    def problem(self, value: Any) -> str | None:
        if isinstance(value, float) and not math.isfinite(value):  # `1e999` overflows to inf
            why = "too large for a float" if math.isinf(value) else "not a number"
            return f"expected a finite number{_bounds_text(self.ge, self.gt, self.le, self.lt)}" \
                f", got {value} ({why})"
        return super().problem(value)

    def accepts(self, value: Any) -> bool:
        return _is_number(value) and math.isfinite(value) \
            and _within(value, self.ge, self.gt, self.le, self.lt)


class Bool(Type):
    def describe(self) -> str:
        return "true or false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


class Str(Type):
    def describe(self) -> str:
        return "a string"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)


class Choice(Type):
    """One of a few names, written bare (``auto``), quoted (``"auto"``) or as a number (``32``)."""

    _fields = ("options",)
    options: tuple[str, ...]

    def __init__(self, *options: str):
        object.__setattr__(self, "options", tuple(options))

    def describe(self) -> str:
        shown = [f"`{o}`" for o in self.options]
        return "one of " + ", ".join(shown) if len(shown) > 1 else shown[0]

    def accepts(self, value: Any) -> bool:
        return normalize_choice(value) in self.options


def normalize_choice(value: Any) -> str | None:
    """The option name a value stands for: Symbol("auto") and "auto" are both "auto", the
    literal ``none`` is "none", ``bf16-mixed`` (a :class:`Hyphenated`) is "bf16-mixed"."""
    if isinstance(value, Symbol):
        return value.name
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if _is_int(value):
        return str(value)
    return None


def choices(type_: Type) -> list[str]:
    """The options of every :class:`Choice` in a type (through :class:`OneOf`)."""
    if isinstance(type_, Choice):
        return list(type_.options)
    if isinstance(type_, OneOf):
        return [o for t in type_.types for o in choices(t)]
    return []


def as_choice(type_: Type, value: Any) -> Any:
    """The option string a bare value stands for (``bf16-mixed``, ``none`` where "none" is an
    option), else ``value``: what the builder gets is the option as torch spells it."""
    is_bare = isinstance(value, (Symbol, bool)) or value is None
    if not is_bare or normalize_choice(value) not in choices(type_):
        return value
    if _accepts_otherwise(type_, value):
        return value  # `none` where none itself is allowed stays None
    return normalize_choice(value)


def _accepts_otherwise(type_: Type, value: Any) -> bool:
    """Whether a part of ``type_`` other than a Choice accepts ``value``."""
    if isinstance(type_, Choice):
        return False
    if isinstance(type_, OneOf):
        return any(_accepts_otherwise(t, value) for t in type_.types)
    return type_.accepts(value)


def choice_hint(type_: Type, name: str, value: Any) -> str | None:
    """For bare words joined by ``-`` that are no option (``bf16-mix``): the closest option,
    written as it may always be written, quoted."""
    options = choices(type_)
    if not isinstance(value, Hyphenated) or not options:
        return None
    match = closest(value.name, options)
    return f'write the option in quotes: {name} = "{match}"' if match else None


def _word_problem(type_: Type, value: Any) -> str | None:
    """Where no word is a choice (``max_epochs`` takes -1, not words), ``epochs-1`` is the
    arithmetic it reads as."""
    if isinstance(value, Hyphenated) and \
            not any(c.isalpha() for option in choices(type_) for c in option):
        return value.problem
    return None


class NoneValue(Type):
    def describe(self) -> str:
        return "`none`"

    def accepts(self, value: Any) -> bool:
        return value is None


class OneOf(Type):
    """Any of several types: ``OneOf(Int(ge=1), Choice("auto"))``."""

    _fields = ("types",)
    types: tuple[Type, ...]

    def __init__(self, *types: Type):
        object.__setattr__(self, "types", tuple(types))

    def describe(self) -> str:
        texts = [t.describe() for t in self.types]
        return ", ".join(texts[:-1]) + " or " + texts[-1]

    def accepts(self, value: Any) -> bool:
        return any(t.accepts(value) for t in self.types)

    def problem(self, value: Any) -> str | None:
        if self.accepts(value):
            return None
        if _word_problem(self, value):
            return _word_problem(self, value)
        for t in self.types:  # a value of the right kind but out of range: say the range
            if _same_kind(t, value):
                return t.problem(value)
        return f"expected {self.describe()}, got {show(value)}"


def _same_kind(t: Type, value: Any) -> bool:
    return (isinstance(t, Int) and _is_int(value)) or (isinstance(t, Float) and _is_number(value))


def optional(t: Type) -> Type:
    """``t`` or ``none``."""
    return OneOf(t, NoneValue())


class ListOf(Type):
    """A list of items of one type; ``length`` exact, or at least ``min_length`` items."""

    _fields = ("item", "length", "min_length")
    item: Type
    length: int | None = None
    min_length: int = 0

    def describe(self) -> str:
        if self.length:
            return f"a list of {self.length} values ({self.item.describe()})"
        if self.min_length == 1:
            return f"a non-empty list of values ({self.item.describe()})"
        least = f"at least {self.min_length} " if self.min_length else ""
        return f"a list of {least}values ({self.item.describe()})"

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, list) and all(self.item.accepts(v) for v in value)
                and (self.length is None or len(value) == self.length)
                and len(value) >= self.min_length)


class Tensor(Type):
    """A tensor argument of a ``forward`` function (checked by shape inference, not here)."""

    def describe(self) -> str:
        return "a tensor"

    def accepts(self, value: Any) -> bool:
        return True


class VocabRef(Type):
    """A vocabulary entry of one kind, by name (``cross_entropy``) or call (``sgd(lr = 0.1)``)."""

    _fields = ("kind",)
    kind: str

    def describe(self) -> str:
        return f"a {self.kind}"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (Symbol, CallValue))


class Ref(Type):
    """The name of a definition in the spec (``model``, ``data``), or a call of a model."""

    _fields = ("kind",)
    kind: str

    def describe(self) -> str:
        return f"the name of a `{self.kind}` block"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (Symbol, CallValue))


class Nested(Type):
    """A number or a (nested) list of numbers: tensor literals and inline data."""

    def describe(self) -> str:
        return "a number or a list of numbers"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, list):
            return all(self.accepts(v) for v in value)
        return _is_number(value) or isinstance(value, str)


ANY = OneOf(Int(), Float(), Bool(), Str(), NoneValue())


class TensorList(Type):
    """A list of tensors (``cat([a, b], dim = 1)``)."""

    def describe(self) -> str:
        return "a list of tensors"

    def accepts(self, value: Any) -> bool:
        return True

"""Immutable record classes for the front end (AST nodes, spans, diagnostics), without pydantic.

These records are only ever made by lightdsl's own code from values it has already checked, so
nothing here validates. What they must be is cheap: ``lightdsl check`` creates them on every
run, and a large spec creates tens of thousands. A record class lists its fields in
``__slots__`` and writes its ``__init__`` out (compiled once into the bytecode cache, not
generated at each import as ``dataclasses`` does, which costs about 0.7 ms a class); the
``__init__``'s parameters are its fields, in their order. :class:`Record` gives them the rest:
immutability, equality and hashing by value, a readable ``repr``, :meth:`Record.replace` and
pickling.
"""

from __future__ import annotations

from typing import Any

_set = object.__setattr__  # how an ``__init__`` stores a field of a frozen record


class Record:
    """Base of immutable records. ``_fields`` (the ``__init__``'s parameters, in order) is
    filled in for each subclass that has an ``__init__``; they must be exactly its slots."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _hidden: frozenset[str] = frozenset()  # fields that repr leaves out

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:  # an abstract base such as Node
            return
        code = cls.__init__.__code__
        cls._fields = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        slots = {name for klass in cls.__mro__ for name in klass.__dict__.get("__slots__", ())}
        if set(cls._fields) != slots:
            raise TypeError(f"{cls.__name__}.__init__ takes {cls._fields}, but its slots are "
                            f"{sorted(slots)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:  # a record holding a list is unhashable, as a tuple of one is
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields
                          if name not in self._hidden)
        return f"{type(self).__name__}({shown})"

    def replace(self, **changes: Any) -> Record:
        """A copy with some fields changed (the record itself never changes)."""
        values = dict(zip(self._fields, self._values()))
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {min(unknown)!r}")
        return type(self)(**{**values, **changes})

    def __reduce__(self):
        return _restore, (type(self), self._values())


def _restore(cls: type[Record], values: tuple) -> Record:
    """Unpickle (or copy) a record: the fields are set as ``__init__`` would set them."""
    record = object.__new__(cls)
    for name, value in zip(cls._fields, values):
        _set(record, name, value)
    return record


class Struct:
    """Base of the mutable result records (the checker's ``ModelInfo``, ``DataInfo``, ...):
    each writes its ``__init__`` out, as a :class:`Record` does (a dataclass would generate it
    at each import, and ``lightdsl check`` imports them all). Equal by class and attributes, and
    so unhashable, like the mutable dataclasses they replace; ``repr`` shows the attributes."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return vars(self) == vars(other)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({shown})"

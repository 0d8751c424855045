"""The vocabulary of the language: one registry read by the checker, builder and code generator."""

from . import data, functions, layers, metrics, settings, training  # noqa: F401  (they register entries)
from .registry import REGISTRY, REQUIRED, Arg, Entry, Registry

__all__ = ["REGISTRY", "REQUIRED", "Arg", "Entry", "Registry"]

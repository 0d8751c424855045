"""The vocabulary of the language: one registry read by the checker, builder and code generator."""

from . import data, functions, layers, python, settings, training  # noqa: F401  (they register)
from .registry import REGISTRY, REQUIRED, Arg, Entry, Registry

__all__ = ["REGISTRY", "REQUIRED", "Arg", "Entry", "Registry"]

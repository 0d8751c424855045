"""lightdsl: a declarative language for deep-learning experiments.

    import lightdsl
    analysis = lightdsl.check_file("specs/mnist_mlp.lit")   # torch-free
    experiment = lightdsl.load("specs/statquest.lit")       # builds torch objects lazily
    experiment.fit()
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "check_file", "check_text", "load"]


def check_file(path: str):
    """Parse and check a spec file; returns an Analysis with diagnostics (no torch import)."""
    from .analysis import analyze_file

    return analyze_file(path)


def check_text(text: str, path: str = "<string>"):
    """Parse and check spec text."""
    from .analysis import analyze_text

    return analyze_text(text, path)


def load(path: str, run: str | None = None, overrides: list[str] | None = None):
    """Check a spec and return its :class:`~lightdsl.api.Experiment` (raises SpecError)."""
    from .api import load as _load

    return _load(path, run, overrides)

"""Sweeps, torch-free: a ``sweep`` block read into a search space whose every point is checked
before any trial runs (what ``lightdsl check`` reports), and a point applied to the spec (what
a trial trains). The engine that runs trials is :mod:`lightdsl.sweep`."""

from .checking import check_sweeps
from .points import apply_point, point_exprs
from .spaces import Dimension, Space, Target

__all__ = ["Dimension", "Space", "Target", "apply_point", "check_sweeps", "point_exprs"]

"""How lightdsl shows a few values to people, the same wherever they appear: a tensor shape as
text (``lightdsl check``'s messages, the editor's hover, the trainer's model summary), how
many classes a confusion matrix's picture or table shows, and a count with its noun.

Ground floor: it imports nothing (no torch, no numpy, nothing of the language), so that the
trainer and the checker share one definition.
"""

from __future__ import annotations

#: Above this many classes a matrix's picture or table shows only the classes most often
#: confused (more are unreadable).
MATRIX_SHOWN_CLASSES = 20


def fmt(shape: tuple[int | None, ...] | None) -> str:
    """``(N, 1, 28, 28)``: N for the batch, ? for an unknown size."""
    if shape is None:
        return "(unknown)"
    dims = ["N" if i == 0 and d is None else ("?" if d is None else str(d))
            for i, d in enumerate(shape)]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


def plural(count: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``, ``0 steps``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

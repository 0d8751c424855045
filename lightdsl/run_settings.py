"""Facts about a run's trainer settings that the language (``lightdsl check``), the trainer and the
code generator share, each said once here.

This module imports neither torch nor the language: the checker must stay torch-free and the
trainer knows nothing of the language, so the one definition lives between them.
"""

from __future__ import annotations

from typing import Any

#: Lightning's precision names, as the trainer resolves them (lightdsl.trainer.devices).
PRECISIONS = ("32-true", "64-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true")
#: Lightning's short names, which a spec may write too.
SHORT_PRECISIONS = {"32": "32-true", "64": "64-true", "16": "16-mixed", "bf16": "bf16-mixed"}
#: Every alias the trainer's Python API accepts (the short names and two words).
PRECISION_ALIASES = {**SHORT_PRECISIONS, "half": "16-true", "double": "64-true"}

UNBOUNDED = -1  # max_epochs / max_steps: no limit
DEFAULT_MAX_EPOCHS = 1000  # Lightning's, when neither max_epochs nor max_steps is given


def canonical_precision(name: Any) -> str:
    """A precision as its full name (``"16"`` -> ``"16-mixed"``); other values unchanged."""
    text = str(name)
    return PRECISION_ALIASES.get(text, text)


def max_epochs(value: Any, max_steps: Any = UNBOUNDED) -> Any:
    """max_epochs as the trainer runs with it: a spec's ``-1`` (written as the word "-1") is
    -1, no limit; unset (None) is Lightning's default, 1000 epochs, or no limit when max_steps
    bounds the run. Other values are returned as they are (the trainer checks them)."""
    if value is None:
        return DEFAULT_MAX_EPOCHS if max_steps == UNBOUNDED else UNBOUNDED
    return UNBOUNDED if value == "-1" else value

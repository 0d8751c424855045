"""Where the weights are inside what a file holds: one rule for check (stubs) and train (torch).

- a lightdsl checkpoint (``format: lightdsl-checkpoint/1``) and a pytorch-lightning one
  (``pytorch-lightning_version``): their ``state_dict``;
- any other dict with a ``state_dict`` (or ``model_state_dict``, as PyTorch's tutorial saves a
  checkpoint, or ``model``) mapping names to tensors: that dict;
- a plain ``state_dict`` saved on its own (``torch.save(model.state_dict(), path)``): itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: the format tag of lightdsl's checkpoints (``lightdsl.trainer.checkpoint.FORMAT``; here as
#: text so that check needs no torch: a test holds the two equal)
LIGHTDSL_FORMAT = "lightdsl-checkpoint/1"
#: the key pytorch-lightning writes its version under (``lightning_layout.VERSION_KEY``)
LIGHTNING_VERSION_KEY = "pytorch-lightning_version"
STATE_KEYS = ("state_dict", "model_state_dict", "model")


@dataclass(frozen=True)
class Located:
    """The weights found in a file: ``key`` is where (None: the whole file is the dict)."""

    tensors: dict
    key: str | None
    kind: str  # in words: "a lightdsl checkpoint", "a state_dict", ...


def find_state_dict(obj, is_tensor: Callable[[object], bool]) -> Located | None:
    """The dict of name -> tensor that ``obj`` (what the file unpickles to) holds, or None."""

    def weights(value) -> bool:
        return isinstance(value, dict) and all(
            isinstance(k, str) and is_tensor(v) for k, v in value.items())

    if not isinstance(obj, dict):
        return None
    if obj.get("format") == LIGHTDSL_FORMAT and weights(obj.get("state_dict")):
        return Located(obj["state_dict"], "state_dict", "a lightdsl checkpoint")
    version = obj.get(LIGHTNING_VERSION_KEY)
    if version is not None and weights(obj.get("state_dict")):
        return Located(obj["state_dict"], "state_dict",
                       f"a pytorch-lightning checkpoint (Lightning {version})")
    if obj and weights(obj):
        return Located(obj, None, "a state_dict")
    for key in STATE_KEYS:
        if weights(obj.get(key)) and obj[key]:
            return Located(obj[key], key, f"a checkpoint with its weights under {key!r}")
    return None


def contents(obj) -> str:
    """What a file holds where no weights were found, in words (its top-level keys)."""
    if not isinstance(obj, dict):
        return f"holds {_kind(obj)}, not a dict of tensors"
    keys = [repr(k) for k in list(obj)[:8]]
    more = f" and {len(obj) - 8} more" if len(obj) > 8 else ""
    shown = f" (keys {', '.join(keys)}{more})" if keys else " (empty)"
    return (f"holds a dict{shown} with no state_dict of tensors: neither a "
            f"{', '.join(repr(k) for k in STATE_KEYS)} entry nor only tensors")


def _kind(obj) -> str:
    name = getattr(type(obj), "qualname", None)  # a placeholder for what was not rebuilt
    return f"a {name} object" if isinstance(name, str) else f"a {type(obj).__name__}"

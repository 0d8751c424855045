"""Memory sizes as messages print them: a ground-floor leaf (no lightdsl imports, no torch).

The checker's memory warning, the builder's "does not fit" error and the trainer's GPU check
all say sizes the same way, without depending on each other.
"""

from __future__ import annotations


def parameter_bytes(count: int, itemsize: int = 4) -> str:
    """``40.0 GB``: ``count`` items of ``itemsize`` bytes in decimal units."""
    size = count * itemsize
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1000:.1f} kB"

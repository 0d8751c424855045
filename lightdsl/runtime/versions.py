"""A run's ``<root>/<name>/version_N`` folder, claimed so that no two runs share one.

Torch-free: lightdsl's trainer (through :mod:`lightdsl.outputs`) and the generated torch
scripts (which carry this code) number their run folders with these two functions.
"""

import os
import re
from pathlib import Path


def version_numbers(parent):
    """The N of ``parent``'s ``version_N`` entries (none when ``parent`` is not a folder)."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    return [
        int(match.group(1))
        for child in parent.iterdir()
        if (match := re.fullmatch(r"version_(\d+)", child.name))
    ]


def claim_version_dir(root, name):
    """Create and return a new ``<root>/<name>/version_N``, N one past the highest there.

    Listing the folder and taking one past the highest number is not enough: two runs started
    at once both see the same N and then write into one folder (each other's last.ckpt and
    event files). ``os.mkdir`` fails for all but one of them; the others take the next number.
    """
    parent = Path(root) / name
    parent.mkdir(parents=True, exist_ok=True)
    number = max(version_numbers(parent), default=-1) + 1
    while True:
        try:
            os.mkdir(parent / f"version_{number}")
            return parent / f"version_{number}"
        except FileExistsError:  # taken by another run (or a file): the next one
            number += 1

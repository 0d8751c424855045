"""Confusion matrices (and other matrix-valued metrics) as pictures and as text.

The picture (:func:`~lightdsl.runtime.metrics.matrix_image`, which generated scripts carry too)
is drawn with numpy alone: matplotlib is not needed (it is an optional extra). TensorBoard shows
it under IMAGES.
"""

from __future__ import annotations

import numpy as np

from lightdsl.runtime.metrics import matrix_image

__all__ = ["matrix_image", "matrix_text"]


def matrix_text(name: str, matrix) -> str:
    """The matrix as an aligned table: one row per true class, one column per prediction."""
    counts = np.asarray(matrix)
    cells = [[str(int(v)) if float(v).is_integer() else f"{float(v):.3g}" for v in row]
             for row in counts]
    width = max([len(c) for row in cells for c in row] + [len(str(len(counts)))])
    header = " " * (width + 2) + " ".join(str(j).rjust(width) for j in range(counts.shape[1]))
    lines = [f"{name} (rows: true class, columns: predicted class)", header]
    lines += [f"{str(i).rjust(width)}  " + " ".join(c.rjust(width) for c in row)
              for i, row in enumerate(cells)]
    return "\n".join(lines)

"""CSV files: numeric feature columns and a label column (numbers, or class names as strings)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lightdsl.data.dataset import Dataset, encode_classes, name_hint
from lightdsl.errors import DataError

Column = str | int


def load_csv(
    path: str | Path,
    label: Column | None = None,
    features: Sequence[Column] | None = None,
    delimiter: str = ",",
    header: bool = True,
) -> Dataset:
    """Load a CSV file: ``features`` columns (default: all but ``label``) as float32 inputs.

    Columns are named by header name or 0-based index (negative counts from the end). Integer
    labels become int64 class indices, other numbers float32 targets, and strings class names
    mapped to indices into the sorted ``classes`` list. Blank lines are skipped; any other bad row
    (wrong number of fields, a non-numeric or empty cell) is a DataError naming file, line and
    column.
    """
    source = str(path)
    rows, lines = _read_rows(Path(path), delimiter)
    if header:
        names, rows, lines = [n.strip() for n in rows[0]], rows[1:], lines[1:]
    else:
        names = [str(i) for i in range(len(rows[0]))]
    if not rows:
        raise DataError("the file has a header but no data rows", path=source)
    _check_widths(rows, lines, len(names), source, header)
    label_col = None if label is None else _column(label, names, source, "label", header)
    if features is None:
        feature_cols = [i for i in range(len(names)) if i != label_col]
    else:
        feature_cols = [_column(f, names, source, "feature", header) for f in features]
    if label_col is not None and label_col in feature_cols:
        raise DataError(f"column {names[label_col]!r} is both the label and a feature", path=source)
    if not feature_cols:
        raise DataError(
            "no feature columns left",
            path=source,
            hint="a CSV needs at least one feature column besides the label",
        )
    table = np.array(rows, dtype=str)
    inputs = torch.from_numpy(_numbers(table, feature_cols, names, lines, source))
    if label_col is None:
        return Dataset(inputs, source=source, lines=lines)
    labels, classes = _labels(table[:, label_col], names[label_col], lines, source)
    return Dataset(inputs, labels, classes, source=source, lines=lines)


def first_row(path: str | Path, delimiter: str = ",") -> list[str]:
    """The first non-blank row of a CSV file, its cells stripped (a header, or data)."""
    rows, _ = _read_rows(Path(path), delimiter, limit=1)
    return [cell.strip() for cell in rows[0]]


def is_number(cell: str) -> bool:
    """Whether a CSV cell reads as a number (as the loader reads features)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_rows(path: Path, delimiter: str, limit: int | None = None) -> tuple[list[list[str]], list[int]]:
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    if len(delimiter) != 1:
        raise DataError(f"delimiter must be one character, got {delimiter!r}", path=str(path))
    rows, lines = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
                    if len(rows) == limit:
                        break
    except UnicodeDecodeError as err:
        raise DataError(
            f"not UTF-8 text ({err.reason} at byte {err.start})", path=str(path)
        ) from err
    except csv.Error as err:
        raise DataError(
            f"malformed CSV ({err})", path=str(path), where=str(reader.line_num)
        ) from err
    if not rows:
        raise DataError("the file is empty", path=str(path))
    return rows, lines


def _check_widths(rows, lines, width: int, source: str, header: bool) -> None:
    for row, line in zip(rows, lines):
        if len(row) != width:
            like = "the header" if header else "the first row"
            raise DataError(
                f"row has {len(row)} fields, expected {width} like {like}",
                path=source,
                where=str(line),
                hint="check for a missing or extra delimiter in this row",
            )


def _column(key: Column, names: list[str], source: str, what: str, header: bool) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if -len(names) <= key < len(names):
            return key % len(names)
        raise DataError(
            f"{what} column index {key} is out of range: the file has {len(names)} columns",
            path=source,
        )
    matches = [i for i, name in enumerate(names) if name == key]
    if len(matches) == 1:
        return matches[0]
    where = "1" if header else None
    if matches:
        raise DataError(
            f"{len(matches)} columns are named {key!r}",
            path=source,
            where=where,
            hint="give the column by its 0-based index instead",
        )
    hint = name_hint(str(key), names) if header else "without a header, name columns by index"
    raise DataError(f"no {what} column named {key!r}", path=source, where=where, hint=hint)


def _numbers(table: np.ndarray, cols: list[int], names, lines, source: str) -> np.ndarray:
    try:
        wide = table[:, cols].astype(np.float64)
    except ValueError:
        _raise_bad_cell(table, cols, names, lines, source)
    with np.errstate(over="ignore"):
        values = wide.astype(np.float32)
    overflow = np.argwhere(np.isinf(values) & np.isfinite(wide))
    if len(overflow):
        r, c = overflow[0]
        raise DataError(
            f"value {table[r, cols[c]].strip()!r} in column {names[cols[c]]!r} is "
            "too large for float32",
            path=source,
            where=str(lines[r]),
        )
    return values


def _raise_bad_cell(table: np.ndarray, cols: list[int], names, lines, source: str) -> None:
    for r, row in enumerate(table):  # only on the error path: find the first bad cell
        for c in cols:
            try:
                float(row[c])
            except ValueError:
                raise DataError(
                    _bad_cell(row[c], names[c], c), path=source, where=str(lines[r])
                ) from None
    raise DataError("cannot convert the features to numbers", path=source)  # pragma: no cover


def _bad_cell(value: str, name: str, col: int) -> str:
    what = "empty cell" if not value.strip() else f"non-numeric value {value.strip()!r}"
    return f"{what} in column {name!r} (column {col + 1})"


def _labels(column: np.ndarray, name: str, lines, source: str):
    column = np.char.strip(column)
    empty = np.flatnonzero(column == "")
    if len(empty):
        raise DataError(f"empty label in column {name!r}", path=source, where=str(lines[empty[0]]))
    try:
        return torch.from_numpy(column.astype(np.int64)), None
    except (ValueError, OverflowError):
        pass
    try:
        wide = column.astype(np.float64)
    except ValueError:
        return encode_classes(column)
    _check_finite_labels(column, wide, name, lines, source)
    return torch.from_numpy(wide.astype(np.float32)), None


def _check_finite_labels(column: np.ndarray, wide: np.ndarray, name: str, lines,
                         source: str) -> None:
    """NaN, inf, or a value float32 cannot hold: never a usable label or target."""
    too_big = np.abs(wide) > np.finfo(np.float32).max
    bad = np.flatnonzero(~np.isfinite(wide) | too_big)
    if len(bad):
        r = bad[0]
        what = "too large for float32" if np.isfinite(wide[r]) else "not a finite number"
        raise DataError(
            f"label {str(column[r])!r} in column {name!r} is {what}"
            + (f" ({len(bad)} such labels)" if len(bad) > 1 else ""),
            path=source,
            where=str(lines[r]),
            hint="fix or drop the row: a label must be a class or a finite number",
        )

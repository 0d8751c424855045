"""Hover latency of `lightdsl lsp` on the largest spec in specs/, over a real stdio round trip.

Warm: the document is open and analysed; each hover is one request and its answer (pygls's
client, the server in its own process). After a change: each hover follows an edit, so it
includes parsing and checking the whole spec again. Goal: under 50 ms warm.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from .common import Row

ROOT = Path(__file__).resolve().parents[1]


def largest_spec() -> Path:
    return max((ROOT / "specs").glob("*.lit"), key=lambda p: p.stat().st_size)


def _positions(text: str) -> list[tuple[int, int]]:
    """One hover place per layer call in forward lines and per named layer."""
    found = []
    for number, line in enumerate(text.splitlines()):
        if "(" in line and not line.lstrip().startswith("#"):
            found.append((number, line.index("(") - 1))
    return found


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(repeats: int = 200) -> dict[str, list[float]]:
    """Seconds per hover: ``warm`` and ``after_change`` samples."""
    from tests.lsp.session import Session

    path = largest_spec()
    text = path.read_text()
    session = Session(debounce=10.0)  # no diagnostics run in between: hover does the work
    try:
        uri = session.open(path)
        session.next_diagnostics(uri)
        places = _positions(text)
        warm, changed = [], []
        for index in range(repeats):
            line, column = places[index % len(places)]
            started = time.perf_counter()
            assert session.hover(uri, line, column) is not None
            warm.append(time.perf_counter() - started)
        for index in range(max(repeats // 4, 10)):
            line, column = places[index % len(places)]
            session.change(uri, index + 2, text + "\n" * (index % 2))
            started = time.perf_counter()
            assert session.hover(uri, line, column) is not None
            changed.append(time.perf_counter() - started)
        return {"warm": warm, "after_change": changed}
    finally:
        session.close()


def run(repeats: int = 200) -> list[Row]:
    samples = measure(repeats)
    name = largest_spec().name
    rows = []
    for case, values in samples.items():
        note = (f"{name}, {len(values)} hovers; p95 {_p95(values) * 1000:.1f} ms, "
                f"median {statistics.median(values) * 1000:.1f} ms")
        rows.append(Row("lsp", f"hover ({case.replace('_', ' ')})", statistics.median(values),
                        target="< 50 ms warm" if case == "warm" else None, note=note,
                        samples=values))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row.case, row.note)

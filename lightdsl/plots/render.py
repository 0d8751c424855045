"""Writing a diagram: DOT text as is, or drawn as SVG/PNG/PDF by Graphviz's ``dot`` when it is
installed, else by a small layered layout in matplotlib."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import LightdslError, UsageError
from ..outputs import prepare_file, writing
from .common import require_matplotlib, save_figure
from .graph import Graph, to_dot

_COLORS = {"input": "#cfe2f3", "output": "#d9ead3", "layer": "#fff2cc", "function": "#ead1dc",
           "op": "#eeeeee", "const": "white", "param": "#ffd966", "frozen": "#d9d9d9"}


def write_graph(graph: Graph, path: str | Path) -> tuple[list[str], str]:
    """Write ``graph`` to ``path`` (.dot, .gv, .svg, .png or .pdf).

    Returns the written paths and how the picture was drawn: "dot" (Graphviz), "matplotlib"
    (fallback layout), "text" (DOT asked for) or "text-fallback" (a picture was asked for, but
    neither Graphviz nor matplotlib is installed: the .dot file was written instead).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    text = to_dot(graph)
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise UsageError(f"{path}: cannot write a diagram as .{fmt or '(no suffix)'}",
                            hint="use .svg, .png, .pdf or .dot")
    prepare_file(path)
    if fmt in ("dot", "gv"):
        with writing(path):
            path.write_text(text)
        return [str(path)], "text"
    if _render_with_dot(text, path, fmt):
        return [str(path)], "dot"
    try:
        return draw_with_matplotlib(graph, path), "matplotlib"
    except UsageError:
        raise
    except LightdslError:  # no matplotlib either: the DOT text is all we can give
        dot_path = path.with_suffix(".dot")
        with writing(dot_path):
            dot_path.write_text(text)
        return [str(dot_path)], "text-fallback"


def _render_with_dot(text: str, path: Path, fmt: str) -> bool:
    try:
        import graphviz  # the python package; it runs the same `dot` binary
    except ImportError:
        graphviz = None
    if shutil.which("dot") is None:
        return False
    try:
        if graphviz is not None:
            path.write_bytes(graphviz.Source(text).pipe(format=fmt))
        else:
            subprocess.run(["dot", f"-T{fmt}", "-o", str(path)], input=text.encode(),
                           check=True, capture_output=True, timeout=60)
    except Exception:  # noqa: BLE001 - a broken Graphviz install: fall back
        return False
    return True


def layered_layout(graph: Graph) -> dict[str, tuple[float, int]]:
    """``{node: (x, rank)}``: rank = longest path from the input; params and constants sit
    one rank above their first user; x follows the parents (params: their users)."""
    incoming: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    outgoing: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for edge in graph.edges:
        incoming[edge.target].append(edge.source)
        outgoing[edge.source].append(edge.target)
    rank: dict[str, int] = {}

    def depth(node: str, seen=()) -> int:
        if node not in rank:
            parents = [p for p in incoming[node] if p not in seen and not _floats(p, graph)]
            rank[node] = 1 + max((depth(p, (*seen, node)) for p in parents), default=-1)
        return rank[node]

    for node in graph.nodes:
        depth(node.id)
    floating = [node.id for node in graph.nodes if _floats(node.id, graph) and outgoing[node.id]]
    for node in floating:
        rank[node] = max(0, min(rank[c] for c in outgoing[node]) - 1)
    x: dict[str, float] = {}
    for level in sorted(set(rank.values())):
        fixed = [n.id for n in graph.nodes if rank[n.id] == level and n.id not in floating]
        _place(fixed, {m: _mean([x[p] for p in incoming[m] if p in x]) for m in fixed}, x)
    for level in sorted({rank[f] for f in floating}):
        row = [n.id for n in graph.nodes if rank[n.id] == level]
        targets = {m: (_mean([x[c] for c in outgoing[m] if c in x]) - 0.5 if m in floating
                       else x.get(m, 0.0)) for m in row}
        _place(row, targets, x)
    return {k: (x.get(k, 0.0), rank[k]) for k in rank}


def _floats(node_id: str, graph: Graph) -> bool:
    return graph.nodes[int(node_id[1:])].kind in ("param", "const")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _place(members: list[str], targets: dict[str, float], x: dict[str, float]) -> None:
    """Positions near the targets, at least 1 apart, centred on the targets' mean."""
    ordered = sorted(members, key=lambda m: targets[m])
    placed: list[float] = []
    for member in ordered:
        placed.append(max(targets[member], placed[-1] + 1.0) if placed else targets[member])
    shift = _mean([targets[m] for m in ordered]) - _mean(placed)
    for member, value in zip(ordered, placed):
        x[member] = value + shift


def draw_with_matplotlib(graph: Graph, path: Path) -> list[str]:
    """The diagram drawn without Graphviz: boxes in layers, arrows labelled with shapes."""
    plt = require_matplotlib()
    positions = layered_layout(graph)
    width = max(sum(1 for p in positions.values() if p[1] == r) for r in
                {p[1] for p in positions.values()})
    depth = max(p[1] for p in positions.values()) + 1
    x_gap, y_gap = 2.6, 1.3
    fig, ax = plt.subplots(figsize=(max(5.0, width * 2.4), max(3.0, depth * 1.05)))
    coords = {k: (x * x_gap, -r * y_gap) for k, (x, r) in positions.items()}
    for edge in graph.edges:
        (x0, y0), (x1, y1) = coords[edge.source], coords[edge.target]
        ax.annotate("", xy=(x1, y1 + 0.28), xytext=(x0, y0 - 0.28),
                    arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 1.0})
        if edge.label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, edge.label, fontsize=7, ha="center",
                    va="center", color="#333333",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})
    for node in graph.nodes:
        x, y = coords[node.id]
        color = _COLORS["frozen" if node.frozen else node.kind]
        box = {"boxstyle": "circle,pad=0.25" if node.kind == "op" else "round,pad=0.35",
               "fc": color, "ec": "#333333", "lw": 1.6 if node.kind == "param" else 0.8,
               "ls": "--" if node.frozen else "-"}
        ax.text(x, y, node.label, ha="center", va="center", fontsize=8.5, bbox=box,
                color="#555555" if node.frozen else "black")
    xs = [c[0] for c in coords.values()]
    ax.set_xlim(min(xs) - x_gap * 0.7, max(xs) + x_gap * 0.7)
    ax.set_ylim(-(depth - 1) * y_gap - 0.7, 0.7)
    ax.set_title(graph.title)
    ax.axis("off")
    return save_figure(fig, path, formats=())

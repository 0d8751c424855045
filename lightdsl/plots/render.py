"""Writing a diagram: DOT text as is, or drawn as SVG/PNG/PDF by Graphviz's ``dot`` when it is
installed, else drawn by matplotlib on grandalf's layered (Sugiyama) layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import LightdslError, UsageError
from ..outputs import prepare_file, writing
from .common import require_matplotlib, save_figure
from .graph import Graph, to_dot
from .layout import layout_graph

_COLORS = {"input": "#cfe2f3", "output": "#d9ead3", "layer": "#fff2cc", "function": "#ead1dc",
           "op": "#eeeeee", "const": "white", "param": "#ffd966", "frozen": "#d9d9d9"}


def write_graph(graph: Graph, path: str | Path) -> tuple[list[str], str]:
    """Write ``graph`` to ``path`` (.dot, .gv, .svg, .png or .pdf).

    Returns the written paths and how the picture was drawn: "dot" (Graphviz), "matplotlib"
    (grandalf's layout, drawn by matplotlib), "text" (DOT asked for) or "text-fallback" (a
    picture was asked for, but neither Graphviz nor the ``plot`` extra (matplotlib, grandalf)
    is installed: the .dot file was written instead).
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
    except LightdslError:  # no matplotlib or grandalf either: the DOT text is all we can give
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


_FONT = {"layer": 8.5, "function": 8.5, "op": 10.0, "const": 8.5, "param": 8.5,
         "input": 8.5, "output": 8.5, "label": 7.0, "title": 13.0}
_PAD = 5.0  # points between a box's text and its border
MAX_PIXELS = 30000  # the longest side of a diagram's PNG


def draw_with_matplotlib(graph: Graph, path: Path) -> list[str]:
    """The diagram drawn without Graphviz (see :func:`graph_figure`), written to ``path``."""
    fig, _ = graph_figure(graph)
    # 100 dpi, less for a diagram so long that its PNG would pass Agg's 2**16-pixel limit
    dpi = min(100.0, MAX_PIXELS / max(fig.get_size_inches()))
    return save_figure(fig, path, formats=(), dpi=dpi)


def graph_figure(graph: Graph):
    """``(figure, layout)``: grandalf's layered layout (:mod:`lightdsl.plots.layout`) drawn by
    matplotlib, every box sized to its text; ``layout`` says what was drawn where (points,
    which are the axes' data units, y downwards)."""
    plt = require_matplotlib()
    fig = plt.figure(dpi=72)  # 1 pixel = 1 point while measuring
    measure = _measurer(fig)
    layout = layout_graph(graph, measure)
    title = 24.0
    spare = max(0.0, measure(graph.title, "title")[0] - layout.width) / 2  # a wider title
    fig.set_size_inches((layout.width + 2 * spare) / 72 + 0.4,
                        (layout.height + title) / 72 + 0.4)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-14 - spare, layout.width + 14 + spare)
    ax.set_ylim(layout.height + 14, -title - 14)  # y downwards, as in the layout
    ax.axis("off")
    ax.text(layout.width / 2, -title / 2 - 4, graph.title, ha="center", va="center",
            fontsize=_FONT["title"])
    for route in layout.routes:
        _draw_route(ax, route, graph.edges[route.index].label)
    for node in graph.nodes:
        _draw_node(ax, node, layout.boxes[node.id])
    return fig, layout


def _measurer(fig):
    """``measure(text, kind)``: the size in points of the text as drawn, plus padding."""
    renderer = fig.canvas.get_renderer()

    def measure(text: str, kind: str) -> tuple[float, float]:
        shown = fig.text(0, 0, text, fontsize=_FONT[kind], ha="center",
                         multialignment="center")
        extent = shown.get_window_extent(renderer)
        shown.remove()
        if kind in ("label", "title"):
            return extent.width, extent.height
        width, height = extent.width + 2 * _PAD, extent.height + 2 * _PAD
        if kind == "op":  # a circle around the operator
            width = height = max(width, height)
        return width, height

    return measure


def _draw_node(ax, node, box) -> None:
    from matplotlib.patches import Circle, FancyBboxPatch

    kind = "frozen" if node.frozen else node.kind
    style = {"fc": _COLORS[kind], "ec": "#333333", "lw": 1.6 if node.kind == "param" else 0.8,
             "ls": "--" if node.frozen else "-", "zorder": 2}
    x, y = box.center
    if node.kind == "op":
        ax.add_patch(Circle((x, y), (box.x1 - box.x0) / 2, **style))
    elif node.kind != "const":
        ax.add_patch(FancyBboxPatch((box.x0, box.y0), box.x1 - box.x0, box.y1 - box.y0,
                                    boxstyle="round,pad=0,rounding_size=4", **style))
    ax.text(x, y, node.label, ha="center", va="center", fontsize=_FONT[node.kind],
            multialignment="center", color="#555555" if node.frozen else "black", zorder=3)


def _draw_route(ax, route, label: str) -> None:
    # the polyline up to the last segment, which the arrow draws (no stroke drawn twice)
    xs, ys = zip(*route.points[:-1])
    ax.plot(xs, ys, color="#555555", lw=0.9, zorder=1, solid_joinstyle="round", snap=False)
    ax.annotate("", xy=route.points[-1], xytext=route.points[-2], zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.9,
                            "shrinkA": 0, "shrinkB": 0, "mutation_scale": 9})
    if route.label is not None:
        ax.text(route.label.x0, route.label.center[1], label, ha="left", va="center",
                fontsize=_FONT["label"], color="#333333", zorder=3)

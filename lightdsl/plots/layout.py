"""Where each box and edge of a diagram goes when Graphviz's ``dot`` is not installed.

grandalf's Sugiyama layout (the layered layout ``dot`` uses) ranks the nodes, orders each rank
to reduce crossings and places them (Brandes-Koepf). Every edge label is a node of its own on
the edge, so no label sits on a box or another label; a long edge (a residual skip) runs
through the layout's dummy nodes, which take a slot in every rank it crosses, so it goes
around the boxes instead of through them. Sizes come from the caller's ``measure`` (the
rendered text), so no box is too small for its text.

Coordinates are points, y growing downwards. Edges are polylines whose slanted parts lie only
in the gaps between ranks; inside a rank they are vertical, in the slot of their own node.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import LightdslError
from .graph import Graph

X_SPACE = 18.0  # points between neighbours in a rank
Y_SPACE = 16.0  # points between ranks: the slanted parts of the edges run here
LABEL_GAP = 4.0  # points between an edge and its label's text
DUMMY_WIDTH = 6.0  # the slot a long edge takes in each rank it crosses


@dataclass
class Box:
    """A rectangle: ``x0 < x1``, ``y0 < y1`` (points, y downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def overlaps(self, other: Box) -> bool:
        return (self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1
                and other.y0 < self.y1)


@dataclass
class Route:
    """The drawn path of ``graph.edges[index]``, from its source's box to its target's; its
    label's text, if any, sits in ``label`` just right of the path."""

    index: int
    points: list[tuple[float, float]]
    label: Box | None = None


@dataclass
class Layout:
    """A whole diagram: a box per node id, a route per edge, and the extent."""

    boxes: dict[str, Box] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


Measure = Callable[[str, str], tuple[float, float]]  # (text, kind) -> (width, height)


def require_grandalf():
    """grandalf's graph classes and Sugiyama layout, or a clear error (it is in ``plot``)."""
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
    except ImportError:
        raise LightdslError("drawing a diagram without Graphviz needs grandalf, which is not "
                            "installed", hint="pip install lightdsl[plot]") from None
    return Vertex, Edge, Graph, SugiyamaLayout


class _View:
    """What grandalf asks of a vertex: its size; it sets ``xy`` (the centre)."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h, self.xy = w, h, (0.0, 0.0)


def layout_graph(graph: Graph, measure: Measure) -> Layout:
    """Boxes and edge routes for ``graph``; ``measure`` gives a node's or label's size."""
    Vertex, Edge, GGraph, _ = require_grandalf()
    vertices = {}
    for node in graph.nodes:
        vertices[node.id] = Vertex(node.id)
        vertices[node.id].view = _View(*measure(node.label, node.kind))
    chains: list[list] = []  # per graph edge: its layout vertices, source to target
    for index, edge in enumerate(graph.edges):
        chain = [vertices[edge.source]]
        if edge.label:
            width, height = measure(edge.label, "label")
            label = Vertex(("label", index))
            # the path runs down the middle; the text takes the right half
            label.view = _View(2 * (width + LABEL_GAP), height)
            chain.append(label)
        chains.append([*chain, vertices[edge.target]])
    edges = [Edge(a, b) for chain in chains for a, b in itertools.pairwise(chain)]
    layout_vertices = [v for chain in chains for v in chain] + list(vertices.values())
    whole = GGraph(list(dict.fromkeys(layout_vertices)), edges)
    layout, offset = Layout(), 0.0
    for component in whole.C:
        ranks = _place(component)
        offset = _collect(layout, graph, component, ranks, chains, offset) + X_SPACE * 2
    return layout


def _place(component) -> list[tuple[float, float]]:
    """Lay out one connected component; returns each rank's (top, bottom) band."""
    *_, SugiyamaLayout = require_grandalf()
    sugiyama = SugiyamaLayout(component)
    sugiyama.xspace, sugiyama.yspace = X_SPACE, Y_SPACE
    sugiyama.dw, sugiyama.dh = DUMMY_WIDTH, 1.0  # the long edges' slots: narrow, flat
    roots = [v for v in component.sV if not v.e_in()]
    # a dataflow graph has no cycles: nothing to invert; optimize pulls params and constants
    # down next to their first user
    sugiyama.init_all(roots=roots, inverted_edges=[], optimize=True)
    sugiyama.draw()
    _separate(sugiyama)
    component.sugiyama = sugiyama
    bands = []
    for layer in sugiyama.layers:
        y = layer[0].view.xy[1]
        half = max(v.view.h for v in layer) / 2
        bands.append((y - half, y + half))
    return bands


def _separate(sugiyama) -> None:
    """Keep every rank's order with at least ``X_SPACE`` between neighbours: the mean of
    Brandes-Koepf's four alignments that grandalf takes can bring two of them too close."""
    for layer in sugiyama.layers:
        ordered = sorted(layer, key=lambda v: sugiyama.grx[v].pos)
        for left, right in itertools.pairwise(ordered):
            least = left.view.xy[0] + (left.view.w + right.view.w) / 2 + X_SPACE
            if right.view.xy[0] < least:
                right.view.xy = (least, right.view.xy[1])


def _collect(layout: Layout, graph: Graph, component, bands, chains, offset: float) -> float:
    """Put one laid-out component into ``layout``, shifted right of ``offset``; returns its
    right edge."""
    sugiyama = component.sugiyama
    members = set(component.sV)
    shift = offset - min(v.view.xy[0] - v.view.w / 2 for v in members)
    top = -bands[0][0]

    def at(point):
        return point[0] + shift, point[1] + top

    for v in members:
        if not isinstance(v.data, tuple):
            x, y = at(v.view.xy)
            layout.boxes[v.data] = Box(x - v.view.w / 2, y - v.view.h / 2,
                                       x + v.view.w / 2, y + v.view.h / 2)
    for index, chain in enumerate(chains):
        if chain[0] in members:
            points = _route(sugiyama, chain, bands)
            layout.routes.append(Route(index, [at(p) for p in points], _label_box(chain, at)))
    layout.routes.sort(key=lambda route: route.index)
    right = max(b.x1 for b in layout.boxes.values())
    layout.width = max(layout.width, right)
    layout.height = max(layout.height, bands[-1][1] + top)
    return right


def _label_box(chain, at) -> Box | None:
    if len(chain) < 3:
        return None
    view = chain[1].view
    x, y = at(view.xy)
    return Box(x + LABEL_GAP, y - view.h / 2, x + view.w / 2, y + view.h / 2)


def _route(sugiyama, chain, bands) -> list[tuple[float, float]]:
    """The path of one graph edge through its label and the dummy nodes of long edges:
    vertical inside each rank (in its own node's slot), slanted only between ranks."""
    grx = sugiyama.grx
    source, target = chain[0].view, chain[-1].view
    points = [(source.xy[0], source.xy[1] + source.h / 2)]
    for a, b in itertools.pairwise(chain):
        first, last = grx[a].rank, grx[b].rank
        controls = sugiyama.ctrls.get(_edge(a, b), {})
        slots = [(a.view.xy[0], first)]
        slots += [(controls[r].view.xy[0], r) for r in range(first + 1, last)]
        slots.append((b.view.xy[0], last))
        for x, rank in slots:
            if rank != first:
                points.append((x, bands[rank][0]))
            if rank != last:
                points.append((x, bands[rank][1]))
    points.append((target.xy[0], target.xy[1] - target.h / 2))
    return _dedupe(points)


def _edge(a, b):
    return next(e for e in a.e_out() if e.v[1] is b)


def _dedupe(points):
    kept = [points[0]]
    for point in points[1:]:
        if abs(point[0] - kept[-1][0]) > 1e-6 or abs(point[1] - kept[-1][1]) > 1e-6:
            kept.append(point)
    return kept

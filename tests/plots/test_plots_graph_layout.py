"""The diagram drawn without Graphviz (grandalf's layout, matplotlib): its geometry, from what
was drawn where. No two boxes (nodes, edge labels) overlap, every edge is drawn from its
source's box to its target's, no edge runs through a box it does not connect (a residual skip
goes around the block), and every text fits in its box."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lightdsl.analysis import analyze_file
from lightdsl.cli import main
from lightdsl.plots import render
from lightdsl.plots.graph import build_graph

plt = pytest.importorskip("matplotlib.pyplot")
pytest.importorskip("grandalf")

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")
NAMES = ["resnet_cifar.lit", "transformer_classifier.lit", "statquest.lit", "mnist_cnn.lit"]


def drawn(name):
    analysis = analyze_file(os.path.join(SPECS, name))
    graph = build_graph(next(iter(analysis.program.runs.values())))
    fig, layout = render.graph_figure(graph)
    return graph, fig, layout


def crosses(a, b, box, margin=0.5) -> bool:
    """Whether segment a-b enters the interior of ``box`` shrunk by ``margin`` (Liang-Barsky
    clipping)."""
    x0, y0, x1, y1 = box.x0 + margin, box.y0 + margin, box.x1 - margin, box.y1 - margin
    dx, dy = b[0] - a[0], b[1] - a[1]
    low, high = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_no_two_boxes_overlap(name):
    graph, fig, layout = drawn(name)
    boxes = [(node_id, box) for node_id, box in layout.boxes.items()]
    boxes += [(f"label of edge {r.index}", r.label) for r in layout.routes if r.label]
    assert len(layout.boxes) == len(graph.nodes)
    assert sum(1 for e in graph.edges if e.label) == sum(1 for r in layout.routes if r.label)
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1:]:
            assert not a.overlaps(b), (first, second, a, b)
    plt.close(fig)


@pytest.mark.parametrize("name", NAMES)
def test_every_edge_is_drawn_from_its_source_to_its_target(name):
    graph, fig, layout = drawn(name)
    assert [r.index for r in layout.routes] == list(range(len(graph.edges)))
    for route in layout.routes:
        edge = graph.edges[route.index]
        source, target = layout.boxes[edge.source], layout.boxes[edge.target]
        (sx, sy), (tx, ty) = route.points[0], route.points[-1]
        assert source.x0 <= sx <= source.x1 and sy == pytest.approx(source.y1)
        assert target.x0 <= tx <= target.x1 and ty == pytest.approx(target.y0)
        assert len(route.points) >= 2
    from matplotlib.text import Annotation

    ax = fig.axes[0]
    assert len(ax.lines) == len(graph.edges)  # one polyline each, as routed...
    arrows = [a for a in ax.texts if isinstance(a, Annotation)]
    assert len(arrows) == len(graph.edges)  # ...and its last segment with the arrowhead
    for line, arrow, route in zip(ax.lines, arrows, layout.routes):
        assert [tuple(p) for p in line.get_xydata()] == route.points[:-1]
        assert (tuple(arrow.xyann), tuple(arrow.xy)) == (route.points[-2], route.points[-1])
    plt.close(fig)


@pytest.mark.parametrize("name", NAMES)
def test_no_edge_runs_through_a_box_it_does_not_connect(name):
    graph, fig, layout = drawn(name)
    for route in layout.routes:
        edge = graph.edges[route.index]
        others = [(k, b) for k, b in layout.boxes.items() if k not in (edge.source, edge.target)]
        others += [(f"label {r.index}", r.label) for r in layout.routes if r.label]
        for a, b in zip(route.points, route.points[1:]):
            for key, box in others:
                assert not crosses(a, b, box), (edge, key, a, b)
    plt.close(fig)


def test_resnet_identity_skip_goes_around_the_block():
    graph, fig, layout = drawn("resnet_cifar.lit")
    labels = {node.id: node.label for node in graph.nodes}
    block = [k for k, text in labels.items() if text.split(":")[0] in
             ("conv1a", "bn1a", "conv1b", "bn1b")]
    first_add = next(k for k, text in labels.items() if text == "+")
    (skip,) = [r for r in layout.routes
               if graph.edges[r.index].target == first_add
               and labels[graph.edges[r.index].source] == "relu"]
    top, bottom = min(layout.boxes[k].y0 for k in block), max(layout.boxes[k].y1 for k in block)
    beside = [x for x, y in skip.points if top <= y <= bottom]
    assert beside, "the skip should run alongside the block"
    right = max(layout.boxes[k].x1 for k in block)
    left = min(layout.boxes[k].x0 for k in block)
    assert all(x > right or x < left for x in beside)
    plt.close(fig)


@pytest.mark.parametrize("name", ["resnet_cifar.lit", "statquest.lit"])
def test_every_text_fits_in_its_box(name):
    graph, fig, layout = drawn(name)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    texts = {(t.get_text(), tuple(t.get_position())): t for t in ax.texts}
    for node in graph.nodes:
        box = layout.boxes[node.id]
        extent = texts[node.label, box.center].get_window_extent(renderer)
        (x0, y1), (x1, y0) = ax.transData.transform([(box.x0, box.y0), (box.x1, box.y1)])
        assert x0 <= extent.x0 and extent.x1 <= x1, (node.label, extent, box)
        assert y0 <= extent.y0 and extent.y1 <= y1, (node.label, extent, box)
    # e.g. "stride=2" was cut off where conv2a's box was too narrow
    assert name != "resnet_cifar.lit" or any("stride=2, padding=1" in t for t, _ in texts)
    plt.close(fig)


def test_graph_command_without_dot_uses_the_layout(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)  # no Graphviz here
    out = tmp_path / "resnet.png"
    assert main(["graph", os.path.join(SPECS, "resnet_cifar.lit"), "-o", str(out)]) == 0
    assert "laid out by grandalf" in capsys.readouterr().out
    height, width = plt.imread(out).shape[:2]
    assert 500 <= width <= 1200 and 1500 <= height <= 4000, (width, height)


# a graph where grandalf's mean of the four Brandes-Koepf alignments put two boxes of a rank
# 3 points apart, overlapping: (text width, [(input, labelled edge)]) per node
CLOSE = [(15, []), (23, [(0, False)]), (24, [(0, True), (1, False)]), (27, [(1, True)]),
         (30, [(1, False)]), (17, [(4, False)]), (4, [(4, False), (3, False)]),
         (20, [(4, False)]), (19, [(5, True)]), (8, [(0, False)]),
         (14, [(6, True), (4, True)]), (16, [(6, False), (1, True)]), (9, [(10, False)]),
         (24, [(6, True)])]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.lists(st.tuples(st.integers(0, 1000),
                                                                 st.booleans()),
                                                       min_size=1, max_size=3)),
                min_size=2, max_size=14))
@example(CLOSE)
def test_any_dag_is_laid_out_without_overlaps_or_crossings(nodes):
    """Random DAGs (node i reads 1-3 earlier nodes; labels on some edges)."""
    from lightdsl.plots.graph import Edge, Graph
    from lightdsl.plots.layout import layout_graph

    graph = Graph("random")
    for i, (width, inputs) in enumerate(nodes):
        graph.add("x" * width, "layer")
        for parent, labelled in dict(((p % i, b) for p, b in inputs) if i else ()).items():
            graph.edges.append(Edge(f"n{parent}", f"n{i}", "(N, 3)" if labelled else ""))
    layout = layout_graph(graph, lambda text, kind: (6.0 * len(text) + 10, 9.0 if kind ==
                                                     "label" else 18.0))
    boxes = list(layout.boxes.values()) + [r.label for r in layout.routes if r.label]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:])
    for route in layout.routes:
        edge = graph.edges[route.index]
        others = [b for k, b in layout.boxes.items() if k not in (edge.source, edge.target)]
        others += [r.label for r in layout.routes if r.label]
        for a, b in zip(route.points, route.points[1:]):
            assert not any(crosses(a, b, box) for box in others)


def test_without_dot_or_grandalf_the_dot_text_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "grandalf.graphs", None)
    out = tmp_path / "net.png"
    assert main(["graph", os.path.join(SPECS, "statquest.lit"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "plot extra (matplotlib, grandalf)" in printed and "pip install lightdsl[plot]" in printed
    assert not out.exists() and (tmp_path / "net.dot").read_text().startswith("digraph")


def test_a_title_wider_than_the_network_is_not_cut_off(tmp_path):
    from lightdsl.analysis import analyze_text

    name = "AVeryLongModelNameThatIsWiderThanItsOnlyLayer"
    text = (f"model {name} {{\n    layers {{\n        linear(2, 2)\n    }}\n}}\n"
            "data points {\n    inputs = [[0.0, 1.0], [1.0, 0.0]]\n"
            "    labels = [[0.0, 1.0], [1.0, 0.0]]\n}\n"
            f"train {{\n    model = {name}\n    data = points\n    loss = mse\n}}\n")
    analysis = analyze_text(text, "spec.lit")
    fig, _ = render.graph_figure(build_graph(next(iter(analysis.program.runs.values()))))
    (title,) = [t for t in fig.axes[0].texts if t.get_text() == name]
    extent = title.get_window_extent(fig.canvas.get_renderer())
    assert 0 <= extent.x0 and extent.x1 <= fig.bbox.width, (extent, fig.bbox)
    plt.close(fig)

"""``lightdsl graph spec.lit -o net.svg``: the network as a diagram.

Layers (or forward's dataflow: layer calls, functions, operators, params) with the tensor shape
on every edge and frozen params marked. The diagram is Graphviz DOT: ``-o net.dot`` writes the
text, ``-o -`` prints it; .svg/.png/.pdf are drawn by Graphviz's ``dot`` when installed, else
by matplotlib on grandalf's layered layout. Needs no torch.
"""

from __future__ import annotations

import os

from ._args import add_spec_arguments


def register(commands) -> None:
    parser = commands.add_parser("graph", help="draw the network (Graphviz DOT, SVG, PNG)",
                                 description=__doc__.split("\n\n")[0])
    add_spec_arguments(parser)
    parser.add_argument("-o", "--output", metavar="PATH", help="net.svg, net.png, net.pdf, "
                        "net.dot, or - for DOT on stdout (default: <spec name>.svg)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..api import load
    from ..outputs import prepare_file
    from ..plots.graph import build_graph, to_dot
    from ..plots.render import write_graph

    experiment = load(args.spec, args.run_name, args.overrides)
    graph = build_graph(experiment.run)
    if args.output == "-":
        print(to_dot(graph), end="")
        return 0
    output = args.output or os.path.splitext(os.path.basename(args.spec))[0] + ".svg"
    prepare_file(output, "-o" if args.output else None)
    paths, how = write_graph(graph, output)
    for path in paths:
        print(f"wrote {path}")
    if how == "matplotlib":
        print("  (Graphviz's `dot` is not installed: laid out by grandalf, drawn by matplotlib; "
              "`-o net.dot` gives the DOT text for Graphviz)")
    elif how == "text-fallback":
        print("  no picture: neither Graphviz's `dot` nor the plot extra (matplotlib, grandalf) "
              f"is installed, so the DOT text was written instead; render it with "
              f"`dot -Tsvg {paths[0]} -o {output}` or pip install lightdsl[plot]")
    return 0

"""Parse + check time of generated specs with 10 to 10,000 layers: it must grow linearly."""

from __future__ import annotations

import time

from .common import Row


def generated_spec(layers: int) -> str:
    """An MLP of ``layers`` linear/relu pairs of width 8 on inline data."""
    body = "\n".join("        linear(8, 8)\n        relu()" for _ in range(layers // 2))
    return f"""
model Deep {{
    layers {{
        flatten()
{body}
    }}
}}
data d {{
    inputs = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]
    labels = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]
}}
train {{ model = Deep  data = d  loss = mse }}
"""


def check_seconds(text: str, repeats: int) -> float:
    from lightdsl.analysis import analyze_text

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        analysis = analyze_text(text, "generated.lit")
        best = min(best, time.perf_counter() - started)
        assert analysis.ok, analysis.diagnostics[:3]
    return best


def run(repeats: int = 3) -> list[Row]:
    from lightdsl.frontend.parser import ast_parser

    ast_parser()  # build the parser outside the timings
    sizes = (10, 100, 1_000, 9_000)  # 9,003 modules: under the 10,000 a spec may build
    seconds = {n: check_seconds(generated_spec(n), repeats) for n in sizes}
    base = seconds[1_000] / 1_000
    return [Row("Parse + check scaling", f"{n:,} layers", t, "per layer at 1,000",
                (t / n) / base, "~1 at 9,000 (linear)" if n == 9_000 else None,
                note=f"{t / n * 1e6:.1f} us/layer") for n, t in seconds.items()]

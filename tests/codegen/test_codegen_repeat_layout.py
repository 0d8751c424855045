"""A repeat's generated copies, ``nn.Sequential(*[Block() for _ in range(n)])``, are laid out
as ruff format lays out a comprehension too long for its line: the element, then the ``for``
clause, each on lines of their own (found by specs/transformer_classifier.lit)."""

from __future__ import annotations

import pytest
import torch

from lightdsl.codegen.writer import Comprehension, Group, concat, layout

from ..helpers.scripts import load_script, ruff, write_script

LONG = ("transformer_encoder_layer(d_model, heads, dim_feedforward = 2 * d_model, "
        "dropout = 0.0, activation = \"gelu\", bias = false, norm_first = true)")

SPEC = f"""
model Repeats(d_model = 16, heads = 2, depth = 2) {{
    short  = repeat(depth) {{ linear(d_model, d_model) }}
    medium = repeat(depth) {{
        transformer_encoder_layer(d_model, heads, dim_feedforward = 2 * d_model, dropout = 0.0)
    }}
    long   = repeat(depth) {{ {LONG} }}
    mixed  = repeat(2) {{ {LONG}  relu  linear(d_model, d_model) }}
    head   = linear(d_model, 2)
    forward(x) {{
        return head(mean(mixed(long(medium(short(x)))), dim = 1))
    }}
}}

data d {{
    inputs = {[[[0.5] * 16] * 3] * 4}
    labels = [0, 1, 0, 1]
}}

train {{
    model = Repeats()
    data = d
    loss = cross_entropy
}}
"""


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_long_repeats_are_formatted_as_ruff_formats_them(tmp_path, target):
    spec = tmp_path / "repeats.lit"
    spec.write_text(SPEC, encoding="utf-8")
    out = write_script(spec, tmp_path / f"repeats_{target}.py", target=target)
    text = out.read_text(encoding="utf-8")
    assert "*[nn.Linear(d_model, d_model) for _ in range(depth)]" in text
    assert "                for _ in range(depth)\n            ]" in text
    formatted = ruff("format", "--isolated", "--diff", str(out), cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    model = load_script(out, f"repeats_{target}").Repeats()
    assert len(model.long) == 2 and len(model.mixed) == 2 and len(model.mixed[0]) == 3
    assert model(torch.randn(4, 3, 16)).shape == (4, 2)


def test_a_comprehension_that_fits_stays_on_its_line():
    copies = Comprehension("*[", concat("Block", Group("(", ("a", "b"), ")")),
                           "for _ in range(4)", "]")
    assert layout(copies, 12) == ["*[Block(a, b) for _ in range(4)]"]
    assert layout(copies, 60, ",") == ["*[", "    Block(a, b)", "    for _ in range(4)", "],"]

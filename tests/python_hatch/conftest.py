"""A user's own Python package written into tmp_path, and specs that use it.

Each test gets a package with a fresh name (``hatch_<n>``), so that modules imported by one test
(they stay in sys.modules) are never what another test finds; it is removed at teardown.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
from pathlib import Path

import pytest

LAYERS = '''
import torch
from torch import nn


class Swish(nn.Module):
    """x * sigmoid(beta * x) with a trainable beta."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


class Halve(nn.Module):
    """A linear layer to half the width: its output shape is not declared in the specs."""

    def __init__(self, width):
        super().__init__()
        self.proj = nn.Linear(width, width // 2)

    def forward(self, x):
        return self.proj(x)


class Picky(nn.Module):
    def __init__(self, size=1):
        super().__init__()
        if size < 1:
            raise ValueError("size must be positive")


class Broken(nn.Module):
    def forward(self, x):
        raise RuntimeError("this layer is not finished")


def not_a_layer(x):
    return x
'''

LOSSES = '''
import torch
from torch import nn


class Smooth(nn.Module):
    """Smooth L1 on softmax outputs against one-hot labels."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, output, labels):
        target = nn.functional.one_hot(labels, output.shape[-1]).to(output.dtype)
        return nn.functional.smooth_l1_loss(output.softmax(-1), target, beta=self.beta)


def squared(output, labels, scale=1.0):
    target = nn.functional.one_hot(labels, output.shape[-1]).to(output.dtype)
    return scale * ((output - target) ** 2).mean()
'''

METRICS = '''
def hits(output, labels):
    """Fraction of samples whose highest score is the label."""
    return (output.argmax(dim=-1) == labels).float().mean()
'''

SPEC = '''
model Net(width = 8) {{
    layers {{
        linear(4, width)
        python("{pkg}.layers:Swish", beta = 1.5, shape = "same")
        python("{pkg}.layers:Halve", width = width)
        linear(4, 3)
    }}
}}

data d {{
    inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [3.0, 2.0, 1.0, 0.5],
              [0.5, 0.0, 2.5, 1.0], [2.0, 2.0, 0.0, 1.0], [1.5, 0.5, 0.5, 3.0]]
    labels = [0, 1, 2, 0, 1, 2]
    val = split(0.34)
    batch_size = 4
}}

train {{
    model = Net
    data = d
    loss = {loss}
    metrics = [accuracy, python("{pkg}.metrics:hits")]
    optimizer = sgd(lr = 0.5)
    max_steps = 2
    seed = 3
}}
'''

_numbers = itertools.count()


class Package:
    """The user's package ``name`` in ``root``, and a helper to write specs beside it."""

    def __init__(self, root: Path, name: str):
        self.root, self.name = root, name

    def spec(self, text: str | None = None, loss: str | None = None,
             file: str = "spec.lit") -> Path:
        """Write a spec (``text``, dedented, or the standard one with ``loss``) beside the
        package."""
        loss = loss or f'python("{self.name}.losses:Smooth", beta = 0.5)'
        body = textwrap.dedent(text) if text else SPEC.format(pkg=self.name, loss=loss)
        path = self.root / file
        path.write_text(body.lstrip("\n"), encoding="utf-8")
        return path

    def layers_spec(self, *layers: str, loss: str = "cross_entropy", labels: str = "[0, 1]",
                    data: tuple[str, ...] = (), train: tuple[str, ...] = ()) -> Path:
        """A spec ``model Net { layers { ... } }`` holding ``layers`` one a line from line 3
        on (the tests' error locations count on it), on two samples of four numbers;
        ``data`` and ``train``: more lines for those blocks."""
        def block(lines) -> str:
            return "".join(f"    {line}\n" for line in lines)

        return self.spec("model Net {\n    layers {\n"
                         + "".join(f"        {layer}\n" for layer in layers) + "    }\n}\n\n"
                         "data d {\n    inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]\n"
                         f"    labels = {labels}\n" + block(data) + "}\n\n"
                         f"train {{\n    model = Net\n    data = d\n    loss = {loss}\n"
                         + block(train) + "}\n")


@pytest.fixture
def package(tmp_path):
    name = f"hatch_{next(_numbers)}_{abs(hash(str(tmp_path))) % 10**6}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("", encoding="utf-8")
    for module, text in (("layers", LAYERS), ("losses", LOSSES), ("metrics", METRICS)):
        (folder / f"{module}.py").write_text(text, encoding="utf-8")
    yield Package(tmp_path, name)
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    while str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))

"""A dataflow ``forward`` compiles to one generated Python function (issue 18, item 4): it
computes what the spec says, bit for bit, whatever the spec's variables are called."""

from __future__ import annotations

import sys
import traceback

import torch
import torch.nn.functional as F

import lightdsl

# variables named as Python keywords and with a leading "_", a hyperparameter, a parameter
# matrix, every operator, a function with a constant argument
NAMES = """
model M(k = 3) {
    param scale = 2.0
    param proj = [[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 1.0]]
    fc = linear(3, 3)
    forward(_x) {
        lambda = relu(fc(_x))
        _h = -lambda * scale + 1.5 ** 2 / k
        class = softmax(_h, dim = 1)
        return class @ proj - lambda
    }
}
data d { inputs = [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]  labels = [0, 2]  batch_size = 2 }
train { model = M  data = d  loss = cross_entropy }
"""


def _module(tmp_path, text=NAMES):
    path = tmp_path / "spec.lit"
    path.write_text(text)
    return lightdsl.load(str(path)).module


def _by_hand(module, x):
    lam = F.relu(F.linear(x, module.fc.weight, module.fc.bias))
    h = -lam * module.scale + 1.5**2 / 3
    return torch.matmul(F.softmax(h, dim=1), module.proj) - lam


def test_keywords_and_underscores_as_variable_names_compute_the_spec(tmp_path):
    module = _module(tmp_path)
    x = torch.randn(6, 3)
    assert torch.equal(module(x), _by_hand(module, x))
    source = module._dataflow.__lightdsl_source__
    assert source.startswith("def forward(") and "lambda" not in source and "class" not in source


def test_the_forward_reads_weights_at_call_time(tmp_path):
    """Loading weights, or replacing a parameter, is seen by the compiled function."""
    module = _module(tmp_path)
    x = torch.randn(4, 3)
    module.load_state_dict({**module.state_dict(), "scale": torch.tensor(-3.0)})
    module.proj = torch.nn.Parameter(torch.eye(3) * 2)
    assert torch.equal(module(x), _by_hand(module, x))


def test_one_python_call_per_forward_beyond_the_layers(tmp_path):
    """The forward itself is one generated function: no call per statement or operation."""
    module = _module(tmp_path).eval()
    x = torch.randn(2, 3)
    module(x)
    calls = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith("<lightdsl forward"):
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        module._dataflow(x)
    finally:
        sys.setprofile(None)
    assert calls == ["forward"]


def test_a_traceback_shows_the_generated_line(tmp_path):
    """The generated source is in linecache: a traceback through forward quotes the line."""
    module = _module(tmp_path)
    try:
        module(torch.randn(2, 4))  # 4 features where fc takes 3
    except RuntimeError:
        text = traceback.format_exc()
    assert "<lightdsl forward M" in text and "_v1 = _c3(_m['fc'](_v0))" in text


def test_a_collected_models_source_leaves_linecache(tmp_path):
    """A sweep compiles many models: each generated source lives as long as its function."""
    import copy
    import gc
    import linecache

    module = _module(tmp_path)
    twin = copy.deepcopy(module)  # compiles its own forward
    name = twin._dataflow.__code__.co_filename
    assert name in linecache.cache and name != module._dataflow.__code__.co_filename
    del twin
    gc.collect()
    assert name not in linecache.cache
    assert module._dataflow.__code__.co_filename in linecache.cache

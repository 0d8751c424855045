"""Compiled specs compute what hand-written torch computes (micrograd-style numeric checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import lightdsl
from lightdsl.api import load_source
from lightdsl.frontend.source import SourceFile

SPECS = Path(__file__).resolve().parents[2] / "specs"


def compile_text(text: str, tmp_path: Path, name: str = "spec.lit"):
    path = tmp_path / name
    path.write_text(text)
    return lightdsl.load(str(path))


def test_statquest_forward_matches_hand_written_torch():
    module = lightdsl.load(str(SPECS / "statquest.lit")).module
    doses = torch.rand(50)
    top = F.relu(doses * 1.70 - 0.85) * -40.8
    bottom = F.relu(doses * 12.6 + 0.0) * 2.70
    assert torch.equal(module(doses), F.relu(top + bottom + 0.0))
    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    assert frozen == {"w00", "b00", "w01", "w10", "b10", "w11"}
    assert [n for n, p in module.named_parameters() if p.requires_grad] == ["final_bias"]


def test_mlp_layers_match_torch_sequential():
    source = SourceFile((SPECS / "mnist_mlp.lit").read_text().replace(
        'mnist(root = "data", download = true)', "digits()").replace(
        'val        = mnist(root = "data", split = "test")', "").replace("784", "64"),
        str(SPECS / "mlp_digits_variant.lit"))
    module = load_source(source).module
    reference = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 500), torch.nn.ReLU(),
                                    torch.nn.Linear(500, 10))
    reference.load_state_dict({k.removeprefix("layers."): v for k, v in module.state_dict().items()})
    x = torch.randn(7, 1, 8, 8)
    assert torch.equal(module(x), reference(x))
    assert module.hparams["hidden_size"] == 500


CNN = """
model Cnn(c = 4) {
    conv = conv2d(1, c, kernel_size = 3, padding = 1)
    pool = maxpool2d(2)
    fc   = linear(c * 4 * 4, 3)
    param scale = [[2.0, 0.5, 1.0]]
    forward(x) {
        h = pool(relu(conv(x)))
        y = fc(reshape(h, [-1, c * 4 * 4])) * scale
        return cat([y, sum(y, dim = 1, keepdim = true)], dim = 1) - mean(y) @ [1.0] ** 2
    }
}
data d {
    inputs = IMAGE
    labels = [3]
}
train { model = Cnn  data = d  loss = cross_entropy }
"""


IMAGE = str([[[[float(i * j) for j in range(8)] for i in range(8)]]])


def test_dataflow_forward_matches_functional_torch(tmp_path):
    text = CNN.replace(" - mean(y) @ [1.0] ** 2", "").replace("IMAGE", IMAGE)
    module = compile_text(text, tmp_path).module
    x = torch.randn(5, 1, 8, 8)
    h = F.max_pool2d(F.relu(F.conv2d(x, module.conv.weight, module.conv.bias, padding=1)), 2)
    y = F.linear(h.reshape(-1, 64), module.fc.weight, module.fc.bias) * module.scale
    expected = torch.cat([y, y.sum(dim=1, keepdim=True)], dim=1)
    assert torch.allclose(module(x), expected, atol=0, rtol=0)


def test_hyperparameter_override_changes_the_built_model(tmp_path):
    path = tmp_path / "cnn.lit"
    text = CNN.replace(" - mean(y) @ [1.0] ** 2", "").replace("IMAGE", IMAGE)
    path.write_text(text.replace("model = Cnn ", "model = Cnn(c = 6) "))
    module = lightdsl.load(str(path)).module
    assert module.conv.out_channels == 6 and module.fc.in_features == 96
    assert module.hparams["c"] == 6


# ---- memory: estimated before allocating (issue 11, item 9) --------------------------------

HUGE = """
model Huge {
    layers {
        linear(2, 100000)
        linear(100000, 100000)
        linear(100000, 2)
    }
}
data d {
    inputs = [[0.0, 1.0], [1.0, 0.0]]
    labels = [0, 1]
}
train { model = Huge  data = d  loss = cross_entropy  max_epochs = 1  logger = none }
"""


def _never_allocate(monkeypatch):
    """Any layer construction fails the test: nothing may be allocated."""
    from lightdsl.compile import model

    def refuse(*args, **kwargs):
        raise AssertionError("a layer was built; the memory check must come first")

    monkeypatch.setattr(model, "instantiate", refuse)


def test_parameter_count_matches_the_built_models():
    """The check's estimate is what torch allocates, for every model of the example specs."""
    from lightdsl.analysis import analyze_file
    from lightdsl.compile.model import SpecModel

    checked = 0
    for spec in sorted(SPECS.glob("*.lit")):
        for info in analyze_file(str(spec)).program.models.values():
            built = SpecModel(info)
            assert info.parameter_count() == sum(p.numel() for p in built.parameters()), spec
            checked += 1
    assert checked >= 5


def test_a_model_larger_than_memory_fails_cleanly_before_allocating(tmp_path, monkeypatch):
    from lightdsl.compile import model
    from lightdsl.errors import LightdslError

    monkeypatch.setattr(model, "available_memory", lambda device="cpu": 8 * 10**9)
    _never_allocate(monkeypatch)
    experiment = compile_text(HUGE, tmp_path)
    with pytest.raises(LightdslError) as raised:
        assert experiment.module is None
    assert str(raised.value).startswith(
        "model Huge has 10,000,600,002 parameters, about 40.0 GB, but this machine has only "
        "8.0 GB of memory available")
    assert "make the model's layers smaller" in str(raised.value)


def test_train_of_a_model_larger_than_memory_exits_1_without_traceback(tmp_path, monkeypatch,
                                                                        capsys):
    from lightdsl.cli import main
    from lightdsl.compile import model

    monkeypatch.setattr(model, "available_memory", lambda device="cpu": 10**9)
    _never_allocate(monkeypatch)
    path = tmp_path / "huge.lit"
    path.write_text(HUGE)
    assert main(["train", str(path), "--fast-dev-run"]) == 1
    err = capsys.readouterr().err
    assert "error: model Huge has 10,000,600,002 parameters, about 40.0 GB, but this machine " \
        "has only 1.0 GB" in err and "Traceback" not in err


def test_the_gpu_check_uses_its_free_memory(tmp_path, monkeypatch):
    from lightdsl.compile.model import check_memory
    from lightdsl.errors import LightdslError

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2 * 10**9, 8 * 10**9))
    info = compile_text(HUGE, tmp_path).run.model
    with pytest.raises(LightdslError, match="but the GPU has only 2.0 GB of memory available"):
        check_memory(info, "cuda")


def test_available_cpu_memory_is_known_here():
    from lightdsl.compile.model import available_memory

    assert available_memory() > 10**6


@pytest.mark.parametrize("failure", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough "
                 "memory: you tried to allocate 40000400000 bytes."),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes"),
    MemoryError(),
])
def test_allocation_failures_while_building_become_a_clear_error(tmp_path, monkeypatch,
                                                                 failure):
    from lightdsl.compile import model
    from lightdsl.errors import LightdslError

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(model, "check_memory", lambda info: None)
    monkeypatch.setattr(model, "instantiate", fail)
    with pytest.raises(LightdslError, match=r"could not allocate model Huge \(10,000,600,002 "
                       "parameters\\): "):
        assert compile_text(HUGE, tmp_path).module is None


def test_other_runtime_errors_while_building_are_not_hidden(tmp_path, monkeypatch):
    from lightdsl.compile import model

    def fail(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(model, "instantiate", fail)
    text = CNN.replace("IMAGE", IMAGE).replace(" - mean(y) @ [1.0] ** 2", "")
    with pytest.raises(RuntimeError, match="a bug"):
        assert compile_text(text, tmp_path).module is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_available_gpu_memory_is_the_devices_free_memory():
    from lightdsl.compile.model import available_memory

    free, total = torch.cuda.mem_get_info(0)
    assert 0 < available_memory("cuda:0") <= total
    assert abs(available_memory("cuda:0") - free) < total // 10


def test_embedding_on_inline_integer_inputs_trains(tmp_path):
    """Inline integers reach the model as float32; the embedding looks them up exactly."""
    text = """
model Tokens {
    table = embedding(10, 4)
    flat  = flatten()
    head  = linear(8, 2)
    forward(ids) {
        return head(flat(table(ids)))
    }
}
data pairs {
    inputs = [[1, 9], [3, 0]]
    labels = [0, 1]
}
train { model = Tokens  data = pairs  loss = cross_entropy  max_epochs = 2  logger = none
        enable_checkpointing = false  enable_progress_bar = false }
"""
    experiment = compile_text(text, tmp_path)
    module = experiment.module
    ids = torch.tensor([[1, 9], [3, 0]])
    assert torch.equal(module.table(ids.float()), torch.nn.functional.embedding(
        ids, module.table.weight))
    before = module.table.weight.detach().clone()
    experiment.fit(default_root_dir=str(tmp_path))
    changed = (module.table.weight.detach() != before).any(dim=1)
    assert changed.tolist() == [i in (0, 1, 3, 9) for i in range(10)]  # the rows looked up


COMPOSED = """\
model Block(width = 4) {
    layers { linear(width, width)
             relu()
             repeat(2) { linear(width, width)  relu() } }
}
model Net {
    stem = linear(4, 4)
    layers {
        stem
        repeat(3) { Block(4) }
        repeat(2) { repeat(2) { tanh() } }
        Block
    }
}
""" + (TAIL := """data d { inputs = [[0.0, 1.0, 2.0, 3.0]]  labels = [[0.0, 1.0, 2.0, 3.0]] }
train { model = Net  data = d  loss = mse  logger = none }
""")


def leaf_modules_built(module, seen=None) -> int:
    """The distinct modules lightdsl creates: torch layers' own submodules (an LSTM's) are
    not counted, a layer used twice (named, then in layers { }) counts once."""
    from lightdsl.compile.model import SpecModel
    seen = set() if seen is None else seen
    if id(module) in seen:
        return 0
    seen.add(id(module))
    if not isinstance(module, (SpecModel, torch.nn.Sequential)):
        return 1
    return 1 + sum(leaf_modules_built(child, seen) for child in module.children())


def test_module_count_matches_the_built_models(tmp_path):
    """check's module count (issue 16 item 16) is what the builder creates: for the example
    specs and for repeats of used models, nested repeats and a named layer reused."""
    from lightdsl.analysis import analyze_file
    from lightdsl.compile.model import SpecModel

    (tmp_path / "composed.lit").write_text(COMPOSED)
    counts = {}
    for spec in [*sorted(SPECS.glob("*.lit")), tmp_path / "composed.lit"]:
        for info in analyze_file(str(spec)).program.models.values():
            counts[spec.stem, info.name] = info.module_count()
            assert counts[spec.stem, info.name] == leaf_modules_built(SpecModel(info)), spec
    # Net: itself, layers, stem; repeat + 3 Blocks of 1 + layers + 2 + (1 + 2 * (2 + 1));
    # repeat + 2 * (repeat + 2 tanh); one more Block
    assert counts["composed", "Net"] == 3 + (1 + 3 * 11) + (1 + 2 * 3) + 11 == 55
    assert len(counts) >= 10


def test_a_model_of_too_many_modules_is_refused_before_building(tmp_path, monkeypatch, capsys):
    """`repeat(10000000) { relu }` has no parameters: it passed check and then built modules
    silently until memory ran out; `repeat(100000) { linear(4, 4) }` took 44 s."""
    from lightdsl.checker.models import MODULE_LIMIT
    from lightdsl.cli import main

    _never_allocate(monkeypatch)
    for body, count in [("relu", 10_000_000), ("linear(4, 4)", 100_000),
                        ("linear(4, 4)\n relu", MODULE_LIMIT // 2)]:
        spec = tmp_path / "big.lit"
        spec.write_text("model Net {\n    layers {\n        repeat(" + str(count) + ") { "
                        + body + " }\n    }\n}\n" + TAIL)
        for command in ("check", "train"):
            assert main([command, str(spec)]) == 1
            out = capsys.readouterr()
            assert "Found 1 error" in out.err or command == "train", out
            built = 2 + 1 + count * (2 if "\n" in body else 1) + ("\n" in body) * count
            assert (f"big.lit:3:16: error: model Net builds {built:,} torch modules; lightdsl "
                    f"builds at most {MODULE_LIMIT:,}") in out.out + out.err
            assert "Traceback" not in out.err


def test_a_used_model_over_the_module_limit_is_reported_once(tmp_path):
    from lightdsl.analysis import analyze_text

    text = COMPOSED.replace("repeat(2) { linear(width, width)  relu() }",
                            "repeat(6000) { linear(width, width)  relu() }")
    errors = [(d.line, d.message) for d in analyze_text(text, str(tmp_path / "s.lit")).errors]
    assert len(errors) == 1 and errors[0][0] == 4, errors
    assert "model Block builds 18,005 torch modules" in errors[0][1]


DATAFLOW_BN = """
model Res(width = 4) {
    param scale = 1.5
    fc1 = linear(width, width)
    bn  = batchnorm1d(width)
    fc2 = linear(width, 2)
    forward(x) {
        h = relu(bn(fc1(x)) + x) * scale
        return fc2(h)
    }
}
data d { inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]  labels = [0, 1]  batch_size = 2 }
train { model = Res  data = d  loss = cross_entropy }
"""


def test_a_deep_copy_runs_and_trains_its_own_weights_not_the_originals(tmp_path):
    """copy.deepcopy (EMA, SWA's AveragedModel, a hand loop starting from the same weights):
    the copy's forward uses the copy's layers and params, its gradients land in the copy."""
    import copy

    module = compile_text(DATAFLOW_BN, tmp_path).module
    x = torch.randn(8, 4)
    original = {k: v.clone() for k, v in module.state_dict().items()}
    twin = copy.deepcopy(module).train()
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(0.5)
    twin(x).sum().backward()
    assert all(p.grad is None for p in module.parameters())
    assert all(p.grad is not None for p in twin.parameters())
    assert all(torch.equal(v, module.state_dict()[k]) for k, v in original.items())
    assert int(twin.state_dict()["model.bn.num_batches_tracked"
                                 if "model.bn.num_batches_tracked" in original
                                 else "bn.num_batches_tracked"]) == 1
    assert not torch.equal(twin.eval()(x), module.eval()(x))

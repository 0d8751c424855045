"""``Trainer(compile=...)``: the model's forward compiled in place for fit, the weights' names
kept plain (never ``_orig_mod.``), checkpoints others wrote with that prefix loaded, and a clear
message where torch.compile cannot run (issue 18 item 5).

Compiling a model takes seconds on the CPU, so most tests here put a recording stand-in for
``nn.Module.compile`` in place: what the trainer asks for, which calls go through the compiled
forward. The tests marked slow really compile (inductor, and dynamo with the eager backend).
"""

from __future__ import annotations

import shutil
import sysconfig
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

import lightdsl
from lightdsl.errors import ConfigError
from lightdsl.run_settings import CompileOptions
from lightdsl.trainer import (
    InMemoryLoader,
    Trainer,
    compiling,
    load_checkpoint,
    load_weights_checkpoint,
)
from lightdsl.trainer.compiling import strip_compiled_prefix
from tests.helpers.runner import child_env, run_lightdsl

X = torch.linspace(-1, 1, 16).reshape(8, 2)
Y = X.sum(dim=1, keepdim=True)


class Line(nn.Module):
    """A regressor whose steps call ``self(...)``, as a spec's module does."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        return nn.functional.mse_loss(self(batch[0]), batch[1])

    def validation_step(self, batch, batch_idx):
        return {"loss": nn.functional.mse_loss(self(batch[0]), batch[1])}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return InMemoryLoader((X, Y), batch_size=2)

    def val_dataloader(self):
        return InMemoryLoader((X[:4], Y[:4]), batch_size=2)


@pytest.fixture
def fake_compile(monkeypatch):
    """``nn.Module.compile`` recording its options, its compiled forward recording each call
    (training or eval); the machine check passes."""
    seen = {"options": [], "calls": []}

    def compile(self, **options):
        seen["options"].append(options)

        def compiled(*args, **kwargs):
            seen["calls"].append("train" if self.training else "eval")
            return self._call_impl(*args, **kwargs)

        self._compiled_call_impl = compiled

    monkeypatch.setattr(nn.Module, "compile", compile)
    monkeypatch.setattr(compiling, "compile_problem", lambda device: None)
    return seen


def quiet(tmp_path, **settings) -> dict:
    return {"default_root_dir": str(tmp_path), "enable_progress_bar": False, "logger": None,
            "max_epochs": 1, **settings}


def test_the_setting_takes_true_a_mode_or_options():
    assert Trainer().config.compile is None and Trainer(compile=False).config.compile is None
    assert Trainer(compile=True).config.compile == CompileOptions("default", None)
    assert Trainer(compile="reduce-overhead").config.compile.mode == "reduce-overhead"
    given = {"mode": "max-autotune-no-cudagraphs", "dynamic": True}
    assert Trainer(compile=given).config.compile == CompileOptions(**given)
    with pytest.raises(ConfigError, match="max-autotun") as error:
        Trainer(compile={"mode": "max-autotun"})
    assert error.value.hint == 'did you mean "max-autotune"?'
    with pytest.raises(ConfigError, match="no option 'dynamc'"):
        Trainer(compile={"dynamc": True})
    with pytest.raises(ConfigError, match="dynamic='yes' is not valid"):
        Trainer(compile={"dynamic": "yes"})


def test_fit_compiles_the_forward_in_place_and_gives_it_back(tmp_path, fake_compile, capsys):
    module = Line()
    names = list(module.state_dict())
    trainer = Trainer(**quiet(tmp_path, compile={"mode": "max-autotune", "dynamic": False}))
    result = trainer.fit(module)
    assert fake_compile["options"] == [{"mode": "max-autotune", "dynamic": False}]
    # 2 sanity + 2 validation batches, 4 training batches; the summary's two example passes
    # ran the plain forward
    assert sorted(fake_compile["calls"]) == ["eval"] * 4 + ["train"] * 4
    assert "Compiled: torch.compile, mode max-autotune, dynamic shapes off" in \
        " ".join(capsys.readouterr().out.split())
    assert trainer.compiled.how == "torch.compile, mode max-autotune, dynamic shapes off"
    assert module.__dict__.get("_compiled_call_impl") is None  # as it came
    assert trainer.module is module
    saved = torch.load(result.last_checkpoint, weights_only=True)["state_dict"]
    assert list(saved) == names


def test_fast_dev_run_compiles_too(tmp_path, fake_compile):
    Trainer(**quiet(tmp_path, compile=True, fast_dev_run=True)).fit(Line())
    assert fake_compile["options"] == [{"mode": "default", "dynamic": None}]
    assert fake_compile["calls"] == ["train", "eval"]


def test_no_compile_is_no_compile(tmp_path, fake_compile):
    Trainer(**quiet(tmp_path, fast_dev_run=True)).fit(Line())
    assert fake_compile["options"] == [] and fake_compile["calls"] == []


def test_missing_compiler_stops_before_any_folder(tmp_path, monkeypatch):
    problem = ConfigError("compile: no compiler", hint="set compile = false")
    monkeypatch.setattr(compiling, "compile_problem", lambda device: problem)
    with pytest.raises(ConfigError, match="no compiler"):
        Trainer(**quiet(tmp_path, compile=True, logger="csv")).fit(Line())
    assert list(tmp_path.iterdir()) == []


# ---- checkpoints written from a torch.compile(model) wrapper -----------------------------

def test_strip_compiled_prefix_at_any_depth():
    weights = OrderedDict([("_orig_mod.net.0.weight", 1), ("model._orig_mod.fc.bias", 2),
                           ("plain.weight", 3)])
    weights._metadata = OrderedDict([("", {"version": 1}), ("_orig_mod", {"version": 1}),
                                     ("_orig_mod.net.0", {"version": 2})])
    plain = strip_compiled_prefix(weights)
    assert list(plain.items()) == [("net.0.weight", 1), ("model.fc.bias", 2),
                                   ("plain.weight", 3)]
    assert plain._metadata == {"": {"version": 1}, "net.0": {"version": 2}}
    clean = {"a_orig_mod.weight": 1}  # only a whole name part is torch.compile's
    assert strip_compiled_prefix(clean) is clean


def _prefixed(path: Path) -> None:
    """Rewrite the checkpoint at ``path`` as a compiled wrapper's state_dict names it."""
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"] = {f"_orig_mod.{k}": v for k, v in ckpt["state_dict"].items()}
    torch.save(ckpt, path)


def test_a_checkpoint_with_orig_mod_keys_resumes_and_gives_weights(tmp_path):
    first = Trainer(**quiet(tmp_path, enable_model_summary=False)).fit(Line())
    _prefixed(Path(first.last_checkpoint))
    weights = load_weights_checkpoint(first.last_checkpoint)["state_dict"]
    assert list(weights) == list(Line().state_dict())
    assert list(load_checkpoint(first.last_checkpoint)["state_dict"]) == list(weights)
    module = Line()
    resumed = Trainer(**quiet(tmp_path, enable_model_summary=False, max_epochs=2)).fit(
        module, ckpt_path=first.last_checkpoint)
    assert (first.global_step, resumed.global_step) == (4, 8)
    saved = torch.load(resumed.last_checkpoint, weights_only=True)["state_dict"]
    assert not any("_orig_mod" in key for key in saved)


def test_evaluate_reads_weights_with_orig_mod_keys(tmp_path, monkeypatch):
    from lightdsl.deploy.loading import load_weights

    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "line.lit"
    spec.write_text(LINE_SPEC.replace("COMPILE", ""))
    experiment = lightdsl.load(str(spec))
    trained = {k: torch.full_like(v, 0.5) for k, v in experiment.module.state_dict().items()}
    torch.save({"state_dict": {f"_orig_mod.{k}": v for k, v in trained.items()}},
               tmp_path / "compiled.ckpt")
    load_weights(experiment, tmp_path / "compiled.ckpt")
    assert all(torch.equal(v, trained[k]) for k, v in experiment.module.state_dict().items())


# ---- whether this machine can compile ----------------------------------------------------

def test_the_messages_say_what_is_missing_and_what_to_do(tmp_path, monkeypatch):
    from torch._inductor import config, cpp_builder

    # inductor remembers the compiler its search found (lru_cache): a compile earlier in this
    # process (another test's, whatever the order) would hide the empty PATH below
    cpp_builder.cpp_compiler_search.cache_clear()
    monkeypatch.setattr(cpp_builder, "cpp_compiler_search",
                        cpp_builder.cpp_compiler_search.__wrapped__)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", str(empty))  # no g++ to be found
    with config.patch({"cpp.cxx": (None, "g++")}):  # as inductor reads it without CXX
        problem = compiling.compile_problem(torch.device("cpu"))
    assert problem.message == ("compile: torch.compile on the CPU builds C++ kernels, and no "
                               "working C++ compiler was found (tried g++)")
    assert "apt install g++" in problem.hint and "set compile = false" in problem.hint
    monkeypatch.undo()

    if compiling.compile_problem(torch.device("cpu")) is None:  # a compiler here: the headers
        monkeypatch.setattr(sysconfig, "get_path", lambda *args, **kwargs: str(tmp_path))
        problem = compiling.compile_problem(torch.device("cpu"))
        assert f"Python.h is not in {tmp_path}" in problem.message
        assert "python3-dev" in problem.hint
        monkeypatch.undo()

    import torch.utils._triton as triton

    monkeypatch.setattr(triton, "has_triton_package", lambda: False)
    problem = compiling.compile_problem(torch.device("cuda"))
    assert "triton package is not installed" in problem.message
    assert "pip install triton" in problem.hint


LINE_SPEC = """model Line {
    layers {
        linear(2, 4)
        tanh()
        linear(4, 1)
    }
}

data points {
    inputs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.2, 0.1], [0.9, 0.3]]
    labels = [[1.0], [1.0], [1.0], [2.0], [0.3], [1.2]]
    val = split(0.34, seed = 0)
    batch_size = 2
}

train {
    model = Line
    data = points
    loss = mse
    optimizer = sgd(lr = 0.1)
    max_epochs = 2
    seed = 0
    COMPILE
}
"""


@pytest.mark.slow
def test_train_without_a_compiler_says_so_and_writes_nothing(tmp_path):
    spec = tmp_path / "line.lit"
    spec.write_text(LINE_SPEC.replace("COMPILE", "compile = true"))
    done = run_lightdsl("train", spec, cwd=tmp_path, env=child_env(CXX="/nowhere/g++"))
    assert done.returncode == 1, done.stderr
    assert "error: compile: torch.compile on the CPU builds C++ kernels, and no working C++ " \
        "compiler was found (tried CXX=/nowhere/g++)" in done.stderr
    assert "set compile = false" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.lit"]


BROKEN_CXX = """#!/bin/sh
case "$1" in --version|-v|-dumpversion) exec g++ "$@";; esac
echo "fakecxx: internal compiler error: out of luck" >&2
exit 1
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to answer --version")
def test_a_compiler_that_fails_on_the_kernels_is_a_message_not_a_trace(tmp_path):
    """It passes the check before training (it answers --version) and fails on the first
    kernel, mid-fit: torch's 90-line trace becomes one message with the compiler's words."""
    cxx = tmp_path / "fakecxx"
    cxx.write_text(BROKEN_CXX)
    cxx.chmod(0o755)
    spec = tmp_path / "line.lit"
    spec.write_text(LINE_SPEC.replace("COMPILE", "compile = true"))
    env = child_env(CXX=str(cxx), TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "cache"))
    done = run_lightdsl("train", spec, cwd=tmp_path, env=env)  # a fresh cache: it compiles
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "error: compile: torch.compile failed while building the model's kernels " \
        "(CppCompileError: C++ compile error; the compiler said: fakecxx: internal compiler " \
        "error: out of luck)" in done.stderr
    assert "set compile = false" in done.stderr


@pytest.mark.slow
def test_a_torch_compile_wrapper_given_to_fit_trains_its_module(tmp_path):
    from torch._dynamo.utils import counters

    module = Line()
    names = list(module.state_dict())
    wrapper = torch.compile(module, backend="eager")  # dynamo, no C++ compiler needed
    assert next(iter(wrapper.state_dict())).startswith("_orig_mod.")
    counters.clear()
    trainer = Trainer(**quiet(tmp_path, enable_model_summary=False))
    result = trainer.fit(wrapper)
    assert trainer.module is module and counters["frames"]["ok"] >= 1  # through dynamo
    saved = torch.load(result.last_checkpoint, weights_only=True)["state_dict"]
    assert list(saved) == names
    assert module.__dict__.get("_compiled_call_impl") is None


@pytest.mark.slow
def test_compiled_training_matches_eager(tmp_path, monkeypatch):
    """Inductor for real: fast_dev_run, then lr_find and a fit, on the spec's module; the losses
    are eager's (to float32 rounding) and the checkpoint's names are the plain ones."""
    from torch._dynamo.utils import counters

    if compiling.compile_problem(torch.device("cpu")) is not None:
        pytest.skip("torch.compile cannot compile on this machine's CPU")
    monkeypatch.chdir(tmp_path)
    results = {}
    for name, line in (("eager", ""), ("compiled", "compile(dynamic = false)")):
        spec = tmp_path / f"{name}.lit"
        spec.write_text(LINE_SPEC.replace("COMPILE", line + "\n    lr_find(num_training = 4)"))
        experiment = lightdsl.load(str(spec))
        counters.clear()
        assert experiment.fit(fast_dev_run=True).global_step == 1
        results[name] = experiment.fit(enable_progress_bar=False)
        results[name + " graphs"] = counters["stats"]["unique_graphs"]
    assert results["eager graphs"] == 0 and results["compiled graphs"] >= 1
    eager, compiled = results["eager"], results["compiled"]
    assert compiled.learning_rate == pytest.approx(eager.learning_rate, rel=1e-4)
    for key, value in eager.last_metrics.items():
        assert compiled.last_metrics[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    saved = torch.load(compiled.last_checkpoint, weights_only=True)["state_dict"]
    assert list(saved) == ["layers.0.weight", "layers.0.bias", "layers.2.weight",
                           "layers.2.bias"]

"""lightdsl/runtime: the torch-only code that lightdsl and generated scripts share (issue 12 item 1).

Its modules import only the standard library, numpy and torch, so that codegen can copy any of
their functions into a standalone script; lightdsl's own data, trainer and tuner code calls the
same functions, and these tests check that the copies a script carries give lightdsl's numbers.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from lightdsl.codegen.helpers import IMPORTS, RUNTIME, helper_sources

from ..helpers.runner import run_python, run_tool
from ..helpers.scripts import RUFF

MODULES = sorted(p for p in RUNTIME.glob("*.py"))
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "torch"}
# Imported inside the one function that loads their data set (matplotlib: that draws the
# confusion-matrix picture), never at module level.
LAZY = {"torchvision", "sklearn", "matplotlib"}


def _imports(tree: ast.AST):
    """(root module, node, at module level) for every import in ``tree``."""
    top = {id(node) for node in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            yield ("." if node.level else node.module.split(".")[0]), node, id(node) in top


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_runtime_module_imports_only_stdlib_numpy_and_torch(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for root, node, top in _imports(tree):
        if root == "." and top:  # a sibling's definitions: a script carries their source
            sibling = RUNTIME / f"{node.module}.py"
            assert node.level == 1 and sibling.is_file(), ast.dump(node)
            assert {a.name for a in node.names} <= set(_definitions(sibling)), ast.dump(node)
            continue
        allowed = ALLOWED if top else ALLOWED | LAZY
        assert root in allowed, f"{path.name}:{node.lineno} imports {root} (not lightdsl-free)"
        if top and path.name != "__init__.py":  # codegen must know how to print the import
            line = ast.get_source_segment(path.read_text(encoding="utf-8"), node)
            bound = [a.asname or a.name for a in node.names]
            assert all(IMPORTS.get(name) == line for name in bound), line


def _definitions(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def _script(names) -> str:
    sources, imports = helper_sources(names)
    header = "\n".join(sorted(imports)) + "\n\n\n" if imports else ""
    return header + "\n\n\n".join(sources) + "\n"


COPIED = [p for p in MODULES if p.name != "__init__.py"]

# Runs each copied script in its own namespace, in one fresh Python for all of them (a torch
# import each would cost seconds): what each did, "ok" or its traceback, as JSON.
DRIVER = """
import json, runpy, sys, traceback

sys.modules["lightdsl"] = None  # any import of lightdsl fails
results = {}
for path in sys.argv[1:]:
    try:
        runpy.run_path(path, run_name="__main__")
        results[path] = "ok"
    except BaseException:
        results[path] = traceback.format_exc()
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def fresh_runs(tmp_path_factory) -> dict[str, str]:
    """Each module's definitions, copied as codegen copies them into a script, run in a fresh
    Python that cannot import lightdsl (isolated mode, ``lightdsl`` blocked in sys.modules):
    script path -> "ok" or the traceback."""
    folder = tmp_path_factory.mktemp("copied")
    scripts = []
    for path in COPIED:
        names = _definitions(path)
        check = f"\nassert all(callable(globals()[n]) for n in {names!r})\n"
        scripts.append(folder / f"script_{path.stem}.py")
        scripts[-1].write_text(_script(names) + check, encoding="utf-8")
    driver = folder / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    done = run_python("-I", driver, *scripts, cwd=folder)
    assert done.returncode == 0, done.stderr
    return {Path(k).name: v for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


@pytest.mark.parametrize("path", COPIED, ids=lambda p: p.name)
def test_runtime_module_runs_as_copied_into_a_script_without_lightdsl(path, tmp_path,
                                                                       fresh_runs):
    """Every definition of the module, copied as codegen copies it, runs in a fresh Python that
    cannot import lightdsl, and uses no name the copy lacks (ruff's undefined-name check),
    formatted as ruff formats scripts."""
    outcome = fresh_runs[f"script_{path.stem}.py"]
    assert outcome == "ok", outcome
    if RUFF:  # scripts are ruff-formatted and lint-clean: the copies must be too
        copied = tmp_path / "helpers.py"
        copied.write_text(_script(_definitions(path)), encoding="utf-8")
        for args in (["format", "--diff"], ["check", "--select", "F821,F401,F811"]):
            lint = run_tool(RUFF, *args, "--isolated", copied)
            assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    """The helpers as a generated script carries them: executed from their copied text."""
    names = [n for p in MODULES if p.name != "__init__.py" for n in _definitions(p)]
    path = tmp_path_factory.mktemp("script") / "script_helpers.py"
    path.write_text(_script(names), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("script_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_of_a_script_is_lightdsl_split(script):
    from lightdsl.data import Dataset, split

    x = torch.arange(60, dtype=torch.float32).reshape(30, 2)
    y = torch.tensor([0] * 17 + [1] * 9 + [2] * 4)
    for stratify in (True, False):
        train, val = split(Dataset(x, y), 0.3, seed=5, stratify=stratify)
        (sx, sy), (vx, vy) = script.split((x, y), 0.3, seed=5, stratify=stratify)
        assert torch.equal(train.inputs, sx) and torch.equal(val.labels, vy)
        assert torch.equal(val.inputs, vx) and torch.equal(train.labels, sy)


def test_transforms_of_a_script_are_lightdsl_transforms(script):
    from lightdsl.data import Dataset, fit_transforms

    images = torch.randint(0, 256, (8, 3, 5, 5), dtype=torch.uint8)
    train, _, fitted = fit_transforms(Dataset(images), {}, [("normalize", {})])
    mean, std = script.normalize_stats(images)
    assert fitted == [("normalize", {"mean": mean, "std": std})]
    assert torch.equal(train.inputs, script.normalize(images, mean, std))


def test_batches_of_a_script_are_the_trainer_batches(script):
    from lightdsl.trainer.data import InMemoryLoader

    x, y = torch.randn(23, 3), torch.arange(23)
    loader = InMemoryLoader((x, y), batch_size=5, shuffle=True, seed=7)
    loader.set_epoch(2)
    ours = list(loader)
    theirs = list(script.batches((x, y), 5, shuffle=True, seed=7 + 2))
    assert len(ours) == len(theirs) == script.num_batches(23, 5) == 5
    assert all(torch.equal(a, b) for p, q in zip(ours, theirs) for a, b in zip(p, q))


def test_early_stopping_of_a_script_stops_where_the_trainer_stops(script):
    from lightdsl.trainer.callbacks import EarlyStopping

    values = [1.0, 0.9, 0.95, 0.89, 0.9, 0.91, 0.92, 0.5]
    ours = EarlyStopping(patience=3, min_delta=0.005)
    theirs = script.EarlyStopping(patience=3, min_delta=0.005)
    trainer = SimpleNamespace(should_stop=False, current_epoch=0, has_validated=True,
                              state=SimpleNamespace(stop_reason=None))
    stops = []
    for epoch, value in enumerate(values):
        trainer.callback_metrics, trainer.current_epoch = {"val_loss": value}, epoch
        trainer.should_stop = False
        ours.on_validation_end(trainer, None)
        stops.append((trainer.should_stop, theirs.should_stop({"val_loss": value})))
    assert [a for a, _ in stops] == [b for _, b in stops]
    assert stops.index((True, True)) == 6  # 0.89 at epoch 3, then three checks without gain


def test_range_test_of_a_script_is_lightdsl_lr_find(script):
    from lightdsl.tuner.lr_find import LRFinderResult, _RangeScheduler

    test = script.RangeTest(min_lr=1e-5, max_lr=1.0, num_training=30)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-5)
    scheduler = _RangeScheduler(optimizer, 1.0, 30, "exponential")
    for step in range(1, 31):
        optimizer.step()
        scheduler.step()
        if test.record(step, torch.tensor(2.0 / (1 + step) + 0.001 * step**2)):
            break
    assert test.lrs == scheduler.history[: len(test.lrs)]
    result = LRFinderResult(test.lrs, test.losses, "exponential", 1e-5, 1.0, 30)
    assert result.suggestion() == test.suggestion() is not None


def test_a_run_early_stopping_did_not_stop_ends_as_lightdsls(script, tmp_path, capsys):
    """The script passes early stopping's reason, None when it did not stop: the summary said
    "Training None: 1 epochs, 1 steps"; lightdsl says "Training finished: 1 epoch, 1 step"."""
    run = script.RunFolder(tmp_path / "run")
    run.end_epoch(0, {"train_loss_epoch": 0.5})
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    run.finish(model, optimizer, 1, script.EarlyStopping().reason)
    assert capsys.readouterr().out.startswith("Training finished: 1 epoch, 1 step in ")
    run.finish(model, optimizer, 2, "early stopping: val_loss did not improve for 3 checks")
    assert capsys.readouterr().out.startswith("Training early stopping: val_loss did not "
                                              "improve for 3 checks: 1 epoch, 2 steps in ")

"""What a generated Lightning script passes to ``pl.Trainer(...)`` comes from the settings
table (``Setting.lightning``, :data:`~lightdsl.run_settings.SPEC_LIGHTNING_SETTINGS`): every
keyword is a real parameter of pytorch-lightning's ``Trainer.__init__``, and lightdsl's own
settings (seed, compile, device_stats, ...) never reach it. A new lightdsl-only setting is one
table line with ``lightning=False``; without the flag the first test fails."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from lightdsl.analysis import analyze
from lightdsl.codegen import generate
from lightdsl.frontend.source import SourceFile
from lightdsl.run_settings import SETTINGS_TABLE, SPEC_LIGHTNING_SETTINGS

pl = pytest.importorskip("pytorch_lightning")

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted([*(ROOT / "specs").glob("*.lit"), *(ROOT / "tests/codegen/specs").glob("*.lit")])
LIGHTNING_ARGS = set(inspect.signature(pl.Trainer.__init__).parameters) - {"self"}


def test_the_tables_lightning_flag_is_pytorch_lightnings_signature():
    says = {s.name for s in SETTINGS_TABLE if s.lightning}
    assert says - LIGHTNING_ARGS == set()
    assert {s.name for s in SETTINGS_TABLE if not s.lightning} & LIGHTNING_ARGS == set()
    assert {"seed", "compile", "device_stats"} & SPEC_LIGHTNING_SETTINGS == set()


def _scripts():
    for spec in SPECS:
        analysis = analyze(SourceFile.read(str(spec)))
        for run in analysis.program.runs:
            yield spec, run, generate(analysis, run, "lightning", str(spec.with_suffix(".py")))


def _trainer_keywords(script: str) -> list[str]:
    """The keyword names main() gives ``pl.Trainer``: the keys of its ``settings = {...}``
    (``pl.Trainer(**settings)``, after main()'s own arguments)."""
    assert "trainer = pl.Trainer(**settings)" in script
    return [key.value for node in ast.walk(ast.parse(script)) if isinstance(node, ast.Assign)
            and [ast.unparse(t) for t in node.targets] == ["settings"]
            and isinstance(node.value, ast.Dict) for key in node.value.keys]


def test_every_generated_pl_trainer_keyword_is_a_lightning_parameter():
    seen, written = set(), set()
    for spec, run, generated in _scripts():
        keywords = _trainer_keywords(generated.text)
        assert keywords, f"{spec.name} {run}: no pl.Trainer(...) call found"
        assert set(keywords) <= LIGHTNING_ARGS, (spec.name, run, set(keywords) - LIGHTNING_ARGS)
        seen.update(keywords)
        written.update(analyze(SourceFile.read(str(spec))).program.runs[run].settings.nodes)
    # the corpus exercises it: lightdsl-only settings are written and left out, Lightning's pass
    assert {"seed", "compile"} <= written
    assert {"seed", "compile"} & seen == set()
    assert {"max_epochs", "callbacks", "logger"} <= seen


def test_mains_arguments_replace_the_specs_settings(tmp_path, monkeypatch):
    """``main(max_epochs=2)`` on a spec that sets max_epochs = 2000 trains 2 epochs (it was a
    TypeError: pl.Trainer got max_epochs twice)."""
    from tests.helpers.scripts import load_script, write_script

    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(ROOT / "specs" / "statquest.lit", tmp_path / "sq.py",
                                      target="lightning"))
    model = script.main(max_epochs=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    assert model.trainer.max_epochs == 2 and model.trainer.current_epoch == 2

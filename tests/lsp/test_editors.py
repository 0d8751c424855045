"""editors/: the TextMate grammar follows grammar/lightdsl.lark; the manifests start the server."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ROOT / "editors"


def _generator():
    spec = importlib.util.spec_from_file_location("generate", EDITORS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_grammars_are_what_the_generator_writes():
    expected = json.dumps(_generator().build(), indent=2) + "\n"
    for path in _generator().OUTPUTS:
        assert path.read_text() == expected, f"run python editors/generate.py ({path})"


def test_every_grammar_keyword_is_highlighted_and_no_other():
    keywords = _generator().grammar_keywords()
    assert {"model", "data", "train", "param", "layers", "forward", "return", "frozen",
            "repeat", "true", "false", "none"} <= keywords
    grammar = json.loads((EDITORS / "lit.tmLanguage.json").read_text())
    highlighted = set()
    for pattern in grammar["patterns"]:
        if pattern.get("name", "").startswith(("keyword.", "constant.language")):
            highlighted |= set(re.findall(r"[a-z_]+", pattern["match"].replace(r"\b", " ")))
    assert highlighted == keywords


def test_keyword_patterns_match_a_spec_the_way_lark_reads_it():
    grammar = json.loads((EDITORS / "lit.tmLanguage.json").read_text())
    control = next(p for p in grammar["patterns"] if p.get("name") == "keyword.control.lit")
    assert re.findall(control["match"], "    param w = 1.0 frozen  repeat(2) { relu }") == \
        ["param", "frozen", "repeat"]
    assert re.findall(control["match"], "parameter = returned") == []  # whole words only


def test_vscode_extension_starts_lightdsl_lsp():
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text())
    assert manifest["contributes"]["languages"][0]["extensions"] == [".lit"]
    command = manifest["contributes"]["configuration"]["properties"]["lightdsl.command"]
    assert command["default"] == ["lightdsl", "lsp"]
    assert (EDITORS / "vscode" / manifest["main"]).is_file()
    assert '"lightdsl", "lsp"' in (EDITORS / "neovim.lua").read_text()
    assert 'args = ["lsp"]' in (EDITORS / "helix-languages.toml").read_text()

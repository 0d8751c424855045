"""Write editors/lit.tmLanguage.json (and the VS Code extension's copy) from the grammar.

The keywords are read from grammar/lightdsl.lark (every quoted word of its rules and
terminals), the builtin names from the vocabulary registry; tests/lsp/test_editors.py checks
that the committed files are what this script writes. Run: python editors/generate.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "grammar" / "lightdsl.lark"
OUTPUTS = [ROOT / "editors" / "lit.tmLanguage.json",
           ROOT / "editors" / "vscode" / "syntaxes" / "lit.tmLanguage.json"]
CONSTANTS = {"true", "false", "none"}
DECLARATIONS = {"model", "data", "train", "sweep"}


def grammar_keywords(text: str | None = None) -> set[str]:
    """Every word the grammar spells out in quotes: ``"model"``, ``FROZEN: "frozen"``..."""
    text = GRAMMAR.read_text() if text is None else text
    code = "\n".join(line.split("//")[0] for line in text.splitlines())
    return set(re.findall(r'"([a-z_]+)"', code))


def _words(words) -> str:
    return r"\b(?:" + "|".join(sorted(words)) + r")\b"


def build() -> dict:
    sys.path.insert(0, str(ROOT))
    from lightdsl.vocab import REGISTRY

    keywords = grammar_keywords()
    layers = set(REGISTRY.names("layer")) | set(REGISTRY.names("function"))
    others = {name for kind in ("loss", "optimizer", "scheduler", "metric", "source", "split",
                                "transform", "callback", "logger", "statement")
              for name in REGISTRY.names(kind)}
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/"
                   "tmlanguage.json",
        "name": "lightdsl", "scopeName": "source.lit", "fileTypes": ["lit"],
        "patterns": [
            {"name": "comment.line.number-sign.lit", "match": "#.*$"},
            {"name": "string.quoted.double.lit", "begin": '"', "end": '"|$',
             "patterns": [{"name": "constant.character.escape.lit", "match": r"\\."}]},
            {"name": "string.quoted.single.lit", "begin": "'", "end": "'|$",
             "patterns": [{"name": "constant.character.escape.lit", "match": r"\\."}]},
            {"match": _words(DECLARATIONS & keywords) + r"\s+([A-Za-z_]\w*)?",
             "captures": {"0": {"name": "keyword.declaration.lit"},
                          "1": {"name": "entity.name.type.lit"}}},
            {"name": "keyword.declaration.lit", "match": _words(DECLARATIONS & keywords)},
            {"name": "keyword.control.lit",
             "match": _words(keywords - DECLARATIONS - CONSTANTS)},
            {"name": "constant.language.lit", "match": _words(CONSTANTS & keywords)},
            {"name": "constant.numeric.lit",
             "match": r"\b(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?\b"},
            {"name": "support.function.layer.lit", "match": _words(layers) + r"(?=\s*\()"},
            {"name": "support.function.lit", "match": _words(others)},
            {"name": "keyword.operator.lit", "match": r"\*\*|[-+*/@=]"},
        ],
    }


def main() -> int:
    text = json.dumps(build(), indent=2) + "\n"
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

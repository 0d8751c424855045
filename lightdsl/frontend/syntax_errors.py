"""Lark's syntax errors, told in words: no terminal names ever reach the user."""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .source import SourceFile, Span

_PUNCTUATION = {
    "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`",
    "RSQB": "`]`", "COMMA": "`,`", "EQUAL": "`=`", "PLUS": "`+`", "MINUS": "`-`",
    "STAR": "`*`", "SLASH": "`/`", "AT": "`@`", "POW": "`**`", "FROZEN": "`frozen`", "REPEAT": "`repeat`",
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string",
}
_CLOSERS = {"{": "RBRACE", "(": "RPAR", "[": "RSQB"}
_STATEMENT_LEVEL = {"NAME", "PARAM", "LAYERS", "FORWARD", "RETURN", "FROZEN", "MODEL", "DATA",
                    "TRAIN"}
_KEYWORDS = {"MODEL", "DATA", "TRAIN", "SWEEP", "PARAM", "LAYERS", "FORWARD", "RETURN"}
_EXPRESSION_START = {"NUMBER", "STRING", "NAME", "LSQB", "LPAR", "MINUS", "TRUE", "FALSE", "NONE"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "AT", "POW"}
_GROUPS = [  # (terminals that must all be expected, how to say it), most specific first
    ({"PARAM", "LAYERS", "FORWARD", "NAME"}, ("a statement (`param`, `layers`, `forward` or "
                                             "`name = ...`)")),
    ({"MODEL", "DATA", "TRAIN", "SWEEP"}, "a definition (`model`, `data`, `train` or `sweep`)"),
    ({"RETURN", "NAME"}, "an assignment or `return`"),
    (_EXPRESSION_START, "an expression"),
    (_OPERATORS, "an operator"),
]


def describe_syntax_error(error: UnexpectedInput, source: SourceFile):
    """(span, message, hint) for one lark exception."""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, source)
    if isinstance(error, UnexpectedEOF) or getattr(error, "token", None) is None \
            or error.token.type == "$END":
        return _unexpected_end(error, source)
    return _unexpected_token(error, source)


def _unexpected_character(error: UnexpectedCharacters, source: SourceFile):
    char = source.text[error.pos_in_stream]
    span = Span.point(error.line, error.column, error.pos_in_stream)
    if char in "\"'":
        return span, "unterminated string", "a string must end on the line where it starts"
    if char in "\u201c\u201d\u2018\u2019":
        return span, f"unexpected character `{char}`", "use straight quotes: \" or '"
    shown = repr(char) if not char.isprintable() or char.isspace() else f"`{char}`"
    return span, f"unexpected character {shown}", None


def _unexpected_end(error: UnexpectedInput, source: SourceFile):
    opened = _unclosed_bracket(source.text)
    if opened:
        closer = {"{": "}", "(": ")", "[": "]"}[opened[0]]
        return (source.end_span(),
                f"unexpected end of file: the `{opened[0]}` at line {opened[1]} is never closed",
                f"add the missing `{closer}`")
    expected = getattr(error, "expected", None) or set()
    return source.end_span(), f"unexpected end of file; expected {_describe_expected(expected)}", \
        None


def _unexpected_token(error: UnexpectedToken, source: SourceFile):
    token, expected = error.token, set(error.expected)
    span = Span(line=token.line, column=token.column, end_line=token.end_line,
                end_column=token.end_column, start_pos=token.start_pos, end_pos=token.end_pos)
    special = _common_mistake(token, expected, source)
    if special:
        return special
    previous = _previous_word(source.text, token.start_pos)
    if expected == {"NAME"} and previous:
        return span, f"expected a name after `{previous}`", None
    if expected and expected <= {"EQUAL", "LPAR"} and previous:
        return span, f"expected `=` after `{previous}`", None
    if token.type == "EQUAL" and previous and previous.upper() in _KEYWORDS:
        return (span, f"`{previous}` is a keyword and cannot be used as a name",
                "choose another name")
    expected = _narrow_to_bracket(expected, _unclosed_bracket(source.text[: token.start_pos]))
    message = f"unexpected {_describe_token(token)}; expected {_describe_expected(expected)}"
    hint = "separate arguments and list items with `,`" if "COMMA" in expected and \
        token.type in _EXPRESSION_START else None
    return span, message, hint


def _common_mistake(token, expected: set[str], source: SourceFile):
    """Mistakes whose LALR error would mislead: say what the user did instead."""
    text, start = source.text, token.start_pos
    before = text[:start]
    word = re.search(r"([A-Za-z_]\w*)\s*$", before)
    if word and word.group(1) == "return":
        return (_span_at(source, word.start(1), 6), ("`return` is only allowed inside "
                "forward() { ... }"), None)
    keyword = re.search(r"(?:^|\n)(model|data|train|sweep)\s*$", before)
    if keyword and token.type in ("EQUAL", "NAME", "LBRACE"):
        opened = _unclosed_bracket(text[:keyword.start(1)])
        if opened:
            return (_span_at(source, keyword.start(1), len(keyword.group(1))),
                    (f"`{keyword.group(1)}` starts a new definition, but the `{opened[0]}` at "
                    f"line {opened[1]} is still open"), "add the missing `}` before it")
    if token.type == "NUMBER" and str(token).startswith(".") and re.search(r"\d$", before):
        number = re.search(r"[\d.]+$", before)
        return (_span_at(source, number.start(), start + len(token) - number.start()),
                f"malformed number `{text[number.start():start + len(token)]}`", None)
    missing = re.search(r"([A-Za-z_]\w*)\s*(=)[ \t]*(#[^\n]*)?\n\s*([A-Za-z_]\w*)\s*$", before)
    if token.type == "EQUAL" and missing:
        return (_span_at(source, missing.start(2), 1), f"`{missing.group(1)} =` has no value",
                None)
    return None


def _span_at(source: SourceFile, position: int, width: int) -> Span:
    line = source.text.count("\n", 0, position) + 1
    column = position - (source.text.rfind("\n", 0, position) + 1) + 1
    return Span(line=line, column=column, end_line=line, end_column=column + width,
                start_pos=position, end_pos=position + width)


def _narrow_to_bracket(expected: set[str], opened: tuple[str, int] | None) -> set[str]:
    """LALR merges lookaheads of many contexts; keep what fits the innermost open bracket."""
    if opened is None:
        return expected
    keep = set(expected) - (set(_CLOSERS.values()) - {_CLOSERS[opened[0]]})
    if opened[0] in "([":
        narrowed = keep - _STATEMENT_LEVEL
        keep = narrowed if narrowed else keep
    return keep or expected


def _describe_token(token) -> str:
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type == "NUMBER":
        return f"number `{token}`"
    if token.type == "STRING":
        return "string"
    return f"`{token}`"


def _describe_expected(expected: set[str]) -> str:
    """Group terminal names into phrases: 'expected `}` or a statement'."""
    remaining, phrases = set(expected) - {"$END"}, []
    for group, phrase in _GROUPS:
        if group <= remaining or (phrase == "an expression" and {"NUMBER", "NAME"} <= remaining):
            phrases.append(phrase)
            remaining -= group
    for terminal in sorted(remaining):
        phrases.append(_PUNCTUATION.get(terminal, f"`{terminal.lower()}`"))
    if "$END" in expected:
        phrases.append("the end of the file")
    if not phrases:
        return "something else"
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _previous_word(text: str, position: int) -> str | None:
    match = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", text[:position])
    return match.group(1) if match else None


def _unclosed_bracket(text: str) -> tuple[str, int] | None:
    """The innermost bracket still open at the end, ignoring comments and strings."""
    stack: list[tuple[str, int]] = []
    pairs = {"}": "{", ")": "(", "]": "["}
    code = re.sub(r"#[^\n]*|\"([^\"\\\n]|\\.)*\"|'([^'\\\n]|\\.)*'",
                  lambda m: " " * len(m.group(0)), text)
    line = 1
    for char in code:
        if char == "\n":
            line += 1
        elif char in "{([":
            stack.append((char, line))
        elif char in pairs and stack and stack[-1][0] == pairs[char]:
            stack.pop()
    return stack[-1] if stack else None

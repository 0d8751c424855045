"""The language server over stdio, on pygls: LSP requests to :mod:`lightdsl.lsp`'s functions.

Diagnostics are published when a document opens or is saved, and after a change once the
typing pauses (``debounce`` seconds, 0.15 unless the client's ``initializationOptions`` or
``LIGHTDSL_LSP_DEBOUNCE`` say otherwise). Requests analyse the current text first if a change
is still waiting, so a hover never shows a stale shape.
"""

from __future__ import annotations

import asyncio
import os
from importlib import metadata

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from ..frontend.diagnostics import Diagnostic
from ..frontend.formatting import FormatError, format_text
from .completion import complete
from .documents import Document
from .hover import hover
from .navigation import Target, definition, document_symbols, references

DEBOUNCE = 0.15  # seconds of quiet after a change before diagnostics are published
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "note": types.DiagnosticSeverity.Information}


def _version() -> str:
    """lightdsl's installed version (read from the package metadata: the package itself sits
    above this layer)."""
    try:
        return metadata.version("lightdsl")
    except metadata.PackageNotFoundError:
        return "unknown"


class LightdslServer(LanguageServer):
    def __init__(self):
        super().__init__("lightdsl", _version(),
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents: dict[str, Document] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.debounce = float(os.environ.get("LIGHTDSL_LSP_DEBOUNCE", DEBOUNCE))

    def document(self, uri: str) -> Document:
        """The document as the client last sent it (analysed on demand)."""
        text = self.workspace.get_text_document(uri)
        document = self.documents.get(uri)
        if document is None:
            path = to_fs_path(uri) or uri
            document = self.documents[uri] = Document(uri, path, text.source,
                                                      encoding=self.encoding())
        document.update(text.source, text.version)
        return document

    def encoding(self) -> str:
        value = getattr(self.workspace, "position_encoding", None) or "utf-16"
        return str(getattr(value, "value", value))

    def publish(self, uri: str) -> None:
        self.pending.pop(uri, None)
        if uri not in self.documents:
            return
        document = self.document(uri)
        analysis = document.analyse()
        found = [self.diagnostic(d, document) for d in analysis.diagnostics]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=found, version=document.version))

    def schedule(self, uri: str) -> None:
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        self.pending[uri] = asyncio.get_running_loop().call_later(self.debounce, self.publish,
                                                                  uri)

    def diagnostic(self, found: Diagnostic, document: Document) -> types.Diagnostic:
        lines = document.view().lines
        message = found.message + (f"\nhint: {found.hint}" if found.hint else "")
        related = [types.DiagnosticRelatedInformation(
            location=types.Location(uri=self.uri_of(note.file, document),
                                    range=_range(lines.span_range(note.span))),
            message=note.message) for note in found.notes]
        return types.Diagnostic(range=_range(lines.span_range(found.span)), message=message,
                                severity=SEVERITY[found.severity], code=found.code,
                                source="lightdsl", related_information=related or None)

    def uri_of(self, path: str, document: Document) -> str:
        if path == document.path:
            return document.uri
        return from_fs_path(os.path.abspath(path)) or document.uri

    def location(self, target: Target, document: Document) -> types.Location:
        if target.path is not None:
            point = types.Position(line=target.line, character=0)
            return types.Location(uri=from_fs_path(target.path),
                                  range=types.Range(start=point, end=point))
        return types.Location(uri=document.uri, range=self.offsets(document, target.start,
                                                                   target.end))

    @staticmethod
    def offsets(document: Document, start: int, end: int) -> types.Range:
        lines = document.view().lines
        return _range((lines.position(start), lines.position(end)))


def _range(points) -> types.Range:
    (line, character), (end_line, end_character) = points
    return types.Range(start=types.Position(line=line, character=character),
                       end=types.Position(line=end_line, character=end_character))


server = LightdslServer()


def _offset(document: Document, position: types.Position) -> int:
    return document.view().lines.offset(position.line, position.character)


@server.feature(types.INITIALIZE)
def initialize(ls: LightdslServer, params: types.InitializeParams) -> None:
    options = params.initialization_options or {}
    if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)):
        ls.debounce = float(options["debounce"])


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LightdslServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.document(params.text_document.uri)
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LightdslServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.document(params.text_document.uri)
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LightdslServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LightdslServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    handle = ls.pending.pop(uri, None)
    if handle is not None:
        handle.cancel()
    ls.documents.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(ls: LightdslServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.document(params.text_document.uri)
    found = hover(document, _offset(document, params.position))
    if found is None:
        return None
    text, (start, end) = found
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=ls.offsets(document, start, end))


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=["(", ",", "=", "[", " "]))
def on_completion(ls: LightdslServer, params: types.CompletionParams) -> types.CompletionList:
    document = ls.document(params.text_document.uri)
    items = [types.CompletionItem(
        label=item.label, kind=getattr(types.CompletionItemKind, item.kind),
        detail=item.detail or None, insert_text=item.insert,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                          value=item.documentation)
        if item.documentation else None)
        for item in complete(document, _offset(document, params.position))]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: LightdslServer, params: types.DefinitionParams):
    document = ls.document(params.text_document.uri)
    target = definition(document, _offset(document, params.position))
    return ls.location(target, document) if target is not None else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: LightdslServer, params: types.ReferenceParams):
    document = ls.document(params.text_document.uri)
    found = references(document, _offset(document, params.position),
                       params.context.include_declaration)
    return [ls.location(target, document) for target in found]


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_symbols(ls: LightdslServer, params: types.DocumentSymbolParams):
    document = ls.document(params.text_document.uri)

    def convert(symbol) -> types.DocumentSymbol:
        node, name = symbol.node, symbol.name_node
        return types.DocumentSymbol(
            name=symbol.name, kind=getattr(types.SymbolKind, symbol.kind), detail=symbol.detail,
            range=ls.offsets(document, node.span.start_pos, node.span.end_pos),
            selection_range=ls.offsets(document, name.span.start_pos, name.span.end_pos),
            children=[convert(child) for child in symbol.children] or None)

    return [convert(symbol) for symbol in document_symbols(document)]


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def on_formatting(ls: LightdslServer, params: types.DocumentFormattingParams):
    document = ls.document(params.text_document.uri)
    try:
        formatted = format_text(document.text, document.path)
    except FormatError:
        return None  # syntax errors: they are on screen already; nothing to lay out
    if formatted == document.text:
        return []
    end = document.view().lines.position(len(document.text))
    whole = _range(((0, 0), end))
    return [types.TextEdit(range=whole, new_text=formatted)]


def main() -> int:
    """Serve on stdin/stdout until the client says exit."""
    server.start_io()
    return 0

"""A real LSP client over stdio for the tests: pygls's LanguageClient talking to a
``python -m lightdsl lsp`` process, driven from synchronous tests.

The client's event loop runs in a thread of its own; each call waits for its answer, and
notifications (published diagnostics) are waited for as events with a timeout, never by
sleeping.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20.0  # seconds: far above any answer's time, so only a hang fails


class Session:
    """One server process and the client talking to it."""

    def __init__(self, debounce: float = 0.05):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient("lightdsl-tests", "1")
        self.diagnostics: dict[str, list[asyncio.Queue]] = {}
        self.stderr_lines: list[str] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams):
            self._queue(params.uri).put_nowait(params)

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.call(self.client.start_io(sys.executable, "-m", "lightdsl", "lsp", cwd=str(ROOT),
                                       env=env))
        self.result = self.call(self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=ROOT.as_uri(),
            initialization_options={"debounce": debounce})))
        self.client.initialized(types.InitializedParams())

    def _queue(self, uri: str) -> asyncio.Queue:
        return self.diagnostics.setdefault(uri, asyncio.Queue())

    def call(self, coroutine, timeout: float = TIMEOUT):
        """Run a coroutine on the client's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def next_diagnostics(self, uri: str, timeout: float = TIMEOUT) -> types.PublishDiagnosticsParams:
        """The next diagnostics the server publishes for ``uri`` (waits for the event)."""
        async def take():
            return await asyncio.wait_for(self._queue(uri).get(), timeout)
        return self.call(take(), timeout + 1)

    def open(self, path: Path | str, text: str | None = None) -> str:
        path = Path(path)
        uri = path.resolve().as_uri()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="lightdsl", version=1,
                                                 text=path.read_text() if text is None
                                                 else text)))
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        """Replace the whole text (a content change without a range)."""
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def edit(self, uri: str, version: int, line: int, start: int, end: int, text: str) -> None:
        """Replace characters ``start:end`` of a 0-based line (an incremental change)."""
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=start),
                                  end=types.Position(line=line, character=end)), text=text)]))

    def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return self.call(self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character))))

    def complete(self, uri: str, line: int, character: int) -> list[types.CompletionItem]:
        found = self.call(self.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character))))
        return found.items if isinstance(found, types.CompletionList) else list(found or [])

    def definition(self, uri: str, line: int, character: int):
        return self.call(self.client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character))))

    def references(self, uri: str, line: int, character: int):
        return self.call(self.client.text_document_references_async(types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.ReferenceContext(include_declaration=True))))

    def symbols(self, uri: str):
        return self.call(self.client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))))

    def formatting(self, uri: str):
        return self.call(self.client.text_document_formatting_async(
            types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                           options=types.FormattingOptions(tab_size=4,
                                                                           insert_spaces=True))))

    def close(self) -> None:
        try:
            self.call(self.client.shutdown_async(None), 10)
            self.client.exit(None)
            self.call(self.client.stop(), 10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

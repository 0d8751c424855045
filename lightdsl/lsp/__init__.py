"""The lightdsl language server (``lightdsl lsp``): the checker's findings in the editor.

Everything here is torch-free and reuses the front end: diagnostics are ``lightdsl check``'s,
hover shows the shapes the checker inferred (the walks it stored, :mod:`lightdsl.checker.flow`),
completion and navigation read the vocabulary registry and the AST. Modules: ``documents`` (one open file:
its text, analysis, last good parse), ``positions`` (LSP positions <-> offsets), ``index``
(AST lookups), ``hover``, ``completion``, ``navigation`` (definitions, references, symbols)
and ``server`` (the pygls wiring; the only module that imports pygls).
"""

"""``lightdsl lsp``: the language server, on stdin and stdout (editors start it).

Needs the optional ``lsp`` extra (pygls). Like ``check``, it never imports torch.
"""

from __future__ import annotations

from ..errors import UsageError


def register(commands) -> None:
    parser = commands.add_parser("lsp", help="run the language server (stdio) for editors",
                                 description="Start the lightdsl Language Server on standard "
                                 "input and output: diagnostics, hover with shapes, completion, "
                                 "go to definition, references, outline and formatting. "
                                 "Editors start it; see editors/README.md.")
    parser.add_argument("--stdio", action="store_true",
                        help="talk over stdin/stdout (the default; accepted for editors that "
                        "pass it)")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        from ..lsp.server import main
    except ModuleNotFoundError as error:
        if error.name not in ("pygls", "lsprotocol", "cattrs"):
            raise
        raise UsageError("the language server needs pygls, which is not installed",
                         hint="pip install 'lightdsl[lsp]'") from None
    return main()

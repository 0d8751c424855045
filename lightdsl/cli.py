"""The ``lightdsl`` command line: ``check`` (torch-free), ``train``, ``codegen`` and friends.

Only the subcommand that runs imports what it needs, so ``lightdsl check`` never loads torch.
Exit codes: 0 fine (warnings allowed), 1 errors in a spec or a failed run, 2 usage or I/O.
"""

from __future__ import annotations

import argparse
import gc
import sys

from . import __version__
from .errors import LightdslError


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line hint, as our usage errors do."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; for ``argv`` that starts with a command, that command's
    parser alone (the others' modules stay unimported), else every command's."""
    parser = _Parser(prog="lightdsl", description="A declarative language for deep-learning "
                     "experiments: check, train and generate code from .lit specs.")
    parser.add_argument("--version", action="version", version=f"lightdsl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    from .commands import COMMANDS, register, register_all

    if argv and argv[0] in COMMANDS:  # argparse too takes argv[0] as the command, then
        register(commands, argv[0])
    else:  # --help, --version, options first or a usage error: output names every command
        register_all(commands)
    return parser


def _started(argv: list[str], freeze: bool) -> argparse.ArgumentParser:
    """``build_parser(argv)`` with the cyclic collector paused: it imports the command's
    modules, many objects and no garbage. With ``freeze`` (the process is lightdsl's own) they
    are then moved out of the collector's sight (``gc.freeze``: they live as long as the
    process); collecting them again and again cost `check` ~5 ms of its start-up (issue 18).
    Not when called from Python (tests): freezing would keep its garbage alive for good."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return build_parser(argv)
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m lightdsl``."""
    own_process = argv is None  # the console script or python -m lightdsl
    argv = sys.argv[1:] if own_process else argv
    parser = _started(argv, freeze=own_process)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LightdslError as error:
        print(error.report(), file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:  # Python code of the spec's (a python(...) layer) called sys.exit
        print(f"error: lightdsl {args.command} did not finish: Python code called "
              f"sys.exit({stop.code!r}) (a python(...) layer or loss?)", file=sys.stderr)
        return 1  # whatever the code said: a run that did not finish never exits 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lightdsl check ... | head` closed the pipe: not an error
        return 0


if __name__ == "__main__":
    sys.exit(main())

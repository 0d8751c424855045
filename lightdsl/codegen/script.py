"""What both targets share: a run's effective settings (:class:`Plan`) and the script's frame
(:class:`Script`: the module docstring, imports, constants, the body, carried helpers, the
``if __name__ == "__main__":`` block)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from ..checker.train import Run
from ..run_settings import PRECISION_TABLE, canonical_precision, max_epochs
from .helpers import available, helper_sources
from .printer import Namer, literal, str_literal
from .writer import CodeWriter, Doc, Group, concat, flat, safe_file_name

# precision -> (weights dtype or None for float32, autocast dtype or None); trainer semantics.
PRECISION_DTYPES = {p.name: (None if p.param_dtype == "float32" else f"torch.{p.param_dtype}",
                             p.autocast_dtype and f"torch.{p.autocast_dtype}")
                    for p in PRECISION_TABLE}


@dataclass
class Plan:
    """The settings a run trains with, defaults filled in as lightdsl's trainer fills them."""

    run: Run
    values: dict[str, Any] = field(init=False)

    def __post_init__(self):
        self.values = dict(self.run.settings.values)
        values, n = self.values, self.fast_dev_run
        if n:
            values.update(max_epochs=1, max_steps=n, limit_train_batches=n, limit_val_batches=n)
        values["max_epochs"] = max_epochs(values.get("max_epochs"), values["max_steps"])

    @property
    def fast_dev_run(self) -> int:
        """``fast_dev_run`` as lightdsl's trainer reads it: a batch count, 0 when off."""
        fast = self.values.get("fast_dev_run")
        return 0 if not fast else 1 if fast is True else int(fast)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def written(self, key: str) -> bool:
        return key in self.run.settings.nodes

    @property
    def precision(self) -> str:
        return canonical_precision(self.values["precision"])

    @property
    def data(self) -> dict[str, Any]:
        return self.run.data.settings.values

    @property
    def float_labels(self) -> bool:
        """Whether the loss wants float labels but the data may have integer ones."""
        return self.run.loss.entry.labels == "float" and self.run.data.labels.kind != "float"

    @property
    def sequence_scores(self) -> bool:
        """Whether a class-index loss meets scores per step, (N, T, C): the script moves the
        classes to dimension 1 for it, as lightdsl does (runtime class_scores_first)."""
        shape = self.run.output_shape
        return self.run.loss.entry.labels == "index" and shape is not None \
            and len(shape) > 2

    def loss_scores(self, script: Script) -> str:
        """What the loss is called on: ``output``, or its classes moved to dimension 1."""
        if not self.sequence_scores:
            return "output"
        script.use("class_scores_first")
        return "class_scores_first(output, labels)"


class Script:
    """The frame of one generated file; targets write the body into :attr:`w`. ``output`` is
    the file it will be written to (None: stdout), for the path from it to the spec's folder."""

    def __init__(self, path: str, run: Run, target: str, output: str | None = None):
        self.run, self.target = run, target
        self.path, self.output = path, output
        self.file = safe_file_name(path)
        self.w = CodeWriter(self.file)
        self.main_block = CodeWriter(self.file)  # if __name__ == "__main__": after the helpers
        self.imports: set[str] = set()
        self.helpers: set[str] = set()
        self.constants: list[tuple[str, str]] = []
        self.constant_notes: dict[str, list[str]] = {}  # comment lines above a constant
        self.late_imports: list[str] = []  # after the constants (python(...) modules)
        self.python_names: set[str] = set()  # names imported from python(...) modules
        self.globals = Namer(available() | {"SEED", "BATCH_SIZE", "MAX_EPOCHS", "SPEC_DIR",
                                            "LOG_ROOT", "RUN_NAME", "load_data", "fit",
                                            "evaluate", "main", "lr_find", "data_loader",
                                            "command_line", "argparse", "sys", "Path"})

    def use(self, helper: str) -> None:
        """Carry a helper of lightdsl/runtime in the script (not a python(...) name: imported)."""
        if helper not in self.python_names:
            self.helpers.add(helper)

    def spec_dir(self) -> str:
        """``SPEC_DIR``, the spec's folder as the script finds it, defined once (first): the
        data's relative paths and the spec's own Python modules are there."""
        if "SPEC_DIR" not in self.constant_notes:
            self.imports.add("from pathlib import Path")
            value, note = spec_dir_expression(self.path, self.output)
            self.constants.insert(0, ("SPEC_DIR", value))
            self.constant_notes["SPEC_DIR"] = note
        return "SPEC_DIR"

    def constant(self, name: str, value: Any | Doc, raw: bool = False) -> str:
        self.constants.append((name, value if raw else flat(literal(value))))
        return name

    def text(self, docstring: list[str]) -> tuple[str, dict[int, int]]:
        """The whole file, and the map from its lines to spec lines: the head (docstring,
        imports, constants), the body, the helpers under a banner, the main block."""
        head, sources = self._head(docstring)
        parts = [head, self.w]
        if sources:
            helpers = CodeWriter(self.file)
            helpers.lines += HELPERS_BANNER
            for source in sources:
                helpers.blank(2)
                helpers.lines += source.splitlines()
            parts.append(helpers)
        parts.append(self.main_block)
        text, line_map = "", {}
        for part in parts:
            if not part.lines:
                continue
            if text:
                text += "\n\n"
            offset = text.count("\n")
            line_map |= {line + offset: spec for line, spec in part.line_map.items()}
            text += part.text()
        return text, line_map

    def _head(self, docstring: list[str]) -> tuple[CodeWriter, list[str]]:
        """The docstring, imports and constants; and the helpers' sources (their imports are
        among the head's)."""
        head = CodeWriter(self.file)
        head.line('"""' + docstring[0])
        for line in docstring[1:]:
            head.line(line)
        head.line('"""')
        sources, imports = helper_sources(sorted(self.helpers))
        imports |= self.imports | {"import torch"}
        head.blank()
        third_party = {i for i in imports if "torch" in i or "numpy" in i or "lightning" in i}
        for group in (imports - third_party, third_party):
            for line in sorted(group, key=_import_key):
                head.line(line)
            head.blank()
        for name, value in self.constants:
            for note in self.constant_notes.get(name, ()):
                head.comment(note)
            head.line(f"{name} = {value}")
        if self.late_imports:
            head.blank()
            head.lines += self.late_imports
        return head, sources


# Above the helpers: a reader who meets their names in main() finds them here.
HELPERS_BANNER = [
    "# " + "-" * 76,
    "# Helpers copied from lightdsl's runtime (lightdsl/runtime): the code lightdsl itself",
    "# trains with, so that this script computes what `lightdsl train` computes.",
    "# " + "-" * 76,
]


def _import_key(line: str) -> tuple[bool, str]:
    """isort's order: ``import x`` before ``from x import y``, then by module."""
    return line.startswith("from "), line.split()[1]


DATA_ROOT_HELP = ("the folder the data's relative paths start from (default: the spec's "
                  "folder, %(default)s)")


def add_data_root_option(w: CodeWriter) -> None:
    """``parser.add_argument("--data-root", ...)`` in a script's ``command_line()``."""
    w.statement(concat("parser.add_argument", Group("(", (
        '"--data-root"', "type=Path", "default=SPEC_DIR",
        f"help={str_literal(DATA_ROOT_HELP)}"), ")")))


def spec_dir_expression(spec: str, output: str | None) -> tuple[str, list[str]]:
    """How a script finds the spec's folder, and the comment that says so: as seen from the
    script's own folder (from the current folder when it goes to stdout), or as an absolute
    path when the two folders share no parent but the file system's root."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(spec)))
    base = os.path.realpath(os.path.dirname(os.path.abspath(output)) if output else os.curdir)
    shown = safe_file_name(spec)
    try:
        common = os.path.commonpath([folder, base])
        relative = PurePath(os.path.relpath(folder, base)).as_posix()
    except ValueError:  # another drive (Windows)
        common = relative = None
    if common is None or Path(common).parent == Path(common):
        return (f"Path({str_literal(folder)})",
                [f"the folder of {shown} (absolute: no relative path leads there from here)"])
    if output is None:
        where = "Path()" if relative == "." else f"Path({str_literal(relative)})"
        return where, [f"the folder of {shown}, relative to the folder the script runs in (it",
                       "went to stdout): run it in the folder `lightdsl codegen` ran in"]
    return _from_here(relative), [f"the folder of {shown}, as seen from this file's folder: the data's",
                   "relative paths start there, as in lightdsl"]


def _from_here(relative: str) -> str:
    """``relative`` (a posix path) from the script's folder: ``../x`` is ``parents[1] / "x"``,
    so that the path the script prints has no ``..`` in it."""
    parts = PurePath(relative).parts
    up = len(parts) - len(tuple(itertools.dropwhile(lambda part: part == "..", parts)))
    here = "Path(__file__).resolve()." + (f"parents[{up}]" if up else "parent")
    rest = "/".join(parts[up:])
    return f"{here} / {str_literal(rest)}" if rest and rest != "." else here

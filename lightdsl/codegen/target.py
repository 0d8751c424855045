"""What both targets write, in one order: :meth:`Target.write`.

A reader meets the script's own code first: the constants, the model class, ``load_data()``,
the target's parts (the torch target's ``evaluate()`` and ``fit()``, the lightning target's
LightningDataModule), ``main()`` and ``command_line()``. :meth:`Script.text` then puts the
helpers copied from lightdsl's runtime under a banner, and the ``if __name__ == "__main__":``
block last (Python looks the helpers' names up when main() runs, not where it is defined).
"""

from __future__ import annotations

from collections.abc import Callable

from .data import write_data
from .printer import literal
from .script import Plan, Script
from .writer import flat


class Target:
    """Writes one target's script body; subclasses name their parts."""

    imports: frozenset[str] = frozenset({"import torch", "from torch import nn"})

    def __init__(self, script: Script, plan: Plan, model_writer, model_call: str):
        self.s, self.plan, self.w = script, plan, script.w
        self.run = plan.run
        self.model, self.model_call = model_writer, model_call
        self.reads_files = False  # whether load_data() reads files (set by write())

    def write(self) -> list[str]:
        """Write the script's body into the script; returns its module docstring's lines."""
        self.constants()
        self.s.imports |= self.imports
        self.write_model()
        self.w.blank(2)
        self.reads_files = write_data(self.run.data, self.s).reads_files
        for part in self.parts():
            self.w.blank(2)
            part()
        self.write_main_block(self.s.main_block)
        return self.docstring()

    def notes(self) -> list[str]:
        """Settings of the run this target's script does not reproduce (codegen warns)."""
        return []

    def write_compile(self) -> None:
        """``model.compile(...)`` where the run compiles (``compile = true`` or
        ``compile(...)``): torch.compile in place, as lightdsl's trainer does, so that the
        weights keep their names (``torch.compile(model)`` would save them as ``_orig_mod.*``)."""
        run = self.run
        bound, flag = run.compile, run.settings.values.get("compile")
        if bound is None and flag is not True:
            return
        values = bound.values if bound is not None else {}
        args = []
        if values.get("mode", "default") != "default":
            args.append(f"mode={flat(literal(values['mode']))}")
        if values.get("dynamic") is not None:
            args.append(f"dynamic={values['dynamic']!r}")
        span = bound.span if bound is not None else run.settings.nodes["compile"].span
        self.w.ref(span, "compile: torch.compile in place, the weights keep their names")
        self.w.line(f"model.compile({', '.join(args)})")

    def intro(self, how: str) -> list[str]:
        """The docstring's first lines: what the script trains, from where, and ``how``."""
        run = self.run
        return [f"{run.model.name} on {run.data.name}, from {self.s.file} (run {run.name}).", "",
                how]

    # ---- what each target writes ----
    def constants(self) -> None:
        raise NotImplementedError

    def write_model(self) -> None:
        self.model.write()

    def parts(self) -> list[Callable[[], None]]:
        """The functions and classes after load_data(), in order, main() among them."""
        raise NotImplementedError

    def write_main_block(self, w) -> None:
        """The ``if __name__ == "__main__":`` block, into ``w`` (written after the helpers)."""
        raise NotImplementedError

    def docstring(self) -> list[str]:
        raise NotImplementedError

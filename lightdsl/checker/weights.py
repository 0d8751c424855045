"""Whether a warm start's file fits, at check time: ``init = weights(...)`` of a train block
against the whole model, ``part = ... init weights(...)`` against that part, by the names,
shapes and dtypes the model's ``state_dict`` will have (:mod:`.tensors`) and those the file
holds (:func:`lightdsl.weightfiles.inspect_weights`, without torch).

The comparison is :func:`lightdsl.weightfiles.fit`, the one :func:`load_weights` makes at train
time, so both say the same: what stops the load (with ``strict``: any missing, unexpected or
reshaped tensor) is an error at the file's path, the rest a warning; a ``map`` rule that matches
nothing is an error at the map. Tensors of ``python(...)`` layers are unknown here: the file's
names under such a layer are left for train time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..frontend.diagnostics import Reporter
from .finetune import WeightsInit
from .tensors import ModelTensors, model_tensors, part_tensors

if TYPE_CHECKING:  # models imports this module
    from .models import ModelInfo


def check_part_weights(info: ModelInfo, reporter: Reporter) -> None:
    """Each ``init weights(...)`` after a layer of ``info``, against that part's tensors."""
    for path, part in info.options.items():
        if part.init is not None:
            check_weights_fit(part.init, part_tensors(info, path), f"{info.name}.{path}",
                              reporter)


def check_model_weights(init: WeightsInit | None, info: ModelInfo | None,
                        reporter: Reporter) -> None:
    """A train block's ``init = weights(...)`` against the whole model's tensors."""
    if init is not None and info is not None:
        check_weights_fit(init, model_tensors(info), f"model {info.name}", reporter)


def check_weights_fit(init: WeightsInit, tensors: ModelTensors, what: str,
                      reporter: Reporter) -> None:
    """Compare the file check could read (``init.found`` ok) with ``tensors``; a file check
    could not look into (legacy, too big) is left to train time."""
    found = init.found
    if found is None or not found.ok:
        return
    from ..weightfiles.fit import fit, listed  # only a spec with init = weights(...) needs it

    fitted = fit(tensors.expected, found.tensors, init.key_map, tensors.unknown)
    failures = fitted.failures(init.strict)
    rest = [p for p in fitted.problems if p not in failures]
    bound = init.bound
    source = f'"{bound.values["path"]}" ({found.kind})'  # as written: the caret shows where
    for problem in [p for p in failures if p.kind == "map"]:  # at the rule that matches nothing
        message = problem.message.replace("key_map ", "map ", 1)  # as the spec writes it
        reporter.error("weights", bound.span_of("map"), f"init weights for {what}: {message}")
    failures = [p for p in failures if p.kind != "map"]
    if failures:
        reporter.error("weights", bound.span_of("path"), f"init weights for {what}: {source} "
                       f"does not fit: {listed(failures)}", hint=_hint(fitted, init.strict))
    if rest:
        count = len(fitted.pairs)
        loaded = "" if failures else \
            f"train loads the {count} tensor{'s' if count != 1 else ''} that fit{'s' * (count == 1)}"
        reporter.warning("weights", bound.span_of("path"), f"init weights for {what}: {source}: "
                         f"{listed(rest)}" + (f"; {loaded}" if loaded else ""),
                         hint=_hint(fitted, init.strict) if not failures else None)


def _hint(fitted, strict: bool) -> str | None:
    """:meth:`Fit.advice`, its key_map written as the spec writes it: ``map = [[from, to]]``."""
    if fitted.suggested is not None:
        head, swap = fitted.suggested
        return f'the names differ by a prefix: map = [["{head}", "{swap}"]]'
    return fitted.advice(strict)


"""Check stage: AST -> diagnostics and a resolved :class:`Program` (no torch here).

Names, duplicates, arity, keywords, types and ranges of every vocabulary entry, undefined and
unused names, trainability, static shapes from the data through the model into the loss.
All problems are collected in the reporter; nothing is raised.
"""

from __future__ import annotations

import os

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..frontend.records import Struct
from .compose import ModelTable
from .data import DataInfo, check_data
from .flow import FlowChecker
from .models import ModelInfo, check_model, check_trainable, hyper_defaults
from .train import Run, TrainChecker


class Program(Struct):
    """A checked spec: its runs (train blocks) by name, and every model and data block."""

    def __init__(self, spec: n.Spec, runs: dict[str, Run] | None = None,
                 models: dict[str, ModelInfo] | None = None,
                 data: dict[str, DataInfo] | None = None):
        self.spec = spec
        self.runs = {} if runs is None else runs
        self.models = {} if models is None else models
        self.data = {} if data is None else data


def check(spec: n.Spec, reporter: Reporter) -> Program:
    """Run every check over a parsed spec; problems go to ``reporter``."""
    spec_dir = os.path.dirname(os.path.abspath(reporter.source.path))
    program = Program(spec)
    models = _unique(spec.models, "model", reporter)
    table = ModelTable(models, reporter, _check_model_alone)
    for model in spec.models:  # duplicates too: their mistakes are reported as well
        if models[model.name.id] is model:
            program.models[model.name.id] = table.default(model.name.id)
        else:
            _check_model_alone(model, reporter, table)
    data = _unique(spec.data, "data", reporter)
    for block in spec.data:
        info = check_data(block, reporter, spec_dir)
        if data[block.name.id] is block:
            program.data[block.name.id] = info
    trains = TrainChecker(program.models, program.data, reporter)
    unique_trains = _unique_trains(spec.trains, reporter)
    for train in spec.trains:
        run = trains.check(train)
        if train in unique_trains:
            program.runs[train.run_name] = run
    _warn_unused(spec, trains, table.reachable(trains.used_models), reporter)
    return program


def _check_model_alone(model: n.ModelDef, reporter: Reporter, table: ModelTable) -> ModelInfo:
    """A model with its default hyperparameters; trainability only if nothing else is wrong."""
    errors_before = reporter.error_count
    info = check_model(model, hyper_defaults(model, reporter), reporter, table)
    flow = FlowChecker(info, reporter)
    flow.run_inputs(None)  # names in forward, even if no run uses it
    flow.store()
    if reporter.error_count == errors_before:
        check_trainable(info, reporter)
    return info


def _unique(definitions, kind: str, reporter: Reporter) -> dict:
    found: dict = {}
    for definition in definitions:
        name = definition.name
        if name.id in found:
            first = found[name.id].name.span.line
            reporter.error("duplicate", name.span, f'{kind} "{name.id}" is already defined at '
                           f"line {first}")
        else:
            found[name.id] = definition
    return found


def _unique_trains(trains: list[n.TrainDef], reporter: Reporter) -> list[n.TrainDef]:
    seen: dict[str, n.TrainDef] = {}
    for train in trains:
        if train.run_name in seen:
            where = train.name.span if train.name else train.keyword_span
            what = f'train "{train.run_name}"' if train.name else "an unnamed train block"
            reporter.error("duplicate", where, f"there is already {what} at line "
                           f"{seen[train.run_name].span.line}",
                           hint="name the runs: train fast { ... }  train full { ... }")
        else:
            seen[train.run_name] = train
    return list(seen.values())


def _warn_unused(spec: n.Spec, trains: TrainChecker, used_models: set[str],
                 reporter: Reporter) -> None:
    if not spec.trains:
        return
    for model in spec.models if not trains.unresolved_models else []:
        if model.name.id not in used_models:
            reporter.warning("unused", model.name.span, f'model "{model.name.id}" is not used '
                             "by any train block")
    for data in spec.data if not trains.unresolved_data else []:
        if data.name.id not in trains.used_data:
            reporter.warning("unused", data.name.span, f'data "{data.name.id}" is not used by '
                             "any train block")

"""Whether a file's tensors fit a model's, by name and shape: one rule for check and train.

A file's names reach the model's in three steps, each reported:

1. ``_orig_mod.`` (what ``torch.compile``'s wrapper puts in a state dict) is dropped, unless the
   model's own names hold it;
2. ``key_map`` renames prefixes, file name -> model name (``{"encoder.": "backbone."}``; ``""``
   matches every name, so ``{"": "backbone."}`` puts a whole file under ``backbone``); a rule
   may match a name as the file has it or without ``_orig_mod.``; the longest prefix wins;
3. a name no rule renamed and the model does not have loses its first segments (Lightning's
   ``model.``, DDP's ``module.``: at most :data:`MAX_STRIPPED`) where that makes a name the
   model has, of the same shape, that no other file name gives; the prefix that does so for the most names goes
   first, then the next (up to :data:`MAX_STRIPPED` prefixes).

Then each model name is given by the file (``pairs``), missing from it, or of another shape; a
file name that lands on no model name is unexpected, unless it lands under one of the
``unknown_prefixes``: parts of the model whose tensors the caller cannot know (check, for a
``python(...)`` layer), which are neither compared nor reported (``unchecked``). Dtypes are not problems (loading casts),
but a change of kind (integers into floats) is noted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..suggest import did_you_mean

COMPILED = "_orig_mod."
MAX_STRIPPED = 3  # segments of one prefix, and prefixes, dropped at most
ALWAYS = ("map", "duplicate", "nothing")  # errors whether or not loading is strict
STRICT = ("missing", "unexpected", "shape")  # errors when strict, else reported
SHOWN = 8  # problems named in one message


class FitProblem(NamedTuple):
    """One way a file does not fit a model: ``kind`` (``missing``, ``unexpected``, ``shape``,
    ``map``, ``duplicate``, ``nothing``; ``dtype`` is a note), the tensor and a sentence."""

    kind: str
    name: str
    message: str

    def fails(self, strict: bool) -> bool:
        """Whether this stops a load (``strict``: any but a dtype note)."""
        return self.kind in ALWAYS or (strict and self.kind in STRICT)


@dataclass
class Fit:
    """How a file's tensors land on a model's (see the module's docstring)."""

    pairs: dict[str, str] = field(default_factory=dict)  # file name -> model name, they load
    missing: list[str] = field(default_factory=list)  # model names the file does not give
    unexpected: list[str] = field(default_factory=list)  # file names of no model tensor
    mismatched: list[str] = field(default_factory=list)  # file names of another shape
    stripped: dict[str, int] = field(default_factory=dict)  # segment dropped -> how many names
    unchecked: list[str] = field(default_factory=list)  # file names under an unknown prefix
    problems: list[FitProblem] = field(default_factory=list)
    hint: str | None = None  # a key_map that would fit, when the names suggest one
    suggested: tuple[str, str] | None = None  # that key_map's one rule: (file's, model's)

    def failures(self, strict: bool) -> list[FitProblem]:
        return [p for p in self.problems if p.fails(strict)]

    def advice(self, strict: bool) -> str | None:
        """The hint for a load that fails (check and train give the same): the ``key_map``
        that would fit, else what to change."""
        failures = self.failures(strict)
        if self.hint:
            return self.hint
        if strict and failures and all(p.kind in STRICT for p in failures):
            return "strict = false loads the tensors that fit and reports the others"
        if any(p.kind == "nothing" for p in failures):
            return "was the file written for another model? key_map renames the file's names"
        return None


def check_fit(expected: Mapping[str, tuple], found: Mapping[str, tuple],
              key_map: Mapping[str, str] | None = None,
              unknown_prefixes: Iterable[str] = ()) -> list[FitProblem]:
    """What keeps the tensors ``found`` in a file ({name: (shape, dtype)}) from fitting the
    model's ``expected`` ones: every problem, dtype notes included (see :meth:`FitProblem.fails`
    for which stop a load). A shape or dtype of None is not compared; a file name that lands
    under one of ``unknown_prefixes`` (``"head."``: model tensors the caller cannot know) is
    not compared and not unexpected."""
    return fit(expected, found, key_map, unknown_prefixes).problems


def fit(expected: Mapping[str, tuple], found: Mapping[str, tuple],
        key_map: Mapping[str, str] | None = None, unknown_prefixes: Iterable[str] = ()) -> Fit:
    """The whole matching of ``found`` onto ``expected`` (what :func:`check_fit` reports)."""
    result = Fit()
    unknown = tuple(unknown_prefixes)
    keep_compiled = any(COMPILED in name for name in expected)
    plain = {f: f if keep_compiled else f.replace(COMPILED, "") for f in found}
    targets, used = _mapped(plain, dict(key_map or {}))
    _strip_wrappers(plain, targets, _Known(expected, unknown), found, result)
    result.unchecked = [f for f, target in targets.items() if target.startswith(unknown)
                        and target not in expected] if unknown else []
    _compare(expected, found, {f: t for f, t in targets.items() if f not in result.unchecked},
             result)
    for prefix in dict(key_map or {}):
        if prefix not in used:
            result.problems.append(FitProblem("map", prefix, _unused_rule(prefix, plain)))
    if expected and found and not result.pairs and not result.unchecked:
        result.problems.append(FitProblem("nothing", "", "no tensor of the file fits the "
                                          "model (none has a name and shape the model has)"))
    result.suggested = _map_hint({m: expected[m][0] for m in result.missing},
                                 {targets[f]: found[f][0] for f in result.unexpected})
    if result.suggested is not None:
        head, swap = result.suggested
        result.hint = f'the names differ by a prefix: key_map = {{"{head}": "{swap}"}}'
    return result


def listed(problems: list[FitProblem]) -> str:
    """The problems in one sentence: the first :data:`SHOWN`, then how many more."""
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return "; ".join(p.message for p in problems[:SHOWN]) + more


def _mapped(plain: dict[str, str], key_map: dict[str, str]):
    """File name -> model name for the names a ``key_map`` rule renames; the rules used."""
    rules = sorted(key_map, key=len, reverse=True)
    targets, used = {}, set()
    for name, bare in plain.items():
        for prefix in rules:
            form = name if name.startswith(prefix) else bare if bare.startswith(prefix) else None
            if form is not None:
                targets[name] = key_map[prefix] + form[len(prefix):]
                used.add(prefix)
                break
    return targets, used


def _strip_wrappers(plain: dict[str, str], targets: dict[str, str], expected, found,
                    result: Fit):
    """Drop leading segments (Lightning's ``model.``) where that makes model names of the same
    shape that no other file name gives: the prefix that does so for the most names first."""
    free = {f: plain[f] for f in plain if f not in targets}
    for _ in range(MAX_STRIPPED):
        taken = {*targets.values(), *(bare for bare in free.values() if bare in expected)}
        found = {f: prefix for f, bare in free.items() if bare not in expected
                 and (prefix := _wrapper(bare, found[f][0], expected, taken)) is not None}
        if not found:
            break
        counts = Counter(found.values())
        best = min(counts, key=lambda s: (-counts[s], s))
        result.stripped[best] = counts[best]
        free.update({f: free[f][len(best):] for f, prefix in found.items() if prefix == best})
    targets.update(free)


def _wrapper(name: str, shape, expected, taken: set[str]) -> str | None:
    """The fewest leading segments of ``name`` (at most :data:`MAX_STRIPPED`) whose removal
    leaves a model name of ``shape`` that no other file name gives (or a name under an
    unknown prefix, whose shape is not known)."""
    for prefix in _prefixes(name)[:MAX_STRIPPED]:
        tail = name[len(prefix):]
        if tail in expected and tail not in taken and _same(shape, expected[tail][0]):
            return prefix
    return None


class _Known(dict):
    """The model's names for stripping: ``expected``, and any name under an unknown prefix
    (shape None: not compared), as if the model had it."""

    def __init__(self, expected: Mapping[str, tuple], unknown: tuple[str, ...]):
        super().__init__(expected)
        self.unknown = unknown

    def __contains__(self, name) -> bool:
        return super().__contains__(name) or bool(self.unknown) and name.startswith(self.unknown)

    def __getitem__(self, name):
        return super().get(name, (None, None))


def _compare(expected, found, targets: dict[str, str], result: Fit) -> None:
    by_target: dict[str, list[str]] = {}
    for name, target in targets.items():
        by_target.setdefault(target, []).append(name)
    for target, names in by_target.items():
        if target in expected and len(names) > 1:
            result.problems.append(FitProblem("duplicate", target, f"{' and '.join(names)} "
                                              f"all become {target}: give one of them"))
    for name, target in targets.items():
        if target not in expected:
            result.unexpected.append(name)
        elif len(by_target[target]) == 1:
            _compare_one(name, target, found[name], expected[target], result)
    given = set(targets.values())
    result.missing = [m for m in expected if m not in given]
    result.problems[:0] = [
        *(FitProblem("missing", m, f"{m} is missing from the file") for m in result.missing),
        *(FitProblem("unexpected", f, f"the file has {_as(f, targets[f])}, the model does not")
          for f in result.unexpected)]


def _compare_one(name: str, target: str, theirs, ours, result: Fit) -> None:
    shape, dtype = theirs[0], theirs[1]
    if shape is not None and ours[0] is not None and tuple(shape) != tuple(ours[0]):
        result.mismatched.append(name)
        result.problems.append(FitProblem("shape", target, f"{_as(name, target)} is "
                                          f"{list(shape)} in the file, {list(ours[0])} here"))
        return
    result.pairs[name] = target
    if dtype and ours[1] and _family(dtype) != _family(ours[1]):
        result.problems.append(FitProblem("dtype", target, f"{_as(name, target)} is {dtype} "
                                          f"in the file, {ours[1]} here: it is converted"))


def _as(name: str, target: str) -> str:
    return name if name == target else f"{name} (as {target})"


def _family(dtype: str) -> str:
    for family in ("complex", "float", "bool"):
        if family in dtype:
            return family
    return "integer"


def _unused_rule(prefix: str, plain: dict[str, str]) -> str:
    heads = {p for name in plain for p in _prefixes(name)}
    return (f"key_map {prefix!r}: no tensor of the file starts with it"
            f"{did_you_mean(prefix, heads)}")


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) + "." for i in range(1, len(parts))]


def _map_hint(missing: dict[str, tuple], unexpected: dict[str, tuple]
              ) -> tuple[str, str] | None:
    """The rule ``("encoder.", "backbone.")`` of a key_map when unexpected names become missing ones of the
    same shape by one prefix swap (one rule for at least half the missing names)."""
    if not missing or not unexpected or len(missing) * len(unexpected) > 10**6:
        return None
    rules: Counter = Counter()
    for name, shape in unexpected.items():
        for head in ["", *_prefixes(name)]:
            tail = name[len(head):]
            swaps = [m[:len(m) - len(tail)] for m, theirs in missing.items()
                     if (m == tail or m.endswith("." + tail)) and _same(shape, theirs)]
            if swaps:
                rules.update((head, swap) for swap in swaps)
                break
    if not rules:
        return None
    (head, swap), count = rules.most_common(1)[0]
    if count * 2 < len(missing):
        return None
    return head, swap


def _same(shape, other) -> bool:
    return shape is None or other is None or tuple(shape) == tuple(other)

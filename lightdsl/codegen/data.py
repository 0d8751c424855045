"""``load_data()`` of a generated script: the data block's source, splits and transforms in plain
torch/numpy, in the order lightdsl applies them (statistics fitted on the training split)."""

from __future__ import annotations

from ..checker.binding import Bound
from ..checker.data import DataInfo
from .overrides import override
from .printer import as_floats, literal, str_literal, vocab_call
from .writer import CodeWriter, Doc, Group, concat


def write_data(info: DataInfo, script) -> DataWriter:
    """Write ``load_data()`` into ``script``; one that reads files takes ``data_root``, the
    folder their relative paths start from (default ``SPEC_DIR``, the spec's folder, where
    lightdsl resolves them from)."""
    data = DataWriter(info, script.w, script.use)
    if data.reads_files:
        script.spec_dir()
    data.write()
    return data


def _file_paths(bound: Bound | None) -> list[str]:
    """The paths a data source reads (its path arguments that are strings)."""
    if bound is None or bound.entry.kind == "split":
        return []
    return [bound.values[k] for k in bound.entry.paths if isinstance(bound.values.get(k), str)]


class DataWriter:
    """Writes ``load_data()`` returning ``(train_x, train_y), val`` (val None if absent)."""

    def __init__(self, info: DataInfo, writer: CodeWriter, use):
        self.info, self.w, self.use = info, writer, use  # use(name): carry a helper
        self.reads_files = any(_file_paths(b) for b in (info.source, info.val, info.test))

    def write(self) -> None:
        w, info = self.w, self.info
        w.ref(info.node.span, f"data {info.name}")
        w.line("def load_data(data_root=SPEC_DIR):" if self.reads_files else "def load_data():")
        with w.indent():
            w.docstring(f"The data {info.name}: (inputs, labels) to train on, and to validate on "
                        "(or None).")
            self._train()
            sets = ["train"]
            for key in ("val", "test"):
                bound = getattr(info, key)
                if bound is not None:
                    self._other(key, bound)
                    sets.append(key)
            for bound in info.transforms:
                self._transform(bound, sets)
            if not any(b.entry.converts for b in info.transforms) and info.source \
                    and info.input_dtype != "int":  # index inputs (text) stay integers
                self.use("to_float")
                for name in sets:
                    w.line(f"{name}_x = to_float({name}_x)  # uint8 images to floats in [0, 1]")
            val = "(val_x, val_y)" if "val" in sets else "None"
            w.line(f"return (train_x, train_y), {val}")

    def _train(self) -> None:
        info, w = self.info, self.w
        if info.source is None:
            inputs, labels = info.settings.values["inputs"], info.settings.values["labels"]
            w.ref(info.settings.span_of("inputs"), "inline inputs")
            w.statement(_tensor(as_floats(inputs)), prefix="train_x = ")
            w.ref(info.settings.span_of("labels"), "inline labels")
            w.statement(_labels(labels), prefix="train_y = ")
            return
        w.ref(info.source.span, f"source = {info.source.name}(...)")
        w.statement(self._load(info.source), prefix="train_x, train_y = ")

    def _other(self, key: str, bound: Bound) -> None:
        w = self.w
        w.ref(bound.span, f"{key} = {bound.name}(...)")
        if bound.entry.kind == "split":
            self.use("split")
            call = vocab_call(bound, leading=("(train_x, train_y)",))
            w.statement(call, prefix=f"(train_x, train_y), ({key}_x, {key}_y) = ")
        else:
            w.statement(self._load(bound), prefix=f"{key}_x, {key}_y = ")

    def _load(self, bound: Bound) -> Doc:
        self.use(bound.entry.target.rsplit(".", 1)[1])
        paths = bound.entry.paths

        def value(name: str) -> Doc:
            text = bound.values[name]
            if name in paths and isinstance(text, str):
                if text.startswith("~"):
                    return f"Path({str_literal(text)}).expanduser()"
                return f"data_root / {str_literal(text)}"  # an absolute path stays absolute
            return literal(text, tuples=True)

        return vocab_call(bound, value)

    def _transform(self, bound: Bound, sets: list[str]) -> None:
        w, name = self.w, bound.name
        w.ref(bound.span, f"{name}(...)")
        if bound.entry.augment:
            w.comment("applied to each training batch in the training loop")
            return
        self.use(name)
        write = override(bound)  # the table's writer, or the plain call on each set's inputs
        if write is not None:
            write(self, bound, sets)
            return
        for s in sets:
            w.line(f"{s}_x = {name}({s}_x)")

    def statistics(self, name: str, values: dict) -> list[str]:
        """``mean=..., std=...`` arguments of normalize/standardize; ``auto`` ones are fitted
        on the training split first (a ``<name>_stats(train_x)`` line)."""
        shown = {"mean": values.get("mean"), "std": values.get("std")}
        auto = {k for k, v in shown.items() if v is None or v == "auto"}
        if auto:
            self.use(f"{name}_stats")
            targets = ", ".join(k if k in auto else "_" for k in shown)
            self.w.line(f"{targets} = {name}_stats(train_x)  # fitted on the training split")
        return [f"{k}={k if k in auto else _text(literal(v))}" for k, v in shown.items()]


def _text(doc: Doc) -> str:
    from .writer import flat

    return flat(doc)


def _tensor(values, dtype: str = "") -> Doc:
    items = (literal(values),) + ((f"dtype={dtype}",) if dtype else ())
    return concat("torch.tensor", Group("(", items, ")"))


def _leaves(value):
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def inline_classes(info: DataInfo) -> list[str] | None:
    """The class names of inline string labels (label i is the i-th in sorted order, as
    lightdsl reads them), or None: other data's names are known only once it is loaded."""
    labels = info.settings.values.get("labels") if info.source is None else None
    leaves = list(_leaves(labels)) if labels is not None else []
    return sorted(set(leaves)) if leaves and all(isinstance(v, str) for v in leaves) else None


def _labels(labels) -> Doc:
    """Inline labels as lightdsl reads them: strings -> sorted class indices, any float ->
    float32 targets, else int64 classes."""
    leaves = list(_leaves(labels))
    if leaves and all(isinstance(v, str) for v in leaves):
        classes = sorted(set(leaves))
        return _tensor([classes.index(v) for v in labels])
    if any(isinstance(v, float) for v in leaves):
        return _tensor(as_floats(labels))
    return _tensor(_ints(labels))


def _ints(value):
    return [_ints(v) for v in value] if isinstance(value, list) else int(value)

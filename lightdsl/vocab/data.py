"""Data sources, splits, transforms and the settings of a ``data`` block.

A source's ``Entry.sample(args)`` tells the checker, without torch and without reading the
data, the per-sample input shape and what the labels are (see :class:`Labels`); ``None`` where
that is only known after loading.
"""

from __future__ import annotations

import ast
import csv
import io
import os
import struct
import zlib

from ..frontend.files import READ_LIMIT, BoundedFile, read_head
from ..suggest import did_you_mean
from .registry import Arg, entry
from .shapes import Labels, ShapeError
from .types import Bool, Choice, Float, Int, ListOf, Nested, OneOf, Str, VocabRef, optional, show

LOADERS = "lightdsl.data.sources"
MAX_SIZE = 2**31 - 1  # as for layer sizes: a typo like 10**20 is a located error

NPY_HEADER_LIMIT = 10000  # numpy.load's max_header_size: the loader refuses longer headers


def image_source(channels: int, size: int, classes: int):
    def sample(args):
        return (channels, size, size), Labels("class", (None,), classes)
    return sample


def unknown_sample(args):
    return None, Labels()


def csv_sample(args):
    """Feature count and label kind from the header and first row, if the file is there."""
    features, label = args.get("features"), args.get("label")
    head = _csv_head(args["path"], args.get("delimiter", ","))
    if head is None or not args.get("header", True):
        return ((len(features),) if features else None), Labels()
    names, first = head
    for column, arg in [(label, "label"), *[(f, "features") for f in features or []]]:
        if column is not None and column not in names:
            raise ShapeError(f'{args["path"]} has no column "{column}"'
                             + did_you_mean(column, names) + f" (columns: {', '.join(names)})",
                             arg)
    width = len(features) if features else len(names) - (1 if label else 0)
    labels = Labels()
    if label is not None and first is not None and len(first) == len(names):
        labels = Labels(_cell_kind(first[names.index(label)]), (None,))
    return (width,), labels


CSV_HEAD_LIMIT = 2**20  # bytes read for a CSV's header and first row


def _csv_head(path: str, delimiter: str):
    if len(delimiter) != 1:
        return None  # reported by _one_char_delimiter; csv.reader would raise TypeError
    try:
        head = read_head(path, CSV_HEAD_LIMIT + 1)
    except OSError:
        return None
    if len(head) > CSV_HEAD_LIMIT:  # the last line may be cut: keep whole lines only
        head = head[:head.rfind(b"\n") + 1]
    try:
        reader = csv.reader(io.StringIO(head.decode("utf-8", errors="replace"), newline=""),
                            delimiter=delimiter)
        names = [n.strip() for n in next(reader, [])]
        first = next(reader, None)
    except csv.Error:
        return None
    return (names, first) if names else None


def _cell_kind(cell: str) -> str:
    try:
        float(cell)
    except ValueError:
        return "class"  # class names
    return "class" if cell.strip().lstrip("-").isdigit() else "float"


def npz_sample(args):
    """The input shape and the labels' shape from the ``.npy`` headers inside the archive (no
    array is read), if the file is there. Integer, boolean or string labels are classes; float
    labels stay unknown (targets, or class probabilities shaped like the output)."""
    x, y = (_npy_header(args["path"], args[key]) for key in ("inputs", "labels"))
    for key, header in (("inputs", x), ("labels", y)):
        if header is not None and header[1] == ():
            raise ShapeError(f'{args["path"]}: array {args[key]!r} is a scalar (shape ()); '
                             f"{key} need one row per sample", "path")
    shape = tuple(x[1][1:]) if x is not None and x[1] else None
    if y is None or not y[1] or y[0] not in "biuUS":
        return shape, Labels()
    return shape, Labels("class", (None, *y[1][1:]))


def _npy_header(path: str, key: str) -> tuple[str, tuple[int, ...]] | None:
    """(dtype kind, shape) of array ``key`` of an .npz archive, read from its .npy header;
    None if the file, the key or a plain array's header is not there (the loader says why)."""
    import zipfile  # here: `check` of specs without .npz data does not pay for it

    try:
        with BoundedFile(path) as raw, zipfile.ZipFile(raw) as archive, \
                archive.open(f"{key}.npy") as handle:
            if handle.read(6) != b"\x93NUMPY":
                return None
            major = handle.read(2)[0]
            size = struct.unpack("<H" if major == 1 else "<I", handle.read(2 if major == 1 else 4))
            if size[0] > NPY_HEADER_LIMIT:
                raise ShapeError(f"{path}: the .npy header of array {key!r} is {size[0]:,} "
                                 f"bytes; NumPy reads headers of at most {NPY_HEADER_LIMIT:,}",
                                 "path")
            header = ast.literal_eval(handle.read(size[0]).decode("latin1"))
        descr, shape = header["descr"], tuple(header["shape"])
    except (OSError, KeyError, ValueError, SyntaxError, TypeError, IndexError, struct.error,
            zipfile.BadZipFile, MemoryError, RecursionError):
        return None
    if not isinstance(descr, str) or len(descr) < 2 or not all(isinstance(d, int) for d in shape):
        return None
    return descr[1], shape


def idx_sample(args):
    """The image shape from the IDX header (16 bytes, gzipped or not), if the file is there."""
    dims = _idx_dims(args["images"])
    return (None if dims is None else (1, *dims[1:]) if len(dims) == 3 else tuple(dims[1:])), \
        Labels("class", (None,))


def _idx_dims(path: str):
    try:
        with BoundedFile(path, 2**20) as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            handle = raw
            if gzipped:
                import gzip  # here: `check` without gzipped IDX files does not pay for it

                handle = gzip.GzipFile(fileobj=raw)
            header = handle.read(4)
            if len(header) < 4 or header[:2] != b"\0\0" or not 1 <= header[3] <= 4:
                return None
            return struct.unpack(f">{header[3]}I", handle.read(4 * header[3]))
    except (OSError, struct.error, EOFError, zlib.error):
        return None


TEXT_READ_LIMIT = READ_LIMIT  # bytes the checker reads to count a text file's characters


def text_sample(args):
    """Index sequences of ``seq_len`` and next-character class labels; the number of classes
    (distinct characters) from the file if it is there and small enough to read at once."""
    seq_len = args["seq_len"]
    text = _text_head(args["path"])
    if text is not None and len(text) < seq_len + 1:
        raise ShapeError(f'{args["path"]} has {len(text)} characters; seq_len = {seq_len} '
                         f"needs at least {seq_len + 1}", "seq_len")
    classes = len(set(text)) if text else None
    return (seq_len,), Labels("class", (None, seq_len), classes)


def _text_head(path: str) -> str | None:
    """The file's text if it is there and at most TEXT_READ_LIMIT bytes, else None (a missing
    file is warned about). Not UTF-8: an error, as the loader would refuse it."""
    try:
        data = read_head(path, TEXT_READ_LIMIT + 1)
    except OSError:
        return None
    if len(data) > TEXT_READ_LIMIT:
        return None
    try:  # newlines translated as the loader's text-mode read does
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        raise ShapeError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})",
                         "path") from None


def _one_char_delimiter(args) -> list[tuple[str, str]]:
    """csv reads with exactly one delimiter character, which must not end a line or quote."""
    delimiter = args["delimiter"]
    if len(delimiter) != 1 or delimiter in '\r\n"':
        message = ("delimiter must be one character other than a quote or a line break, got "
                   + show(delimiter))
        return [("delimiter", message)]
    return []

# torchvision's layout of the MNIST family, as lightdsl.data.vision reads it without torchvision
# (kept here torch-free for the checker; tests/check/test_semantic.py compares the two).
MNIST_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}
RAW_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
CIFAR_FOLDER = "cifar-10-batches-py"


def mnist_files(name: str):
    """``files(args)``: the raw folder of a split and the IDX files missing there."""
    def files(args):
        raw = os.path.join(args["root"], MNIST_FOLDERS[name], "raw")
        missing = [base for base in RAW_FILES[args["split"]]
                   if not any(os.path.isfile(os.path.join(raw, base + ext)) for ext in ("", ".gz"))]
        return raw, missing
    return files


def cifar_files(args):
    folder = os.path.join(args["root"], CIFAR_FOLDER)
    return folder, [] if os.path.isdir(folder) else [CIFAR_FOLDER]


ROOT = Arg("root", Str(), "data", "folder holding the data set (torchvision's layout)")
SPLIT = Arg("split", Choice("train", "test"), "train")
DOWNLOAD = Arg("download", Bool(), False, "download with torchvision if missing")

for _name, _channels, _size, _doc in [("mnist", 1, 28, "MNIST handwritten digits"),
                                      ("fashion_mnist", 1, 28, "Fashion-MNIST clothing images"),
                                      ("kmnist", 1, 28, "Kuzushiji-MNIST characters"),
                                      ("cifar10", 3, 32, "CIFAR-10 colour images")]:
    entry("source", _name, ROOT, SPLIT, DOWNLOAD, target=f"{LOADERS}.load_{_name}", doc=_doc,
          sample=image_source(_channels, _size, 10), paths=("root",),
          files=cifar_files if _name == "cifar10" else mnist_files(_name),
          needs_torchvision=_name == "cifar10", input_dtype="float")
entry("source", "digits", target=f"{LOADERS}.load_digits",
      doc="scikit-learn's bundled 8x8 handwritten digits (no download)",
      sample=image_source(1, 8, 10), input_dtype="float",
      needs_package=("sklearn", "scikit-learn"))
entry("source", "csv", Arg("path", Str()), Arg("label", optional(Str()), None, "label column"),
      Arg("features", optional(ListOf(Str())), None, "feature columns (default: all others)"),
      Arg("delimiter", Str(), ","), Arg("header", Bool(), True), target=f"{LOADERS}.load_csv",
      doc="a CSV file with a header row", validate=_one_char_delimiter,
      sample=csv_sample, paths=("path",), input_dtype="float")
entry("source", "text", Arg("path", Str()),
      Arg("seq_len", Int(ge=1, le=MAX_SIZE), 64, "characters per sample"),
      Arg("stride", optional(Int(ge=1, le=MAX_SIZE)), None,
          "characters between sample starts (default: seq_len, no overlap)"),
      target="lightdsl.data.text.load_text",
      doc="a UTF-8 text file as character indices (N, seq_len), labels the next characters",
      sample=text_sample, paths=("path",), input_dtype="int")
entry("source", "npz", Arg("path", Str()), Arg("inputs", Str(), "x"), Arg("labels", Str(), "y"),
      target=f"{LOADERS}.load_npz", doc="arrays in a NumPy .npz file, by key",
      sample=npz_sample, paths=("path",))
entry("source", "npy", Arg("path", Str()), Arg("labels_path", optional(Str()), None),
      target=f"{LOADERS}.load_npy", doc="a NumPy .npy array (and optionally its labels)",
      sample=unknown_sample, paths=("path", "labels_path"))
entry("source", "pt", Arg("path", Str()), Arg("inputs", Str(), "x"), Arg("labels", Str(), "y"),
      target=f"{LOADERS}.load_pt", doc="tensors in a torch .pt file, by key",
      sample=unknown_sample, paths=("path",))
entry("source", "idx", Arg("images", Str()), Arg("labels", Str()), target=f"{LOADERS}.load_idx",
      doc="MNIST-format IDX files, gzipped or not",
      sample=idx_sample, paths=("images", "labels"))
SEED = Int(ge=0, le=2**32 - 1)  # NumPy's and Lightning's seed range
entry("split", "split", Arg("fraction", Float(gt=0, lt=1)), Arg("seed", SEED, 0),
      Arg("stratify", Bool(), True), target="lightdsl.data.split.split",
      doc="carve validation data out of the training source (stratified for classes)")

MEAN_STD = OneOf(Float(), ListOf(Float()), Choice("auto"))
entry("transform", "normalize", Arg("mean", MEAN_STD, "auto"), Arg("std", optional(MEAN_STD), None),
      target="lightdsl.data.transforms.normalize", fit="lightdsl.data.transforms.fit_normalize",
      converts=True, doc="(x - mean) / std; `auto` computes them on the training split")
entry("transform", "standardize", target="lightdsl.data.transforms.standardize",
      fit="lightdsl.data.transforms.fit_standardize", converts=True,
      doc="per-feature (x - mean) / std from the training split")
entry("transform", "flatten", target="lightdsl.data.transforms.flatten",
      doc="each sample to one dimension", reshape="flatten")
entry("transform", "to_float", target="lightdsl.data.transforms.to_float", converts=True,
      doc="uint8 images to floats in [0, 1]")
entry("transform", "one_hot", Arg("num_classes", optional(Int(ge=2, le=MAX_SIZE)), None),
      target="lightdsl.data.transforms.one_hot", fit="lightdsl.data.transforms.fit_one_hot",
      doc="class labels to one-hot float vectors", labels="one_hot")
CROP = Int(ge=1, le=MAX_SIZE)
entry("transform", "random_crop", Arg("size", OneOf(CROP, ListOf(CROP, length=2))),
      Arg("padding", Int(ge=0, le=MAX_SIZE), 0), target="lightdsl.data.transforms.random_crop",
      doc="random crops per batch on the device (training only)", augment=True)
entry("transform", "random_flip", Arg("p", Float(ge=0, le=1), 0.5),
      target="lightdsl.data.transforms.random_flip",
      doc="random horizontal flips per batch on the device (training only)", augment=True)

SOURCE = VocabRef("source")
entry("settings", "data",
      Arg("inputs", Nested(), None, "inline inputs: a list (of lists) of numbers"),
      Arg("labels", Nested(), None, "inline labels, one per input"),
      Arg("source", SOURCE, None, "where the training data comes from"),
      Arg("val", optional(SOURCE), None, "validation data: another source or split(fraction)"),
      Arg("test", optional(SOURCE), None, "test data: another source or split(fraction)"),
      Arg("batch_size", OneOf(Int(ge=1, le=MAX_SIZE), Choice("auto")), 32),
      Arg("shuffle", Bool(), True, "shuffle the training data every epoch"),
      Arg("val_shuffle", Bool(), False, "shuffle validation data (rarely what you want)"),
      Arg("drop_last", Bool(), False), Arg("num_workers", Int(ge=0), 0),
      Arg("pin_memory", Bool(), False),
      Arg("num_classes", optional(Int(ge=2, le=MAX_SIZE)), None),
      doc="settings of a data block")

"""Layers: the words usable in ``layers { ... }`` and as named layers (``l1 = linear(784, 500)``)."""

from __future__ import annotations

import math

from . import layer_rules as rules
from . import tensors as own
from .registry import Arg, entry
from .shapes import ShapeError, conv_length, fmt, numel, pair, require_rank
from .types import Bool, Choice, Float, Int, ListOf, OneOf, optional

# Sizes are bounded so that a typo such as `linear(2, 10**200)` is a located error, not an
# overflow in torch: no dimension of a layer can usefully exceed 2**31 - 1 elements.
MAX_SIZE = 2**31 - 1
COUNT = Int(ge=1, le=MAX_SIZE)
SIZE = OneOf(COUNT, ListOf(COUNT, length=2))
PAD = Int(ge=0, le=MAX_SIZE)
PADDING = OneOf(PAD, ListOf(PAD, length=2), Choice("same", "valid"))
POOL_PADDING = OneOf(PAD, ListOf(PAD, length=2))
DIM = Int(ge=-64, le=63)  # torch tensors have at most 64 dimensions


def _last_dim(shape, expected: int, what: str, arg: str):
    if shape is not None and shape[-1] is not None and shape[-1] != expected:
        raise ShapeError(f"{what} expects {expected} input features ({arg}) but {shape[-1]} "
                         f"arrive (input shape {fmt(shape)})", arg)


def linear_shape(inputs, args):
    (shape,) = inputs
    if shape is not None and len(shape) < 2:
        raise ShapeError(f"linear needs a feature dimension, but {fmt(shape)} arrives; "
                         "reshape the input to (N, features) first")
    if shape is not None and len(shape) > 2 and shape[-1] is not None \
            and shape[-1] != args["in_features"]:
        raise ShapeError(f"linear expects {args['in_features']} input features (in_features) "
                         f"but {shape[-1]} arrive (input shape {fmt(shape)}); linear works on "
                         "the last dimension: flatten the input first (flatten())", "in_features")
    _last_dim(shape, args["in_features"], "linear", "in_features")
    return None if shape is None else (*shape[:-1], args["out_features"])


def _channels(shape, expected: int, what: str, arg: str = "in_channels"):
    if shape is not None and shape[1] is not None and shape[1] != expected:
        raise ShapeError(f"{what} expects {expected} channels ({arg}) but {shape[1]} arrive "
                         f"(input shape {fmt(shape)})", arg)


def _spatial(shape, dims: int, args, kernel_key="kernel_size", default_stride=1):
    """Output sizes of the last ``dims`` dimensions for a convolution or pooling."""
    kernel = pair(args[kernel_key]) if dims == 2 else (args[kernel_key],) * 1
    stride = args.get("stride") or (kernel if default_stride is None else default_stride)
    stride = pair(stride) if dims == 2 else (stride if isinstance(stride, int) else stride[0],)
    padding, dilation = args.get("padding", 0), args.get("dilation", 1)
    if padding == "same":
        return shape[-dims:]
    padding = 0 if padding == "valid" else padding
    padding = pair(padding) if dims == 2 else (padding,)
    dilation = pair(dilation) if dims == 2 else (dilation,)
    out = tuple(conv_length(size, k, s, p, d, args.get("ceil_mode", False))
                for size, k, s, p, d in zip(shape[-dims:], kernel, stride, padding, dilation))
    if any(o is not None and o < 1 for o in out):
        raise ShapeError(f"the kernel is larger than the input {fmt(shape)}: the output would "
                         f"be empty", kernel_key)
    return out


def conv_shape(dims: int):
    def rule(inputs, args):
        (shape,) = inputs
        name = f"conv{dims}d"
        require_rank(shape, (dims + 2,), name)
        if shape is None:
            return None
        _channels(shape, args["in_channels"], name)
        return (shape[0], args["out_channels"], *_spatial(shape, dims, args))
    return rule


def pool_shape(name: str):
    def rule(inputs, args):
        (shape,) = inputs
        require_rank(shape, (3, 4), name)
        if shape is None:
            return None
        return (*shape[:-2], *_spatial(shape, 2, args, default_stride=None))
    return rule


def batchnorm_shape(ranks, name):
    def rule(inputs, args):
        (shape,) = inputs
        require_rank(shape, ranks, name)
        if shape is not None:
            _channels(shape, args["num_features"], name, "num_features")
        return shape
    return rule


def layernorm_shape(inputs, args):
    (shape,) = inputs
    normalized = args["normalized_shape"]
    normalized = [normalized] if isinstance(normalized, int) else normalized
    if shape is not None:
        tail = list(shape[-len(normalized):]) if len(shape) > len(normalized) else None
        if tail is None or any(t is not None and t != n for t, n in zip(tail, normalized)):
            raise ShapeError(f"layernorm normalizes the last dimensions {normalized} but the "
                             f"input is {fmt(shape)}", "normalized_shape")
    return shape


def flatten_shape(inputs, args):
    (shape,) = inputs
    if shape is None:
        return None
    start, end = args["start_dim"], args["end_dim"]
    rank = len(shape)
    start, end = start % rank if -rank <= start < rank else None, \
        end % rank if -rank <= end < rank else None
    if start is None or end is None or start > end:
        raise ShapeError(f"flatten(start_dim={args['start_dim']}, end_dim={args['end_dim']}) "
                         f"does not fit input {fmt(shape)}", "start_dim")
    if start == end:
        return shape
    return (*shape[:start], numel(shape[start:end + 1]), *shape[end + 1:])


def embedding_shape(inputs, args):
    (shape,) = inputs
    return None if shape is None else (*shape, args["embedding_dim"])


def same_shape(inputs, args):
    return inputs[0]


def dim_in_range(name):
    def rule(inputs, args):
        (shape,) = inputs
        if shape is not None and not -len(shape) <= args["dim"] < len(shape):
            raise ShapeError(f"{name}(dim={args['dim']}) is out of range for input {fmt(shape)}",
                             "dim")
        return shape
    return rule


def conv_rules(args):
    """What torch's Conv constructors reject, said at the argument to change."""
    problems = []
    groups = args["groups"]
    for key in ("in_channels", "out_channels"):
        if args[key] % groups:
            message = f"{key} ({args[key]}) must be divisible by groups ({groups})"
            problems.append((key, message))
    if args["padding"] == "same" and any(s != 1 for s in pair(args["stride"])):
        message = 'padding = "same" needs stride 1 (torch does not support it for strided ' \
            "convolutions)"
        problems.append(("padding", message))
    return problems


def pool_rules(args):
    """torch's pools allow at most half the kernel size (undilated) as padding."""
    for k, p in zip(pair(args["kernel_size"]), pair(args["padding"])):
        if 2 * p > k:
            message = f"padding {p} is more than half the kernel size ({k}); torch rejects it"
            return [("padding", message)]
    return []


def embedding_rules(args):
    index, count = args["padding_idx"], args["num_embeddings"]
    if index is not None and not -count <= index < count:
        message = f"padding_idx {index} is outside the table of {count} embeddings " \
            f"(allowed: {-count}..{count - 1})"
        return [("padding_idx", message)]
    return []


# Parameter counts (torch's, for memory estimates at check time): Entry.params(args).
def linear_params(args):
    return args["in_features"] * args["out_features"] + (args["out_features"] if args["bias"]
                                                         else 0)


def conv_params(dims: int):
    def count(args):
        kernel = pair(args["kernel_size"]) if dims == 2 else (args["kernel_size"],)
        out = args["out_channels"]
        weights = out * (args["in_channels"] // args["groups"]) * math.prod(kernel)
        return weights + (out if args["bias"] else 0)
    return count


def norm_params(size_key: str, flag: str):
    def count(args):
        size = args[size_key]
        size = math.prod(size) if isinstance(size, list) else size
        return 2 * size if args[flag] else 0
    return count


def _layer(name, target, *args, shape=same_shape, doc="", validate=None, inputs=1,
           tensors=None, **facts):
    """A layer entry; ``inputs``: how many tensors a call may pass (1 to ``inputs``; the shape
    rule gets them all); ``facts`` are Entry fields (params=, input_dtype=, python_always=...).
    ``tensors``: the layer's own tensors (:mod:`.tensors`); a layer without a parameter count
    has none unless it says so (a layer with parameters must name them)."""
    if tensors is None and facts.get("params") is None:
        tensors = own.no_tensors
    entry("layer", name, *args, target=target, shape=shape, doc=doc, tensor_inputs=inputs,
          validate=validate, tensors=tensors, **facts)


_layer("linear", "torch.nn.Linear", Arg("in_features", COUNT), Arg("out_features", COUNT),
       Arg("bias", Bool(), True), shape=linear_shape, doc="y = x W^T + b on the last dimension",
       params=linear_params, tensors=own.linear, aliases=("dense", "fc", "fully_connected"))
CONV_ALIASES = {1: ("convolution1d",), 2: ("conv", "convolution2d")}
for _dims, _size, _padding in ((1, COUNT, OneOf(PAD, Choice("same", "valid"))),
                               (2, SIZE, PADDING)):
    _layer(f"conv{_dims}d", f"torch.nn.Conv{_dims}d", Arg("in_channels", COUNT),
           Arg("out_channels", COUNT), Arg("kernel_size", _size), Arg("stride", _size, 1),
           Arg("padding", _padding, 0), Arg("dilation", _size, 1), Arg("groups", COUNT, 1),
           Arg("bias", Bool(), True), shape=conv_shape(_dims), validate=conv_rules,
           doc=f"{_dims}-d convolution over (N, C, ...) input", params=conv_params(_dims), tensors=own.conv(_dims),
           aliases=CONV_ALIASES[_dims])
_layer("maxpool2d", "torch.nn.MaxPool2d", Arg("kernel_size", SIZE), Arg("stride", optional(SIZE), None),
       Arg("padding", POOL_PADDING, 0), Arg("dilation", SIZE, 1),
       Arg("ceil_mode", Bool(), False), shape=pool_shape("maxpool2d"), validate=pool_rules,
       doc="2-d max pooling", aliases=("maxpooling2d", "max_pooling2d"))
_layer("avgpool2d", "torch.nn.AvgPool2d", Arg("kernel_size", SIZE), Arg("stride", optional(SIZE), None),
       Arg("padding", POOL_PADDING, 0),
       Arg("ceil_mode", Bool(), False), shape=pool_shape("avgpool2d"), validate=pool_rules,
       doc="2-d average pooling",
       aliases=("averagepooling2d", "average_pooling2d", "avgpooling2d"))
_NORM_ARGS = (Arg("eps", Float(gt=0), 1e-5), Arg("momentum", optional(Float(ge=0, le=1)), 0.1),
              Arg("affine", Bool(), True))
_layer("batchnorm1d", "torch.nn.BatchNorm1d", Arg("num_features", COUNT), *_NORM_ARGS,
       shape=batchnorm_shape((2, 3), "batchnorm1d"), doc="batch normalization over (N, C[, L])",
       params=norm_params("num_features", "affine"), tensors=own.batchnorm,
       aliases=("batchnorm", "batchnormalization", "batch_normalization"))
_layer("batchnorm2d", "torch.nn.BatchNorm2d", Arg("num_features", COUNT), *_NORM_ARGS,
       shape=batchnorm_shape((4,), "batchnorm2d"), doc="batch normalization over (N, C, H, W)",
       params=norm_params("num_features", "affine"), tensors=own.batchnorm)
_layer("layernorm", "torch.nn.LayerNorm",
       Arg("normalized_shape", OneOf(COUNT, ListOf(COUNT, min_length=1))), Arg("eps", Float(gt=0), 1e-5),
       Arg("elementwise_affine", Bool(), True), shape=layernorm_shape,
       doc="layer normalization over the last dimensions",
       params=norm_params("normalized_shape", "elementwise_affine"),
       tensors=own.layernorm,
       aliases=("layernormalization", "layer_normalization"))
_layer("dropout", "torch.nn.Dropout", Arg("p", Float(ge=0, le=1), 0.5),
       doc="zeroes elements with probability p while training")
_layer("embedding", "torch.nn.Embedding", Arg("num_embeddings", COUNT),
       Arg("embedding_dim", COUNT), Arg("padding_idx", optional(Int(ge=-MAX_SIZE, le=MAX_SIZE)), None),
       shape=embedding_shape, validate=embedding_rules, doc="a lookup table of integer indices",
       input_dtype="int", params=lambda a: a["num_embeddings"] * a["embedding_dim"],
       tensors=own.table("num_embeddings", "embedding_dim"),
       build="lightdsl.runtime.layers.IndexEmbedding")
_layer("flatten", "torch.nn.Flatten", Arg("start_dim", DIM, 1), Arg("end_dim", DIM, -1),
       shape=flatten_shape, doc="flattens dimensions start_dim..end_dim into one")
_layer("relu", "torch.nn.ReLU", doc="max(0, x)")
_layer("gelu", "torch.nn.GELU", Arg("approximate", Choice("none", "tanh"), "none"),
       doc="Gaussian error linear unit")
_layer("tanh", "torch.nn.Tanh", doc="hyperbolic tangent")
_layer("sigmoid", "torch.nn.Sigmoid", doc="1 / (1 + exp(-x))")
# torch's Softmax defaults to an implicit dim, so the code generator always prints dim.
_layer("softmax", "torch.nn.Softmax", Arg("dim", DIM, -1), shape=dim_in_range("softmax"),
       doc="softmax along dim", python_always=("dim",))
_layer("log_softmax", "torch.nn.LogSoftmax", Arg("dim", DIM, -1),
       shape=dim_in_range("log_softmax"), doc="log of softmax along dim",
       python_always=("dim",))
_layer("leaky_relu", "torch.nn.LeakyReLU", Arg("negative_slope", Float(), 0.01),
       doc="max(0, x) + negative_slope * min(0, x)")



# ---- sequences, attention, upsampling (issue 12). Layers torch has no direct class for (a
# tuple output, sequence-first defaults) are classes of lightdsl/runtime/layers.py.
_RUNTIME = "lightdsl.runtime.layers."
for _name, _class, _gates in (("gru", "GRU", 3), ("lstm", "LSTM", 4)):
    _layer(_name, _RUNTIME + _class, Arg("input_size", COUNT), Arg("hidden_size", COUNT),
           Arg("num_layers", COUNT, 1), Arg("bias", Bool(), True),
           Arg("dropout", Float(ge=0, le=1), 0.0), Arg("bidirectional", Bool(), False),
           Arg("output", Choice("sequence", "last"), "sequence"),
           shape=rules.recurrent_shape(_name), params=rules.recurrent_params(_gates),
           tensors=own.recurrent(_gates),
           validate=rules.recurrent_rules,
           doc=f"{_class} over batch-first (N, L, input_size): every step's hidden state "
           '(output = "sequence") or the final one (output = "last")')
_layer("multihead_attention", _RUNTIME + "MultiheadAttention", Arg("embed_dim", COUNT),
       Arg("num_heads", COUNT), Arg("dropout", Float(ge=0, le=1), 0.0), Arg("bias", Bool(), True),
       Arg("kdim", optional(COUNT), None), Arg("vdim", optional(COUNT), None),
       inputs=3, shape=rules.attention_shape, validate=rules.heads_rule("embed_dim", "num_heads"),
       params=rules.attention_params, tensors=own.attention,
       doc="attention over batch-first (N, L, embed_dim): attn(x), attn(q, kv) or attn(q, k, v)",
       aliases=("multiheadattention", "attention"))
_layer("transformer_encoder_layer", _RUNTIME + "TransformerEncoderLayer", Arg("d_model", COUNT),
       Arg("nhead", COUNT), Arg("dim_feedforward", COUNT, 2048),
       Arg("dropout", Float(ge=0, le=1), 0.1), Arg("activation", Choice("relu", "gelu"), "relu"),
       Arg("layer_norm_eps", Float(gt=0), 1e-5), Arg("norm_first", Bool(), False),
       Arg("bias", Bool(), True), shape=rules.transformer_shape,
       validate=rules.heads_rule("d_model", "nhead"), params=rules.transformer_params,
       tensors=own.transformer_encoder_layer,
       doc="self-attention and feed-forward block over batch-first (N, L, d_model)")
_layer("positional_embedding", _RUNTIME + "PositionalEmbedding", Arg("max_length", COUNT),
       Arg("embedding_dim", COUNT), shape=rules.positional_shape,
       params=lambda a: a["max_length"] * a["embedding_dim"],
       tensors=own.table("max_length", "embedding_dim"),
       doc="adds a learned vector per position to (N, L, embedding_dim)")
_layer("adaptive_avgpool1d", "torch.nn.AdaptiveAvgPool1d", Arg("output_size", COUNT),
       shape=rules.adaptive_pool_shape(1), doc="average pooling to a fixed length")
_layer("adaptive_avgpool2d", "torch.nn.AdaptiveAvgPool2d", Arg("output_size", SIZE),
       shape=rules.adaptive_pool_shape(2), doc="average pooling to a fixed (H, W)",
       aliases=("globalaveragepooling2d", "global_average_pooling2d"))
for _dims, _size in ((1, COUNT), (2, SIZE)):
    _pad = PAD if _dims == 1 else POOL_PADDING
    _layer(f"conv_transpose{_dims}d", f"torch.nn.ConvTranspose{_dims}d", Arg("in_channels", COUNT),
           Arg("out_channels", COUNT), Arg("kernel_size", _size), Arg("stride", _size, 1),
           Arg("padding", _pad, 0), Arg("output_padding", _pad, 0), Arg("groups", COUNT, 1),
           Arg("bias", Bool(), True), Arg("dilation", _size, 1),
           shape=rules.conv_transpose_shape(_dims), validate=rules.conv_transpose_rules(_dims),
           params=rules.conv_transpose_params(_dims),
           tensors=own.conv_transpose(_dims),
           doc=f"{_dims}-d transposed convolution (upsampling) over (N, C, ...) input")
_layer("dropout2d", "torch.nn.Dropout2d", Arg("p", Float(ge=0, le=1), 0.5),
       shape=rules.dropout2d_shape, doc="zeroes whole channels of (N, C, H, W) while training")
_layer("groupnorm", "torch.nn.GroupNorm", Arg("num_groups", COUNT), Arg("num_channels", COUNT),
       Arg("eps", Float(gt=0), 1e-5), Arg("affine", Bool(), True), shape=rules.groupnorm_shape,
       validate=rules.groupnorm_rules, params=norm_params("num_channels", "affine"), tensors=own.groupnorm,
       doc="normalization over groups of channels of (N, C, ...)")

"""Shape rules, cross-argument rules and parameter counts of the sequence, attention and
upsampling layers (issue 12): recurrent layers, attention, transformer encoder layer,
positional embedding, adaptive pooling, transposed convolution, group norm, dropout2d.

Like :mod:`lightdsl.vocab.layers`, rules return ``None`` where a size is unknown and name the
argument to change; nothing here imports torch.
"""

from __future__ import annotations

import math

from .shapes import ShapeError, fmt, pair


def _sequence_input(shape, name: str, features: int, arg: str, what: str = "input",
                    index: int | None = None):
    """Check a batch-first (N, L, features) tensor; ``index`` locates it among several."""
    if shape is None:
        return
    if len(shape) != 3:
        raise ShapeError(f"{name} expects a batch-first {what} (N, sequence length, {arg}) with "
                         f"3 dimensions, but {fmt(shape)} arrives", input=index)
    if shape[2] is not None and shape[2] != features:
        raise ShapeError(f"{name} expects {what} features of size {features} ({arg}) but "
                         f"{shape[2]} arrive ({what} shape {fmt(shape)})", arg, input=index)


def recurrent_shape(name: str):
    """gru / lstm: (N, L, input_size) -> (N, L, D*H) for "sequence", (N, D*H) for "last"."""
    def rule(inputs, args):
        (shape,) = inputs
        _sequence_input(shape, name, args["input_size"], "input_size")
        if shape is None:
            return None
        width = args["hidden_size"] * (2 if args["bidirectional"] else 1)
        return (shape[0], shape[1], width) if args["output"] == "sequence" else (shape[0], width)
    return rule


def recurrent_params(gates: int):
    """torch's count: per layer and direction gates*H*(in + H) weights and 2*gates*H biases."""
    def count(args):
        hidden, directions = args["hidden_size"], 2 if args["bidirectional"] else 1
        biases = 2 * gates * hidden if args["bias"] else 0

        def layer(inputs):
            return directions * (gates * hidden * (inputs + hidden) + biases)
        return layer(args["input_size"]) + (args["num_layers"] - 1) * layer(directions * hidden)
    return count


def recurrent_rules(args):
    """torch only warns, and ignores the dropout, when there is no layer after the first."""
    if args["dropout"] and args["num_layers"] == 1:
        message = "dropout applies between stacked layers, so it needs num_layers >= 2 " \
            "(with one layer torch ignores it)"
        return [("dropout", message)]
    return []


def attention_shape(inputs, args):
    """query (N, L, embed_dim), key (N, S, kdim), value (N, S, vdim) -> (N, L, embed_dim);
    one input is self-attention, two are query and key = value."""
    query = inputs[0]
    key = inputs[1] if len(inputs) > 1 else query
    value = inputs[2] if len(inputs) > 2 else key
    embed = args["embed_dim"]
    name = "multihead_attention"
    for index, (what, shape, own) in enumerate((("query", query, "embed_dim"),
                                               ("key", key, "kdim"), ("value", value, "vdim"))):
        arg = own if args.get(own) is not None else "embed_dim"  # kdim = none: embed_dim
        located = min(index, len(inputs) - 1)  # self-attention's key and value are input 0
        _sequence_input(shape, name, args[arg], arg, what, located)
    if key is not None and value is not None and None not in (key[1], value[1]) \
            and key[1] != value[1]:
        raise ShapeError(f"{name}: key and value must have the same sequence length, but the "
                         f"key is {fmt(key)} and the value {fmt(value)}",
                         input=len(inputs) - 1)
    return None if query is None else (query[0], query[1], embed)


def heads_rule(dim_key: str, heads_key: str):
    """torch rejects an embedding size that the heads do not divide."""
    def rule(args):
        if args[dim_key] % args[heads_key]:
            message = f"{dim_key} ({args[dim_key]}) must be divisible by {heads_key} " \
                f"({args[heads_key]}): each head gets {dim_key} / {heads_key} features"
            return [(heads_key, message)]
        return []
    return rule


def attention_params(args):
    embed, bias = args["embed_dim"], args["bias"]
    kdim, vdim = args["kdim"] or embed, args["vdim"] or embed
    projections = embed * (embed + kdim + vdim) + embed * embed
    return projections + (4 * embed if bias else 0)


def transformer_shape(inputs, args):
    (shape,) = inputs
    _sequence_input(shape, "transformer_encoder_layer", args["d_model"], "d_model")
    return shape


def transformer_params(args):
    d, ff, bias = args["d_model"], args["dim_feedforward"], args["bias"]
    weights = 4 * d * d + 2 * d * ff + 2 * d  # attention, feed-forward, two norm scales
    return weights + (7 * d + ff if bias else 0)


def positional_shape(inputs, args):
    (shape,) = inputs
    _sequence_input(shape, "positional_embedding", args["embedding_dim"], "embedding_dim")
    if shape is not None and shape[1] is not None and shape[1] > args["max_length"]:
        raise ShapeError(f"positional_embedding has positions for sequences up to max_length "
                         f"{args['max_length']}, but sequences of length {shape[1]} arrive "
                         f"(input shape {fmt(shape)})", "max_length")
    return shape


def adaptive_pool_shape(dims: int):
    name = f"adaptive_avgpool{dims}d"

    def rule(inputs, args):
        (shape,) = inputs
        if shape is not None and len(shape) not in (dims + 1, dims + 2):
            raise ShapeError(f"{name} expects input with {dims + 1} or {dims + 2} dimensions "
                             f"(batch included), but {fmt(shape)} arrives")
        if shape is None:
            return None
        size = args["output_size"]
        size = pair(size) if dims == 2 else (size,)
        return (*shape[:-dims], *size)
    return rule


def _sizes(value, dims: int) -> tuple[int, ...]:
    return pair(value) if dims == 2 else (value if isinstance(value, int) else value[0],)


def conv_transpose_shape(dims: int):
    """torch's formula: (L - 1) * stride - 2 * padding + dilation * (kernel - 1) +
    output_padding + 1 on each of the last ``dims`` dimensions."""
    name = f"conv_transpose{dims}d"

    def rule(inputs, args):
        (shape,) = inputs
        if shape is not None and len(shape) != dims + 2:
            raise ShapeError(f"{name} expects input with {dims + 2} dimensions (batch "
                             f"included), but {fmt(shape)} arrives")
        if shape is None:
            return None
        if shape[1] is not None and shape[1] != args["in_channels"]:
            raise ShapeError(f"{name} expects {args['in_channels']} channels (in_channels) but "
                             f"{shape[1]} arrive (input shape {fmt(shape)})", "in_channels")
        keys = ("kernel_size", "stride", "padding", "output_padding", "dilation")
        kernel, stride, padding, extra, dilation = (_sizes(args[k], dims) for k in keys)
        out = tuple(None if size is None else (size - 1) * s - 2 * p + d * (k - 1) + o + 1
                    for size, k, s, p, o, d in zip(shape[-dims:], kernel, stride, padding,
                                                   extra, dilation))
        if any(o is not None and o < 1 for o in out):
            raise ShapeError(f"{name}: padding removes the whole output for input "
                             f"{fmt(shape)}; make padding smaller", "padding")
        return (shape[0], args["out_channels"], *out)
    return rule


def conv_transpose_rules(dims: int):
    def rules(args):
        problems = []
        for key in ("in_channels", "out_channels"):
            if args[key] % args["groups"]:
                message = f"{key} ({args[key]}) must be divisible by groups ({args['groups']})"
                problems.append((key, message))
        keys = ("output_padding", "stride", "dilation")
        for extra, stride, dilation in zip(*(_sizes(args[k], dims) for k in keys)):
            if extra >= stride and extra >= dilation:
                message = f"output_padding ({extra}) must be smaller than stride ({stride}) " \
                    f"or dilation ({dilation})"
                problems.append(("output_padding", message))
                break
        return problems
    return rules


def conv_transpose_params(dims: int):
    def count(args):
        kernel = _sizes(args["kernel_size"], dims)
        out = args["out_channels"]
        weights = args["in_channels"] * (out // args["groups"]) * math.prod(kernel)
        return weights + (out if args["bias"] else 0)
    return count


def groupnorm_shape(inputs, args):
    (shape,) = inputs
    if shape is None:
        return None
    if len(shape) < 2:
        raise ShapeError(f"groupnorm expects (N, C, ...) input, but {fmt(shape)} arrives")
    if shape[1] is not None and shape[1] != args["num_channels"]:
        raise ShapeError(f"groupnorm expects {args['num_channels']} channels (num_channels) "
                         f"but {shape[1]} arrive (input shape {fmt(shape)})", "num_channels")
    return shape


def groupnorm_rules(args):
    if args["num_channels"] % args["num_groups"]:
        message = f"num_channels ({args['num_channels']}) must be divisible by num_groups " \
            f"({args['num_groups']})"
        return [("num_groups", message)]
    return []


def dropout2d_shape(inputs, args):
    (shape,) = inputs
    if shape is not None and len(shape) != 4:
        raise ShapeError(f"dropout2d zeroes whole channels of (N, C, H, W) input, but "
                         f"{fmt(shape)} arrives; use dropout for other shapes")
    return shape

"""Each layer's own tensors from its bound arguments, as torch's ``state_dict()`` names them:
``{local name: (shape, dtype)}``, parameters and buffers (a batch norm's running statistics).

What ``lightdsl check`` compares a weights file with (:mod:`lightdsl.checker.tensors` builds a
whole model's names from these), without building anything in torch. A rule is an
:attr:`~lightdsl.vocab.registry.Entry.tensors` fact; tests/check/test_tensors_vs_torch.py holds
every layer entry's rule against the module torch builds. Dtypes are torch's names; a layer's
floating-point tensors have torch's default dtype, ``float32``.
"""

from __future__ import annotations

from .shapes import pair

FLOAT = "float32"  # torch's default dtype, what the builder's tensors have
Tensors = dict[str, tuple[tuple[int, ...], str]]


def no_tensors(args: dict) -> Tensors:
    """A layer without parameters or buffers (relu, dropout, pooling, flatten)."""
    return {}


def _weight_bias(weight: tuple[int, ...], bias: int | None) -> Tensors:
    found = {"weight": (weight, FLOAT)}
    if bias is not None:
        found["bias"] = ((bias,), FLOAT)
    return found


def _kernel(args: dict, dims: int) -> tuple[int, ...]:
    size = args["kernel_size"]
    return tuple(pair(size)) if dims == 2 else (size if isinstance(size, int) else size[0],)


def linear(args: dict) -> Tensors:
    out = args["out_features"]
    return _weight_bias((out, args["in_features"]), out if args["bias"] else None)


def conv(dims: int):
    """Conv: weight (out, in / groups, *kernel); ConvTranspose: (in, out / groups, *kernel)."""
    def rule(args: dict) -> Tensors:
        out, inputs, groups = args["out_channels"], args["in_channels"], args["groups"]
        return _weight_bias((out, inputs // groups, *_kernel(args, dims)),
                            out if args["bias"] else None)
    return rule


def conv_transpose(dims: int):
    def rule(args: dict) -> Tensors:
        out, inputs, groups = args["out_channels"], args["in_channels"], args["groups"]
        return _weight_bias((inputs, out // groups, *_kernel(args, dims)),
                            out if args["bias"] else None)
    return rule


def batchnorm(args: dict) -> Tensors:
    """Scale and shift when affine; the running statistics and the batch count always
    (lightdsl's batch norms track running statistics)."""
    size = args["num_features"]
    found = _weight_bias((size,), size) if args["affine"] else {}
    found.update({"running_mean": ((size,), FLOAT), "running_var": ((size,), FLOAT),
                  "num_batches_tracked": ((), "int64")})
    return found


def layernorm(args: dict) -> Tensors:
    shape = args["normalized_shape"]
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not args["elementwise_affine"]:
        return {}
    return {"weight": (shape, FLOAT), "bias": (shape, FLOAT)}


def groupnorm(args: dict) -> Tensors:
    size = args["num_channels"]
    return _weight_bias((size,), size) if args["affine"] else {}


def table(rows: str, columns: str):
    """A single (rows, columns) weight: embedding, positional_embedding."""
    def rule(args: dict) -> Tensors:
        return {"weight": ((args[rows], args[columns]), FLOAT)}
    return rule


def recurrent(gates: int):
    """torch's GRU (3 gates) / LSTM (4): per layer k and direction, weight_ih_l{k}
    (gates*H, inputs), weight_hh_l{k} (gates*H, H) and their biases; ``_reverse`` names the
    backward direction. Layers after the first take both directions' outputs."""
    def rule(args: dict) -> Tensors:
        hidden, layers = args["hidden_size"], args["num_layers"]
        suffixes = ("", "_reverse") if args["bidirectional"] else ("",)
        found: Tensors = {}
        for k in range(layers):
            inputs = args["input_size"] if k == 0 else hidden * len(suffixes)
            for suffix in suffixes:
                found[f"weight_ih_l{k}{suffix}"] = ((gates * hidden, inputs), FLOAT)
                found[f"weight_hh_l{k}{suffix}"] = ((gates * hidden, hidden), FLOAT)
                if args["bias"]:
                    found[f"bias_ih_l{k}{suffix}"] = ((gates * hidden,), FLOAT)
                    found[f"bias_hh_l{k}{suffix}"] = ((gates * hidden,), FLOAT)
        return found
    return rule


def attention(args: dict) -> Tensors:
    """nn.MultiheadAttention: one packed in_proj_weight (3E, E) when keys and values have the
    query's size, else q/k/v_proj_weight; in_proj_bias and out_proj's bias when bias."""
    embed = args["embed_dim"]
    kdim, vdim = args.get("kdim") or embed, args.get("vdim") or embed
    if kdim == embed and vdim == embed:
        found: Tensors = {"in_proj_weight": ((3 * embed, embed), FLOAT)}
    else:
        found = {"q_proj_weight": ((embed, embed), FLOAT),
                 "k_proj_weight": ((embed, kdim), FLOAT),
                 "v_proj_weight": ((embed, vdim), FLOAT)}
    if args["bias"]:
        found["in_proj_bias"] = ((3 * embed,), FLOAT)
    found.update(prefixed("out_proj.", linear({"in_features": embed, "out_features": embed,
                                               "bias": args["bias"]})))
    return found


def transformer_encoder_layer(args: dict) -> Tensors:
    """self_attn, linear1 (d -> ff), linear2 (ff -> d), norm1 and norm2 (bias = false: no
    biases anywhere, the norms' included)."""
    d, ff, bias = args["d_model"], args["dim_feedforward"], args["bias"]
    found = prefixed("self_attn.", attention({"embed_dim": d, "bias": bias}))
    found.update(prefixed("linear1.", linear({"in_features": d, "out_features": ff,
                                              "bias": bias})))
    found.update(prefixed("linear2.", linear({"in_features": ff, "out_features": d,
                                              "bias": bias})))
    for norm in ("norm1.", "norm2."):
        found.update(prefixed(norm, _weight_bias((d,), d if bias else None)))
    return found


def prefixed(prefix: str, tensors: Tensors) -> Tensors:
    """``tensors`` with every name under ``prefix`` (``"out_proj."``)."""
    return {prefix + name: value for name, value in tensors.items()}

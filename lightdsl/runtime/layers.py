"""Layer classes for vocabulary entries that torch has no direct class for."""

import torch
from torch import nn


class IndexEmbedding(nn.Embedding):
    """``nn.Embedding`` that also takes indices arriving as floats (lightdsl's loaders give the
    model float32 inputs, and the checker lets only integer-valued inputs, inline integers,
    reach an embedding, so the conversion is exact) or as narrow integers (a text dataset's
    int16 characters, given to the model directly)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        indices = input if input.dtype in (torch.int64, torch.int32) else input.long()
        return super().forward(indices)


def last_hidden(hidden: torch.Tensor, directions: int) -> torch.Tensor:
    """The top layer's final hidden state, directions side by side: (N, directions * H) from
    torch's (layers * directions, N, H)."""
    return torch.cat(list(hidden[-directions:]), dim=-1)


class BatchFirstRecurrent:
    """What :class:`GRU` and :class:`LSTM` add to torch's layers: batch-first tensors and one
    output, ``output="sequence"`` every step's hidden state (N, L, directions * H), ``"last"``
    the top layer's final hidden state (N, directions * H). torch's recurrent layers return a
    tuple and are sequence-first by default."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        dropout=0.0,
        bidirectional=False,
        output="sequence",
    ):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias=bias,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
        )
        self.output = output

    def select(self, sequence, hidden):
        if self.output == "sequence":
            return sequence
        return last_hidden(hidden, 2 if self.bidirectional else 1)


class GRU(BatchFirstRecurrent, nn.GRU):
    """``nn.GRU``, batch-first, with one output (see :class:`BatchFirstRecurrent`)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        sequence, hidden = nn.GRU.forward(self, input)
        return self.select(sequence, hidden)


class LSTM(BatchFirstRecurrent, nn.LSTM):
    """``nn.LSTM``, batch-first, with one output (``"last"`` is the final hidden state h, not
    the cell state)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        sequence, (hidden, _) = nn.LSTM.forward(self, input)
        return self.select(sequence, hidden)


class MultiheadAttention(nn.MultiheadAttention):
    """Batch-first ``nn.MultiheadAttention`` returning only the attended values (N, L, E):
    ``attn(x)`` is self-attention, ``attn(q, kv)`` uses kv as key and value, ``attn(q, k, v)``."""

    def __init__(
        self, embed_dim, num_heads, dropout=0.0, bias=True, kdim=None, vdim=None
    ):
        super().__init__(
            embed_dim,
            num_heads,
            dropout=dropout,
            bias=bias,
            kdim=kdim,
            vdim=vdim,
            batch_first=True,
        )

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
    ) -> torch.Tensor:
        key = query if key is None else key
        value = key if value is None else value
        output, _ = super().forward(query, key, value, need_weights=False)
        return output


class TransformerEncoderLayer(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` on batch-first (N, L, d_model) tensors."""

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        norm_first=False,
        bias=True,
    ):
        super().__init__(
            d_model,
            nhead,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=True,
            norm_first=norm_first,
            bias=bias,
        )


class PositionalEmbedding(nn.Module):
    """Adds a learned position vector to each step of (N, L, embedding_dim) input: positions
    0..L-1 of a (max_length, embedding_dim) table, initialized like GPT-2's (normal, std 0.02)."""

    def __init__(self, max_length, embedding_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(max_length, embedding_dim))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input + self.weight[: input.shape[-2]]

"""The compiled model of a spec with the issue-12 sequence layers computes what hand-written
torch computes with the same weights, and trains (issue 12 item 3)."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

import lightdsl

SPEC = Path(__file__).resolve().parents[1] / "codegen" / "specs" / "attention.lit"


def _model():
    torch.manual_seed(0)
    return lightdsl.load(str(SPEC), "attend").module.double().eval()


def _attention(layer, query, key, value):
    """torch's own MultiheadAttention, as torch defaults it (sequence first, a tuple out)."""
    plain = copy.deepcopy(layer)
    plain.batch_first = False
    first = [t.transpose(0, 1) for t in (query, key, value)]
    output, _ = nn.MultiheadAttention.forward(plain, *first)
    return output.transpose(0, 1)


def test_forward_with_several_inputs_matches_hand_written_torch():
    model = _model()
    x = torch.randn(3, 5, 4, dtype=torch.float64)
    h = model.proj(x) + model.pos.weight[:5]
    h = h + _attention(model.attn, h, h, h)
    key, _ = nn.GRU.forward(model.recurrent, h)
    value, _ = nn.LSTM.forward(model.memory, h)
    h = h + _attention(model.cross, h, key, value)
    encoded = model.encoder(h)
    h = h + _attention(model.mixed, h, encoded, encoded)
    _, (final, _) = nn.LSTM.forward(model.summary, h)
    torch.testing.assert_close(model(x), model.head(final[-1]), rtol=1e-12, atol=1e-12)


def test_every_parameter_learns():
    model = _model().float().train()
    x, labels = torch.randn(4, 5, 4), torch.tensor([0, 1, 2, 1])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
    silent = [name for name, p in model.named_parameters()
              if p.grad is None or not p.grad.abs().sum() > 0]
    assert silent == []
    assert losses[-1] < 0.6 * losses[0], losses

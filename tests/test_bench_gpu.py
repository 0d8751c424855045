"""bench/gpu.py's ResNet cases compare like with like: on the CPU, with one batch (so the data
order cannot differ), lightdsl's bf16-mixed step and the hand-written autocast step (contiguous
and channels_last) end at the same weights. The GPU timings themselves are only run on a GPU."""

from __future__ import annotations

import torch

from bench.gpu import resnet_cases


def test_the_resnet_cases_do_the_same_arithmetic(tmp_path):
    cases = resnet_cases(tmp_path, 128, "cpu")  # one batch of 128: one SGD step
    ours = cases["lightdsl train (spec), bf16-mixed"]().state_dict()
    for name in ("hand-written autocast loop", "hand-written loop, channels_last"):
        hand = cases[name]().state_dict()
        assert hand.keys() == ours.keys()
        for key, value in ours.items():
            torch.testing.assert_close(hand[key].contiguous(), value, rtol=2e-2, atol=1e-3,
                                       msg=f"{name}: {key}")

"""Layer classes for vocabulary entries that torch has no direct class for."""

import torch
from torch import nn


class IndexEmbedding(nn.Embedding):
    """``nn.Embedding`` that also takes indices arriving as floats: lightdsl's loaders give the
    model float32 inputs, and the checker lets only integer-valued inputs (inline integers)
    reach an embedding, so the conversion is exact."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return super().forward(input.long() if input.is_floating_point() else input)

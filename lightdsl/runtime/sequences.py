"""Sequence outputs meeting torch's class-index losses."""

import torch


def class_scores_first(output, labels):
    """Scores laid out as lightdsl's models return them, classes last: (N, T, C) for labels
    (N, T), as torch's class-index losses read them, classes in dimension 1: (N, C, T).
    Outputs (N, C) for labels (N,) are returned as they are."""
    if output.dim() > 2 and output.dim() == labels.dim() + 1:
        return torch.movedim(output, -1, 1)
    return output

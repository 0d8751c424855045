"""Metrics that generated scripts compute (lightdsl's hand-written ones, moved unchanged;
issue 12 item 4 replaces them with torchmetrics)."""


def accuracy(output, labels):
    """Fraction of samples whose highest score is the label (one-hot labels allowed)."""
    if labels.dim() == output.dim() and labels.is_floating_point():
        labels = labels.argmax(dim=-1)
    return (output.argmax(dim=-1) == labels).float().mean()


def mae(output, labels):
    """Mean absolute error."""
    return (output - labels).abs().mean()


def mse(output, labels):
    """Mean squared error."""
    return ((output - labels) ** 2).mean()

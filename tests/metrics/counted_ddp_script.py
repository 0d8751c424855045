"""Ranks on gloo, each updating lightdsl's counted metrics and torchmetrics' with its own uneven
batches; every rank checks that the synced values are equal to the bit. Writes ``ok`` (the
world size) in the given folder when all ranks agree.

    python counted_ddp_script.py WORLD FOLDER
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torchmetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lightdsl.compile import counted
from lightdsl.runtime.metrics import metric_inputs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank: int, world: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    pairs = [
        (counted.Accuracy("multiclass", num_classes=4, average="macro"),
         torchmetrics.Accuracy(task="multiclass", num_classes=4, average="macro"), "class"),
        (counted.Accuracy("multiclass", num_classes=4),
         torchmetrics.Accuracy(task="multiclass", num_classes=4), "class"),
        (counted.MeanSquaredError(), torchmetrics.MeanSquaredError(), "value"),
        (counted.MeanAbsoluteError(), torchmetrics.MeanAbsoluteError(), "value"),
    ]
    g = torch.Generator().manual_seed(100 + rank)
    for n in (5 + rank, 3, 2 * rank + 1):  # each rank its own, uneven batches
        scores = torch.randn(n, 4, generator=g)
        labels = torch.randint(0, 4, (n,), generator=g)
        values, targets = torch.randn(n, 1, generator=g) * 1e3, torch.randn(n, 1, generator=g)
        for ours, theirs, kind in pairs:
            args = metric_inputs(scores, labels, "multiclass") if kind == "class" \
                else metric_inputs(values, targets)
            ours.update(*args)
            theirs.update(*args)
    for ours, theirs, _ in pairs:
        mine, reference = ours.compute(), theirs.compute()
        if not torch.equal(mine, reference):
            raise SystemExit(f"rank {rank}: {type(ours).__name__} {mine} != {reference}")
    dist.barrier()
    if rank == 0:
        (Path(folder) / "ok").write_text(str(world))
    dist.destroy_process_group()


if __name__ == "__main__":
    world = int(sys.argv[1])
    torch.multiprocessing.spawn(rank_main, args=(world, _free_port(), sys.argv[2]), nprocs=world)

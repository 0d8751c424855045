"""Data-parallel training over ``torch.distributed``: which rank this process is, starting the
other ranks, sharding the data, reducing metrics. The training loop itself stays the same.

Where the ranks come from:

* under ``torchrun`` (or any launcher that sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
  ``MASTER_ADDR`` and ``MASTER_PORT``) this process is the rank the environment says;
* started normally with ``devices > 1``, the first ``fit`` starts ranks ``1 .. N-1`` as copies of
  this very program (``python <script> <args>`` or ``python -m <module> <args>``, with those
  variables set) and this process goes on as rank 0, as Lightning's DDP does. A thread watches
  the copies: if one dies, the others are stopped and rank 0 raises a clear
  :class:`~lightdsl.errors.TrainingError` instead of waiting for it forever (launch.py).

Data: every rank takes its own shard of every epoch. The epoch's order is the one a single
process would use (a permutation seeded with ``seed + epoch``, the same on every rank), padded by
wrapping around to a multiple of the world size, then dealt out *interleaved*: rank ``r`` takes
positions ``r, r + W, r + 2W, ...`` (exactly :class:`torch.utils.data.DistributedSampler`'s rule,
which ``DataLoader``\\ s get). So step ``s`` of all ranks together sees positions
``s*B*W .. (s+1)*B*W - 1`` of the order: the batch a single process with batch size ``B*W`` sees
at step ``s``. Gradients are averaged over ranks, so with mean losses the two runs take the same
steps. Validation and test data are sharded the same way but not padded (unequal shards are fine
there), so their metrics are exact means over the whole set.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist

from lightdsl.errors import ConfigError, DeviceError, TrainingError

from .data import InMemoryLoader, is_shuffled
from .evaluation import MeanMetrics
from .launch import launch_local_ranks, launched, watch_launcher

TIMEOUT = datetime.timedelta(minutes=30)  # how long a collective waits for a slow rank


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def is_rank_zero() -> bool:
    """Whether this process is rank 0 (or not part of a distributed run): the one that prints."""
    return os.environ.get("RANK", "0") == "0"


def env_ranks() -> Ranks | None:
    """The ranks torchrun (or our own launcher) put in the environment, if any."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return Ranks(rank, int(os.environ.get("LOCAL_RANK", rank)), world)


def processes_per_node(cfg) -> int:
    """How many processes ``devices`` asks for on each machine (``auto``: every visible GPU)."""
    if cfg.devices != "auto":
        return cfg.devices
    gpu = cfg.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return torch.cuda.device_count() if gpu else 1


def plan(cfg) -> Ranks:
    """This process's ranks for a run with ``cfg``; starts the other local ranks if needed."""
    if cfg.devices == 1 and cfg.num_nodes == 1:
        return Ranks()  # one process, even inside a torchrun job (e.g. a learning-rate search)
    per_node, env = processes_per_node(cfg), env_ranks()
    if env is not None:
        _check_world(cfg, per_node, env)
        return env
    if per_node * cfg.num_nodes == 1:
        return Ranks()
    if cfg.num_nodes > 1:
        raise ConfigError(
            f"num_nodes={cfg.num_nodes} needs one launcher per machine",
            hint=f"on each machine run: torchrun --nnodes {cfg.num_nodes} --nproc-per-node "
            f"{per_node} --rdzv-backend c10d --rdzv-endpoint HOST:PORT -m lightdsl train SPEC",
        )
    launch_local_ranks(per_node)
    return env_ranks()


def _check_world(cfg, per_node: int, env: Ranks) -> None:
    wanted = per_node * cfg.num_nodes
    if cfg.devices != "auto" and wanted != env.world_size:
        raise ConfigError(
            f"devices={cfg.devices} x num_nodes={cfg.num_nodes} = {wanted} processes, but the "
            f"launcher started WORLD_SIZE={env.world_size}",
            hint="make --nproc-per-node x --nnodes match devices x num_nodes, or use "
            "devices = auto",
        )


def rank_device(device: torch.device, ranks: Ranks) -> torch.device:
    """The device of this rank: ``cuda:<local_rank>`` on GPUs, the CPU otherwise."""
    if ranks.world_size == 1:
        return device
    if device.type == "mps":
        raise ConfigError("DDP is not supported on MPS", hint="use devices=1 on Apple GPUs")
    if device.type != "cuda":
        return device
    if ranks.local_rank >= torch.cuda.device_count():
        raise DeviceError(
            f"rank {ranks.rank} needs GPU {ranks.local_rank}, but only "
            f"{torch.cuda.device_count()} are visible",
            hint="use fewer devices, or accelerator='cpu'",
        )
    torch.cuda.set_device(ranks.local_rank)
    return torch.device("cuda", ranks.local_rank)


# ---------------------------------------------------------------------- one rank's view of a run


class Distributed:
    """What the trainer asks of DDP. With one process every method is a no-op, so the training
    loop has no ``if distributed`` branches."""

    def __init__(self, ranks: Ranks = Ranks(), device: torch.device | None = None) -> None:
        self.ranks, self.device = ranks, device or torch.device("cpu")
        self.enabled = ranks.world_size > 1
        if self.enabled and not dist.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            extra = {"device_id": self.device} if backend == "nccl" else {}
            dist.init_process_group(
                backend, rank=ranks.rank, world_size=ranks.world_size, timeout=TIMEOUT, **extra
            )
            atexit.register(_destroy_process_group)
        if self.enabled:
            watch_launcher()

    @property
    def is_main(self) -> bool:
        return self.ranks.is_main

    def training_step(self, module: torch.nn.Module):
        """``module.training_step``, run inside DistributedDataParallel when there are ranks to
        average gradients with (DDP hooks the backward of what runs in its forward)."""
        if not self.enabled:
            return module.training_step
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(_TrainingStep(module), device_ids=ids)

    def shard(self, loader, seed: int, train: bool):
        """This rank's share of ``loader`` (training shards are padded to equal length)."""
        if not self.enabled or loader is None:
            return loader
        rank, world = self.ranks.rank, self.ranks.world_size
        if isinstance(loader, InMemoryLoader):
            return loader.shard(rank, world, pad=train)
        return _shard_dataloader(loader, rank, world, seed, train)

    def broadcast(self, value):
        """Rank 0's ``value`` (any picklable object), on every rank."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def sync_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Give every rank rank 0's optimizer state (e.g. a learning rate found on rank 0)."""
        state = self.broadcast(optimizer.state_dict())
        if self.enabled and not self.is_main:
            optimizer.load_state_dict(state)

    def any(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag, true if it is true on any rank (one stop decision for all ranks)."""
        if not self.enabled:
            return flags
        values = torch.tensor([int(f) for f in flags], device=self.device)
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
        return tuple(bool(v) for v in values.tolist())

    def mean(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The mean over ranks of each scalar (same keys on every rank)."""
        if not self.enabled or not values:
            return values
        names = sorted(values)
        stacked = torch.stack([values[n].detach().float() for n in names]).to(self.device)
        dist.all_reduce(stacked)
        return dict(zip(names, stacked / self.ranks.world_size))

    def reduce_means(self, means: MeanMetrics) -> MeanMetrics:
        """The weighted means over every rank's samples (ranks may have seen different metrics,
        or none: an empty validation shard)."""
        if not self.enabled:
            return means
        mine = {k: (float(v), means.weights[k]) for k, v in means.sums.items()}
        everyone: list = [None] * self.ranks.world_size
        dist.all_gather_object(everyone, (mine, sorted(means.objects)))
        _same_metric_objects([names for _, names in everyone])
        total = MeanMetrics()
        for part, _ in everyone:
            for name, (value, weight) in part.items():
                total.add({name: torch.tensor(value / weight if weight else 0.0)}, weight)
        total.objects = means.objects  # torchmetrics objects sync themselves in compute()
        return total

    @contextlib.contextmanager
    def running(self):
        """Around a fit. If rank 0 of a local launch fails, the other ranks are stopped too
        (as torchrun does), instead of waiting for it in their next collective."""
        ranks = launched()
        if ranks is not None:
            ranks.in_fit = True
        try:
            yield
        except BaseException:
            if ranks is not None and self.enabled:
                ranks.stop()
            raise
        finally:
            if ranks is not None:
                ranks.in_fit = False

    def failure(self, error: BaseException) -> TrainingError | None:
        """A clear error for a collective that failed because another rank is gone (None if
        ``error`` is something else)."""
        if not self.enabled or not isinstance(error, RuntimeError) or not _is_lost_peer(error):
            return None
        ranks = launched()
        deadline = time.monotonic() + 2.0  # the watcher polls every 0.1 s: let it name the rank
        while ranks is not None and ranks.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        what = (ranks.failure if ranks is not None else None) or (
            f"rank {self.ranks.rank} lost contact with another rank ({first[:200]})"
        )
        return TrainingError(
            f"distributed training stopped: {what}",
            hint="the other ranks were stopped; resume from the last checkpoint with "
            "--resume last (or fit(ckpt_path=...))",
        )


class _TrainingStep(torch.nn.Module):
    """The module as DDP sees it: its forward is the module's ``training_step``."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, batch, batch_idx: int):
        return self.module.training_step(batch, batch_idx)


def _destroy_process_group() -> None:
    with contextlib.suppress(Exception):
        if dist.is_initialized():
            dist.destroy_process_group()


def _is_lost_peer(error: BaseException) -> bool:
    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    text = str(error).lower()
    words = ("connection reset", "connection closed", "broken pipe", "timed out", "nccl", "gloo")
    return any(w in text for w in words)


# ---------------------------------------------------------------------- sharding DataLoaders


class _EvalShardSampler(torch.utils.data.Sampler):
    """Rank ``r`` of ``W`` takes samples ``r, r+W, ...`` in order, without padding."""

    def __init__(self, size: int, rank: int, world: int) -> None:
        self.indices = range(rank, size, world)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        return iter(self.indices)


def _same_metric_objects(names_by_rank: list[list[str]]) -> None:
    """torchmetrics objects compute together (every rank joins the gather): a rank that saw no
    batch of the stage has none to compute, and the others would wait for it forever. Every
    rank raises the same error instead."""
    if all(names == names_by_rank[0] for names in names_by_rank):
        return
    most = max(names_by_rank, key=len)
    empty = [rank for rank, names in enumerate(names_by_rank) if names != most]
    raise ConfigError(
        f"process{'es' if len(empty) > 1 else ''} {', '.join(map(str, empty))} of "
        f"{len(names_by_rank)} got no validation samples, so the metrics "
        f"({', '.join(most)}) cannot be computed over all processes",
        hint="give the validation data at least one sample per process, or use fewer devices",
    )


def _shard_dataloader(loader, rank: int, world: int, seed: int, train: bool):
    DataLoader = torch.utils.data.DataLoader
    if not isinstance(loader, DataLoader):
        raise ConfigError(
            f"DDP cannot shard a {type(loader).__name__}: only InMemoryLoader and "
            "torch.utils.data.DataLoader are split across ranks automatically"
        )
    dataset = loader.dataset
    if isinstance(loader.sampler, torch.utils.data.DistributedSampler):
        return loader  # sharded by the module itself
    if isinstance(dataset, torch.utils.data.IterableDataset) or loader.batch_size is None:
        raise ConfigError(
            "DDP cannot shard a DataLoader over an IterableDataset or with a batch_sampler",
            hint="give it a torch.utils.data.DistributedSampler yourself",
        )
    if train:
        sampler = torch.utils.data.DistributedSampler(
            dataset, world, rank, shuffle=is_shuffled(loader), seed=seed
        )
    else:
        sampler = _EvalShardSampler(len(dataset), rank, world)
    return DataLoader(
        dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        persistent_workers=loader.persistent_workers,
    )


# ---------------------------------------------------------------------- starting local ranks

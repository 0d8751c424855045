"""DDP on torch.distributed (gloo, CPU): two ranks take the steps one process takes with twice
the batch; a worker that dies stops the run with a clear message; the CLI and resume work.

The DDP runs start as a user starts them (a script or ``lightdsl train`` in a subprocess): the
trainer starts rank 1 by running the same program again, so it cannot start from inside pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ddp_script import MLP, N_TRAIN, trainer_kwargs

import lightdsl
from lightdsl.errors import ConfigError
from lightdsl.trainer import InMemoryLoader, Trainer
from lightdsl.trainer.distributed import Ranks, plan
from tests.helpers.runner import run_python

HERE = Path(__file__).parent
pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="needs torch.distributed with gloo",
)


def run(command: list[str], cwd) -> subprocess.CompletedProcess:
    """Run ``command`` to its end. A hang (a collective waits 30 minutes for a missing rank)
    fails the test with TimeoutExpired: the runner's timeout is the hang guard, not a clock
    the test reads, so a slow start on a busy machine is no failure."""
    assert command[0] == sys.executable
    return run_python(*command[1:], cwd=cwd)


@pytest.mark.slow
def test_two_ranks_end_with_the_weights_of_one_process_with_twice_the_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    done = run([sys.executable, str(HERE / "ddp_script.py"), "--devices", "2",
                "--batch-size", "16", "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    ddp = torch.load(out)

    single = MLP(batch_size=32)
    result = Trainer(**trainer_kwargs(str(tmp_path), 1, enable_checkpointing=False)).fit(single)

    assert ddp["steps"] == result.global_step == 3 * N_TRAIN // 32
    for name, value in single.state_dict().items():
        torch.testing.assert_close(ddp["state_dict"][name], value, rtol=0, atol=1e-5)
    # metrics are reduced over the ranks: the same means as one process computes
    for name in ("val_loss", "train_loss_epoch", "train_acc_epoch"):
        assert ddp["metrics"][name] == pytest.approx(result.last_metrics[name], abs=1e-5)
    # a torchmetrics metric is computed over both ranks' shards (23 + 22 samples), not per
    # rank: macro F1 is not a mean of shard values, so only a synced metric matches
    assert ddp["metrics"]["val_f1"] == pytest.approx(result.last_metrics["val_f1"], abs=1e-6)


@pytest.mark.slow
def test_a_rank_without_validation_samples_is_a_clear_error_not_a_hang(tmp_path):
    """One validation sample for two processes: rank 1's shard is empty, so it has no metric
    objects to join torchmetrics' gather with; every rank stops with the same message."""
    done = run([sys.executable, str(HERE / "ddp_script.py"), "--devices", "2",
                "--out", str(tmp_path / "x.pt"), "--n-val", "1"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "process 1 of 2 got no validation samples" in done.stderr
    assert "at least one sample per process" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_worker_killed_mid_run_stops_the_run_with_a_clear_message(tmp_path):
    done = run([sys.executable, str(HERE / "ddp_script.py"), "--devices", "2",
                "--out", str(tmp_path / "x.pt"), "--kill-rank", "1", "--kill-step", "3"],
               tmp_path)
    assert done.returncode == 1
    assert "worker rank 1" in done.stderr and "was killed by SIGKILL" in done.stderr
    assert "error: distributed training stopped" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.pt").exists()


def _mlp_spec(tmp_path: Path) -> Path:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(96, 1, 28, 28, generator=g)
    torch.save({"x": x, "y": x.flatten(1)[:, :10].argmax(1)}, tmp_path / "train.pt")
    vx = torch.rand(21, 1, 28, 28, generator=g)
    torch.save({"x": vx, "y": vx.flatten(1)[:, :10].argmax(1)}, tmp_path / "val.pt")
    spec = tmp_path / "mlp.lit"
    spec.write_text("""
model NeuralNet(input_size = 784, hidden_size = 24, num_classes = 10) {
    layers {
        flatten()
        linear(input_size, hidden_size)
        relu()
        linear(hidden_size, num_classes)
    }
}
data digits {
    source     = pt(path = "train.pt")
    val        = pt(path = "val.pt")
    batch_size = 8
}
train {
    model      = NeuralNet()
    data       = digits
    loss       = cross_entropy
    metrics    = [accuracy]
    optimizer  = adam(lr = 0.003)
    max_epochs = 2
    seed       = 5
    logger     = none
}
""")
    return spec


@pytest.mark.slow
def test_cli_ddp_resumes_a_checkpoint_and_matches_one_process(tmp_path, monkeypatch):
    spec = _mlp_spec(tmp_path)
    monkeypatch.chdir(tmp_path)
    quiet = {"enable_progress_bar": False, "enable_model_summary": False}
    # two epochs in one process with batches of 16, then a third under DDP: 2 ranks x 8
    lightdsl.load(str(spec), overrides=["data.batch_size=16"]).fit(max_epochs=2, **quiet)
    resumed = run([sys.executable, "-m", "lightdsl", "train", str(spec), "--devices", "2",
                   "--strategy", "ddp", "--accelerator", "cpu", "--max-epochs", "3",
                   "--resume", "last"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming from" in resumed.stdout
    assert resumed.stdout.count("lightdsl: training run") == 1  # only rank 0 prints
    assert resumed.stdout.count("Training finished") == 1
    last = tmp_path / "lightning_logs/mlp/version_1/checkpoints/last.ckpt"
    ddp = torch.load(last, weights_only=True)  # written by rank 0
    assert ddp["loop"]["world_size"] == 2

    experiment = lightdsl.load(str(spec), overrides=["data.batch_size=16"])
    result = experiment.fit(max_epochs=3, default_root_dir=str(tmp_path / "one"), **quiet)
    assert ddp["loop"]["global_step"] == result.global_step == 3 * 96 // 16
    for name, value in experiment.module.state_dict().items():
        torch.testing.assert_close(ddp["state_dict"][name], value, rtol=0, atol=1e-5)
    assert ddp["callback_metrics"]["val_loss"] == pytest.approx(
        result.last_metrics["val_loss"], abs=1e-5)


# ---------------------------------------------------------------------- without processes


@pytest.mark.parametrize(("n", "world", "batch"), [(12, 2, 3), (13, 2, 3), (10, 3, 2), (2, 4, 1)])
def test_shards_together_are_the_single_process_batches(n, world, batch):
    x = torch.arange(n)
    whole = InMemoryLoader((x,), batch_size=batch * world, shuffle=True, seed=3)
    shards = [InMemoryLoader((x,), batch_size=batch, shuffle=True, seed=3).shard(r, world)
              for r in range(world)]
    assert len({len(s) for s in shards}) == 1  # every rank takes the same number of steps
    for step, parts in enumerate(zip(*shards)):
        union = torch.cat([p[0] for p in parts]).sort().values
        if (step + 1) * batch * world <= n:  # full global batches are exactly the same samples
            expected = list(whole)[step][0].sort().values
            assert torch.equal(union, expected)
    seen = torch.cat([b[0] for s in shards for b in s])
    assert set(seen.tolist()) == set(range(n))  # padding repeats samples, never drops one


def test_in_memory_shards_follow_distributed_sampler_order():
    data = torch.arange(11)
    for rank in range(3):
        loader = InMemoryLoader((data,), batch_size=100, shuffle=True, seed=9).shard(rank, 3)
        loader.set_epoch(2)
        sampler = torch.utils.data.DistributedSampler(range(11), 3, rank, shuffle=True, seed=9)
        sampler.set_epoch(2)
        assert next(iter(loader))[0].tolist() == list(sampler)


def test_validation_shards_are_not_padded():
    data = torch.arange(5)
    parts = [InMemoryLoader((data,), batch_size=2).shard(r, 2, pad=False) for r in range(2)]
    assert sorted(torch.cat([b[0] for p in parts for b in p]).tolist()) == list(range(5))


def test_devices_one_never_starts_ranks(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert plan(Trainer(devices=1).config) == Ranks()


def test_torchrun_environment_gives_the_ranks(monkeypatch):
    for key, value in {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(key, value)
    assert plan(Trainer(devices="auto", accelerator="cpu").config) == Ranks(3, 1, 4)
    assert plan(Trainer(devices=2, num_nodes=2).config) == Ranks(3, 1, 4)
    with pytest.raises(ConfigError, match="WORLD_SIZE=4"):
        plan(Trainer(devices=3, strategy="ddp").config)


def test_several_nodes_need_torchrun(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ConfigError, match="torchrun --nnodes 2"):
        plan(Trainer(devices=2, num_nodes=2, accelerator="cpu").config)


def test_starting_ranks_from_inside_pytest_is_refused_clearly(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ConfigError, match="inside a pytest test"):
        Trainer(devices=2, accelerator="cpu", logger=None).fit(MLP(8))

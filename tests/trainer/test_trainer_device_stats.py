"""``device_stats = true`` (lightdsl.trainer.DeviceStatsMonitor): CPU and memory use on the CPU,
CUDA memory on a GPU, in the logs every log_every_n_steps steps, under Lightning's names and at
Lightning's steps; check refuses it without a logger; codegen's Lightning target adds
Lightning's DeviceStatsMonitor."""

from __future__ import annotations

import csv
import importlib.util
import os
import sys

import pytest
import torch
from trainer_modules import Regression, fast_trainer_kwargs

import lightdsl
from lightdsl.errors import ConfigError
from lightdsl.trainer import DeviceStatsMonitor, Trainer
from lightdsl.trainer.device_stats import PREFIX

pytest.importorskip("psutil")

SPEC = """model Net {
    layers {
        linear(2, 2)
    }
}
data points {
    inputs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.2, 0.1], [0.9, 0.3],
              [0.3, 0.8], [0.7, 0.7]]
    labels = [0, 1, 0, 1, 0, 1, 0, 1]
    batch_size = 2
}
train {
    model = Net
    data = points
    loss = cross_entropy
    max_epochs = 2
    log_every_n_steps = 2
    accelerator = cpu
    enable_progress_bar = false
    enable_model_summary = false
    enable_checkpointing = false
    device_stats = true
LOGGER}
"""
CPU_NAMES = ["cpu_percent", "cpu_swap_percent", "cpu_vm_percent", "process_cpu_percent",
             "process_rss_bytes"]


def device_rows(log_dir):
    with open(os.path.join(log_dir, "metrics.csv"), newline="") as f:
        return [r for r in csv.DictReader(f) if r.get(PREFIX + "cpu_percent")]


def test_cpu_stats_are_logged_every_logging_step(tmp_path):
    trainer = Trainer(**fast_trainer_kwargs(tmp_path, logger="csv", max_epochs=2,
                                            log_every_n_steps=3,
                                            callbacks=[DeviceStatsMonitor()]))
    result = trainer.fit(Regression())  # 8 steps an epoch: logged at 3, 6, ..., 15
    rows = device_rows(result.log_dir)
    assert [int(r["step"]) for r in rows] == [2, 5, 8, 11, 14]  # Lightning's: global_step - 1
    names = sorted(k[len(PREFIX):] for k in rows[0] if k.startswith(PREFIX) and rows[0][k])
    assert names == CPU_NAMES
    import psutil

    rss_now = psutil.Process().memory_info().rss
    for row in rows:
        value = {name: float(row[PREFIX + name]) for name in names}
        assert 20e6 < value["process_rss_bytes"] <= 2 * rss_now  # torch alone is > 20 MB
        assert 0 <= value["cpu_percent"] <= 100 and 0 < value["cpu_vm_percent"] <= 100
        # averaged over >= 1 s: within one clock tick (10 ms) a second of what the CPUs can do
        assert 0 < value["process_cpu_percent"] <= 100 * os.cpu_count() + 1
        assert row["epoch"] == ""  # as Lightning's monitor logs them: no epoch
    # the values go to the logger only, not to what callbacks monitor (as in Lightning)
    assert not any(k.startswith(PREFIX) for k in trainer.callback_metrics)


def test_cpu_stats_can_be_switched_off_and_need_a_logger(tmp_path):
    result = Trainer(**fast_trainer_kwargs(tmp_path, logger="csv", max_epochs=1,
                                           log_every_n_steps=1,
                                           callbacks=[DeviceStatsMonitor(cpu_stats=False)])
                     ).fit(Regression())
    assert device_rows(result.log_dir) == []
    with pytest.raises(ConfigError, match="logger is none"):
        Trainer(**fast_trainer_kwargs(tmp_path, logger=None, max_epochs=1,
                                      callbacks=[DeviceStatsMonitor()])).fit(Regression())
    # fast_dev_run turns the logger off: nothing to monitor, no error
    Trainer(**fast_trainer_kwargs(tmp_path, logger="csv", fast_dev_run=2,
                                  callbacks=[DeviceStatsMonitor()])).fit(Regression())


def test_without_psutil_the_message_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil raises ImportError
    trainer = Trainer(**fast_trainer_kwargs(tmp_path, logger="csv", max_epochs=1,
                                            callbacks=[DeviceStatsMonitor()]))
    with pytest.raises(ConfigError, match="psutil, which is not installed") as error:
        trainer.fit(Regression())
    assert "pip install psutil" in error.value.hint
    assert trainer.global_step == 0  # refused before training, not after an epoch


def test_spec_setting_logs_lightnings_names_at_lightnings_steps(tmp_path, monkeypatch):
    """``lightdsl train`` of a spec and the Lightning script codegen writes for it log the
    same device-stats names at the same steps."""
    pl = pytest.importorskip("pytorch_lightning")
    from lightdsl.codegen import generate_file

    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "stats.lit"
    spec.write_text(SPEC.replace("LOGGER", ""), encoding="utf-8")
    result = lightdsl.load(str(spec)).fit(logger="csv")
    ours = device_rows(result.log_dir)
    script = generate_file(str(spec), None, "lightning").text
    assert "\"callbacks\": [pl.callbacks.DeviceStatsMonitor()]" in script
    (tmp_path / "stats_pl.py").write_text(script, encoding="utf-8")
    logger = pl.loggers.CSVLogger(str(tmp_path / "pl"))
    spec_of = importlib.util.spec_from_file_location("stats_pl", tmp_path / "stats_pl.py")
    generated = importlib.util.module_from_spec(spec_of)
    spec_of.loader.exec_module(generated)
    generated.main(logger=logger)
    with open(os.path.join(logger.log_dir, "metrics.csv"), newline="") as f:
        theirs = [r for r in csv.DictReader(f) if r.get(PREFIX + "cpu_percent")]
    assert [r["step"] for r in ours] == [r["step"] for r in theirs] == ["1", "3", "5", "7"]
    lightning_names = {k for k in theirs[0] if k.startswith(PREFIX) and theirs[0][k]}
    assert lightning_names == {PREFIX + n for n in ("cpu_percent", "cpu_swap_percent",
                                                    "cpu_vm_percent")}
    assert lightning_names < {k for k in ours[0] if ours[0][k]}


def test_check_refuses_device_stats_without_a_logger():
    from lightdsl.analysis import analyze_text

    text = SPEC.replace("LOGGER", "    logger = none\n")
    analysis = analyze_text(text, "stats.lit")
    errors = [(d.span.line, d.span.column, d.message) for d in analysis.errors]
    line = text.splitlines().index("    device_stats = true") + 1
    message = "device_stats = true logs to the run's logger, but logger = none"
    assert errors == [(line, 20, message)]
    assert analyze_text(SPEC.replace("LOGGER", "    logger = csv\n"), "s.lit").errors == []


def test_torch_target_says_it_does_not_log_device_stats(tmp_path):
    from lightdsl.codegen import generate_file

    spec = tmp_path / "stats.lit"
    spec.write_text(SPEC.replace("LOGGER", ""), encoding="utf-8")
    notes = generate_file(str(spec), None, "torch").notes
    assert "device_stats: the script logs no GPU memory or CPU statistics" in notes


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_memory_is_logged_on_a_gpu(tmp_path):
    module = Regression(n=256, batch_size=64, features=512)
    trainer = Trainer(**fast_trainer_kwargs(tmp_path, logger="csv", accelerator="gpu",
                                            devices=1, max_epochs=1, log_every_n_steps=1,
                                            callbacks=[DeviceStatsMonitor()]))
    result = trainer.fit(module)
    with open(os.path.join(result.log_dir, "metrics.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get(PREFIX + "allocated_bytes.all.current")]
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3]
    weights = sum(p.numel() * p.element_size() for p in module.parameters())
    for row in rows:
        value = {k[len(PREFIX):]: float(v) for k, v in row.items() if k.startswith(PREFIX) and v}
        assert sorted(value) == ["allocated_bytes.all.current", "allocated_bytes.all.peak",
                                 "reserved_bytes.all.current", "reserved_bytes.all.peak"]
        # the weights, their gradients' freed buffers aside, and the momentum live on the GPU
        assert value["allocated_bytes.all.current"] >= 2 * weights
        assert value["allocated_bytes.all.peak"] >= value["allocated_bytes.all.current"]
        assert value["reserved_bytes.all.current"] >= value["allocated_bytes.all.current"]
        assert value["reserved_bytes.all.peak"] >= value["reserved_bytes.all.current"]
    assert float(rows[-1][PREFIX + "allocated_bytes.all.peak"]) <= \
        torch.cuda.max_memory_allocated()


def test_plot_puts_lightnings_names_in_panels_titled_by_the_stat():
    from lightdsl.plots.curves import group_metrics

    names = ["train_loss_step", "train_loss_epoch", "val_loss", "train_accuracy_step",
             "train_accuracy_epoch", "val_accuracy", PREFIX + "cpu_percent",
             PREFIX + "process_rss_bytes"]
    panels = group_metrics({name: ([0.0], [1.0]) for name in names})
    assert panels == {
        "loss": ["train_loss_epoch", "train_loss_step", "val_loss"],
        "accuracy": ["train_accuracy_epoch", "train_accuracy_step", "val_accuracy"],
        "cpu_percent": [PREFIX + "cpu_percent"],
        "process_rss_bytes": [PREFIX + "process_rss_bytes"]}

"""The plain-PyTorch target: the model, ``load_data()``, ``evaluate()``, an explicit ``fit()``
loop that trains exactly as lightdsl's trainer does, and ``main()``.

Only what the spec uses is written: a spec without a scheduler gets no scheduler lines, one
without accumulation no accumulation arithmetic.
"""

from __future__ import annotations

from ..api import log_location
from ..errors import UsageError
from ..run_settings import ACCELERATOR_DEVICE, PRECISION, SETTING
from .metrics import is_open, task_line, write_metric_dict, write_updates
from .printer import literal, str_literal, vocab_call
from .script import PRECISION_DTYPES, Plan, Script, add_data_root_option
from .writer import CodeWriter, Doc, Group, concat, flat

# settings written as constants when they differ from their defaults (lightdsl's)
DEFAULTS = {key: SETTING[key].default for key in (
    "max_steps", "accumulate_grad_batches", "gradient_clip_val", "limit_train_batches",
    "check_val_every_n_epoch", "limit_val_batches", "val_check_interval")}


class TorchTarget:
    """Writes the torch script's body for one run."""

    def __init__(self, script: Script, plan: Plan, model_class: str):
        self.s, self.plan, self.model_class = script, plan, model_class
        self.w: CodeWriter = script.w
        self.run = plan.run
        self.param_dtype, self.autocast = PRECISION_DTYPES[plan.precision]
        self.scaler = PRECISION[plan.precision].grad_scaler  # a GradScaler on CUDA
        self.cpu_precision = PRECISION[plan.precision].cpu  # what the CPU trains with instead
        self.has_val = self.run.data.val is not None

    # ---- constants ----
    def constants(self) -> None:
        plan, s = self.plan, self.s
        if plan["seed"] is not None:
            s.constant("SEED", plan["seed"])
        s.constant("BATCH_SIZE", plan.data["batch_size"])
        s.constant("MAX_EPOCHS", plan["max_epochs"])
        validation = ("check_val_every_n_epoch", "limit_val_batches", "val_check_interval")
        for key, default in DEFAULTS.items():
            value = plan[key]  # 1 (one batch) is not 1.0 (the whole epoch)
            changed = value is not None and (value != default or type(value) is not type(default))
            if changed and (key not in validation or self.has_val):
                s.constant(key.upper(), value)
        root, name = log_location(self.run, s.path)  # where lightdsl train writes this run
        s.constant("LOG_ROOT", root)
        s.constant("RUN_NAME", name)

    def _const(self, key: str) -> bool:
        return any(name == key for name, _ in self.s.constants)

    @property
    def _mid_val(self) -> bool:
        """Whether validation may run inside an epoch (val_check_interval)."""
        return self._const("VAL_CHECK_INTERVAL")

    @property
    def _early_stopping(self) -> bool:
        return any(b.name == "early_stopping" for b in self.run.callbacks)

    # ---- what the script does not reproduce ----
    def notes(self) -> list[str]:
        """Settings of the run this script does not reproduce (each also a codegen warning)."""
        plan, run, notes = self.plan, self.run, []
        if plan.written("logger") and run.logger is not None:
            notes.append(f"logger = {run.logger.name}: the script prints each epoch's metrics "
                         "instead of writing logs")
        if plan.data.get("num_workers") or plan.data.get("pin_memory"):
            notes.append("num_workers/pin_memory: the script batches tensors in memory, in one "
                         "process")
        if plan["strategy"] == "ddp" or plan["num_nodes"] != 1 or plan["devices"] not in (
                "auto", 1):
            notes.append("devices/strategy/num_nodes: the script trains on one device")
        if plan["device_stats"] is True:
            notes.append("device_stats: the script logs no GPU memory or CPU statistics")
        for key in ("log_every_n_steps", "num_sanity_val_steps"):
            if plan.written(key):
                notes.append(f"{key}: not used (no logs, no sanity check)")
        for bound in run.callbacks:
            monitor = bound.values.get("monitor")
            if monitor and not (monitor.startswith("val_") or monitor.endswith("_epoch")):
                notes.append(f"{bound.name} monitors {monitor!r}: the script's metrics are "
                             "train_loss_epoch and val_* only, so it never sees that one")
        return notes

    # ---- evaluate() ----
    def write_evaluate(self) -> None:
        w = self.w
        limit = self._const("LIMIT_VAL_BATCHES")
        w.line("def evaluate(model, data, loss_fn" + (", limit):" if limit else "):"))
        with w.indent():
            w.docstring("Mean loss (weighted by batch size) and metrics over data, no gradients.")
            w.line("model.eval()")
            w.line("sums, seen = {}, 0")
            if self.run.metrics:
                self.s.imports.add("import torchmetrics")
                self.s.use("metric_inputs")
                if is_open(self.run):
                    self.s.use("metric_task")
                    w.line("metrics = None  # made for the model's output, at the first batch")
                else:
                    write_metric_dict(w, self.run)
            w.line("with torch.no_grad():")
            with w.indent():
                source = "batches(data, BATCH_SIZE)"
                if limit:
                    w.line(f"for batch_idx, (inputs, labels) in enumerate({source}):")
                else:
                    w.line(f"for inputs, labels in {source}:")
                with w.indent():
                    if limit:
                        w.line("if batch_idx == limit:")
                        with w.indent():
                            w.line("break")
                    self._forward_and_loss(device="inputs.device")
                    w.line('sums["loss"] = sums.get("loss", 0.0) + float(loss) * len(inputs)')
                    w.line("seen += len(inputs)")
                    if is_open(self.run):
                        w.line("if metrics is None:")
                        with w.indent():
                            w.line(task_line(self.run))
                            write_metric_dict(w, self.run)
                    if self.run.metrics:
                        write_updates(w, self.run)
            w.line("model.train()  # evaluate() is called while training")
            w.line('values = {f"val_{name}": total / seen for name, total in sums.items()}')
            if self.run.metrics:
                w.line("for name, metric in metrics.items():  # over the whole set, not batches")
                with w.indent():
                    w.line("value = metric.compute()")
                    w.line("if value.numel() == 1:")
                    with w.indent():
                        w.line('values[f"val_{name}"] = value.item()')
                    w.line("else:  # a confusion matrix: printed, not a number to monitor")
                    with w.indent():
                        w.line('print(f"val_{name}", value.tolist())')
            w.line("return values")

    def _forward_and_loss(self, augment: bool = False, device: str = "device") -> None:
        w = self.w
        if augment:
            for bound in self.run.data.transforms:
                if bound.entry.augment:
                    self.s.use(bound.name)
                    w.statement(vocab_call(bound, leading=("inputs",)), prefix="inputs = ")
        if self.autocast:
            dtype = self.autocast
            if self.cpu_precision:  # e.g. the CPU has no float16 scaler: bf16, as lightdsl does
                cpu = PRECISION_DTYPES[self.cpu_precision][1]
                w.line(f'amp_dtype = {cpu} if {device}.type == "cpu" else {dtype}')
                dtype = "amp_dtype"
            w.line(f"with torch.autocast({device}.type, dtype={dtype}):")
            self.w.level += 1
        w.line("output = model(inputs)")
        if self.plan.float_labels:
            w.line("labels = labels if labels.is_floating_point() else "
                   "labels.to(output.dtype).reshape(output.shape)")
        w.line(f"loss = loss_fn({self.plan.loss_scores(self.s)}, labels)")
        if self.autocast:
            self.w.level -= 1

    # ---- fit() ----
    def write_fit(self) -> None:
        w, run = self.w, self.run
        w.ref(run.node.span, f"train {run.name}")
        signature = "def fit(model, train_set, val_set=None, run=None"
        if self._has_lr:
            signature += f", lr={flat(literal(run.optimizer.values['lr']))}"
        if run.lr_find is not None:
            signature += ", range_test=None"
        w.statement(signature + "):")
        with w.indent():
            w.docstring(f"Train model as the spec's train block says: {run.loss.name} loss, "
                        f"{run.optimizer.name}, MAX_EPOCHS epochs.")
            self._setup()
            self._epochs()
            reason = "early_stopping.reason" if self._early_stopping else ""
            w.line(f"run.finish(model, optimizer, step{', ' + reason if reason else ''})")
            w.line("return model")

    def _setup(self) -> None:
        w, plan = self.w, self.plan
        if plan["seed"] is not None:
            self.s.use("seed_everything")
            w.line("seed_everything(SEED)  # as lightdsl's trainer, at the start of the run")
        if plan["deterministic"]:
            w.line("torch.use_deterministic_algorithms(True)")
        w.line(f"device = {self._device()}")
        dtype = f", {self.param_dtype}" if self.param_dtype else ""
        w.line(f"model = model.to(device{dtype})")
        for name in ("train_set", "val_set") if self.has_val else ("train_set",):
            if self.param_dtype:
                self.s.use("to_device")
                move = f"to_device({name}, device, {self.param_dtype})"
            else:
                move = f"tuple(t.to(device) for t in {name})"
            if name == "val_set":
                w.line("if val_set is not None:")
                with w.indent():
                    w.statement(move, prefix=f"{name} = ")
            else:
                w.statement(move, prefix=f"{name} = ")
        w.ref(self.run.loss.span, "loss")
        w.statement(vocab_call(self.run.loss), prefix="loss_fn = ")
        w.line("params = [p for p in model.parameters() if p.requires_grad]")
        w.ref(self.run.optimizer.span, "optimizer")
        optimizer = self.run.optimizer

        def value(name):
            return "lr" if name == "lr" else literal(optimizer.values[name], tuples=True)

        lr = () if "lr" in optimizer.nodes or not self._has_lr else ("lr=lr",)
        w.statement(vocab_call(optimizer, value, leading=("params",), trailing=lr),
                    prefix="optimizer = ")
        # every count is defined before anything (the scheduler, validation) uses it
        self._batch_counts()
        self._scheduler()
        self._callbacks()
        if self.scaler:
            w.line('scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")')
        if plan.data["shuffle"] and plan["seed"] is None:
            self.s.imports.add("import random")
            w.line("data_seed = random.randrange(2**31)  # no seed in the spec: a new order")
        if self._const("MAX_STEPS") and self.run.lr_find is not None:
            w.line("max_steps = MAX_STEPS if range_test is None else -1  # lr_find: its own")
        w.line("step, metrics = 0, {}")
        if self._early_stopping:
            w.line("stop = False")

    @property
    def _max_steps(self) -> str:
        return "max_steps" if self.run.lr_find is not None else "MAX_STEPS"

    def _batch_counts(self) -> None:
        """train_batches (one epoch's batches), val_batches, val_every, as lightdsl counts."""
        w, plan = self.w, self.plan
        if self._needs_batch_count():
            self.s.use("num_batches")
            drop = plan.data["drop_last"]
            w.line(f"train_batches = num_batches(len(train_set[0]), BATCH_SIZE, {drop})")
            if self._const("LIMIT_TRAIN_BATCHES"):
                self.s.use("limit_batches")
                w.line("train_batches = limit_batches(LIMIT_TRAIN_BATCHES, train_batches)")
        if not self.has_val:
            return
        if self._const("LIMIT_VAL_BATCHES"):
            self.s.use("limit_batches")
            w.line("val_batches = 0")
            w.line("if val_set is not None:")
            with w.indent():
                w.line("val_batches = num_batches(len(val_set[0]), BATCH_SIZE)")
                w.line("val_batches = limit_batches(LIMIT_VAL_BATCHES, val_batches)")
            w.line("validating = val_batches > 0")
        else:
            w.line("validating = val_set is not None")
        if self._mid_val:
            self.s.use("val_interval")
            w.line("val_every = val_interval(VAL_CHECK_INTERVAL, train_batches)")

    @property
    def _has_lr(self) -> bool:
        return "lr" in self.run.optimizer.values

    def _device(self) -> str:
        accelerator = self.plan["accelerator"]
        if accelerator == "auto":
            self.s.use("auto_device")
            return "auto_device()"
        return f'torch.device("{ACCELERATOR_DEVICE[accelerator]}")'

    def _steps_arg(self) -> str | None:
        """The scheduler argument to fill with the run's optimizer steps (onecycle's
        total_steps, when unset), or None."""
        bound = self.run.scheduler
        return None if bound is None else bound.entry.run_steps_default(bound.values)

    def _needs_batch_count(self) -> bool:
        return self._steps_arg() or self._const("ACCUMULATE_GRAD_BATCHES") \
            or self._const("LIMIT_TRAIN_BATCHES") or self._mid_val

    def _scheduler(self) -> None:
        bound = self.run.scheduler
        if bound is None:
            return
        extra = ()
        if self._steps_arg():
            extra = (self._total_steps(),)
        call = vocab_call(bound, leading=("optimizer",), trailing=extra)
        if self.run.lr_find is not None:
            self.w.line("if range_test is None:  # lr_find leaves the spec's scheduler out")
            self.w.level += 1
        self.w.ref(bound.span, "scheduler")
        self.w.statement(call, prefix="scheduler = ")
        if self.run.lr_find is not None:
            self.w.level -= 1

    def _total_steps(self) -> str:
        """A scheduler's default steps (onecycle's total_steps): the run's optimizer steps, as
        Lightning counts them (estimated_stepping_batches: accumulation, limit_train_batches and
        max_steps included)."""
        arg, name = self._steps_arg(), self.run.scheduler.name
        if self.plan["max_epochs"] == -1 and self.plan["max_steps"] == -1:
            raise UsageError(f"{self.s.file}: {name} needs {arg} when max_epochs = -1 and "
                             "there is no max_steps (the run has no end to schedule for)")
        self.s.use("optimizer_steps")
        args = ["train_batches", "MAX_EPOCHS"]
        if self._const("ACCUMULATE_GRAD_BATCHES"):
            args.append("ACCUMULATE_GRAD_BATCHES")
        if self._const("MAX_STEPS"):
            args.append("max_steps=MAX_STEPS")
        return f"{arg}=optimizer_steps({', '.join(args)})"

    def _callbacks(self) -> None:
        for bound in self.run.callbacks:
            name = bound.entry.target.rsplit(".", 1)[1]
            self.s.use(name)
            self.w.ref(bound.span, bound.name)
            variable = "early_stopping" if name == "EarlyStopping" else "checkpoint"
            self.w.statement(vocab_call(bound), prefix=f"{variable} = ")

    def _epochs(self) -> None:
        w, plan = self.w, self.plan
        epochs = "range(MAX_EPOCHS)"
        if plan["max_epochs"] == -1:
            self.s.imports.add("import itertools")
            epochs = "itertools.count()"
        elif self.run.lr_find is not None:
            # as lightdsl's lr_find: num_training steps, through as many epochs as they take
            self.s.imports.add("import itertools")
            w.line("epochs = range(MAX_EPOCHS) if range_test is None else itertools.count()")
            epochs = "epochs"
        w.line(f"for epoch in {epochs}:")
        with w.indent():
            w.line("model.train()")
            w.line("total, seen = 0.0, 0")
            if self._const("CHECK_VAL_EVERY_N_EPOCH"):
                w.line("validate = validating and (epoch + 1) % CHECK_VAL_EVERY_N_EPOCH == 0")
            self._batches()
            self._end_epoch()

    @property
    def _validate(self) -> str:
        return "validate" if self._const("CHECK_VAL_EVERY_N_EPOCH") else "validating"

    def _batch_source(self) -> Doc:
        data = self.plan.data
        args = ["train_set", "BATCH_SIZE"]
        if data["shuffle"]:
            seed = "SEED" if self.plan["seed"] is not None else "data_seed"
            args += ["shuffle=True", f"seed={seed} + epoch"]
        if data["drop_last"]:
            args.append("drop_last=True")
        self.s.use("batches")
        return concat("batches", Group("(", tuple(args), ")"))

    def _batches(self) -> None:
        w = self.w
        counted = self._needs_batch_count()
        target = "batch_idx, (inputs, labels)" if counted else "inputs, labels"
        source = self._batch_source()
        source = concat("enumerate", Group("(", (source,), ")")) if counted else source
        w.statement(source, prefix=f"for {target} in ", suffix=":")
        with w.indent():
            if self._const("LIMIT_TRAIN_BATCHES"):
                w.line("if batch_idx == train_batches:")
                with w.indent():
                    w.line("break")
            self._forward_and_loss(augment=True)
            self._backward_and_step()
            w.line("total += loss.detach() * len(inputs)")
            w.line("seen += len(inputs)")
            if self._mid_val:
                self._mid_epoch_validation()
            self._stop_check(inside=True)

    def _mid_epoch_validation(self) -> None:
        w = self.w
        w.comment("validate inside the epoch every val_every batches (the epoch's end below)")
        w.line("inside = batch_idx + 1 < train_batches")
        w.line(f"if {self._validate} and inside and (batch_idx + 1) % val_every == 0:")
        with w.indent():
            self._validation_and_callbacks()

    def _validation_and_callbacks(self) -> None:
        """Validate, then the callbacks that follow validations (as lightdsl's trainer)."""
        w = self.w
        limit = ", val_batches" if self._const("LIMIT_VAL_BATCHES") else ""
        w.line(f"metrics.update(evaluate(model, val_set, loss_fn{limit}))")
        if self._early_stopping:
            w.line("stop = early_stopping.should_stop(metrics) or stop")
        if self._mid_val and any(b.name == "checkpoint" for b in self.run.callbacks):
            w.line("checkpoint.save(run.checkpoints, model, epoch, step, metrics)")

    def _stop_check(self, inside: bool) -> None:
        """Stop at max_steps or when early stopping asks; never inside an accumulation."""
        conditions = []
        if self._early_stopping:
            conditions.append("stop")
        if self._const("MAX_STEPS"):
            conditions.append(f"step == {self._max_steps}")
        if not conditions:
            return
        test = " or ".join(conditions)
        if inside and self._const("ACCUMULATE_GRAD_BATCHES") and len(conditions) > 1:
            test = f"({test}) and stepped"
        elif inside and self._const("ACCUMULATE_GRAD_BATCHES"):
            test = f"{test} and stepped"
        self.w.line(f"if {test}:")
        with self.w.indent():
            self.w.line("break")

    def _backward_and_step(self) -> None:
        w = self.w
        accumulate = self._const("ACCUMULATE_GRAD_BATCHES")
        loss = "loss / ACCUMULATE_GRAD_BATCHES" if accumulate else "loss"
        scaled = f"scaler.scale({loss})" if self.scaler else \
            (f"({loss})" if accumulate else loss)
        w.line(f"{scaled}.backward()")
        if accumulate:
            w.line("last = batch_idx + 1 == train_batches")
            w.line("stepped = (batch_idx + 1) % ACCUMULATE_GRAD_BATCHES == 0 or last")
            w.line("if stepped:")
            with w.indent():
                self._optimizer_step()
        else:
            self._optimizer_step()

    def _optimizer_step(self) -> None:
        w, plan = self.w, self.plan
        scaler = self.scaler
        if scaler:
            w.line("scaler.unscale_(optimizer)")
        if plan["gradient_clip_val"]:
            how = "norm" if plan["gradient_clip_algorithm"] == "norm" else "value"
            w.line(f"torch.nn.utils.clip_grad_{how}_(params, GRADIENT_CLIP_VAL)")
        if self.run.lr_find is not None:
            w.line("if range_test is not None:  # lr_find: this step's learning rate")
            with w.indent():
                w.line("optimizer.param_groups[0][\"lr\"] = range_test.lr(step)")
        if scaler:
            w.line("scaler.step(optimizer)")
            w.line("scaler.update()")
        else:
            w.line("optimizer.step()")
        w.line("optimizer.zero_grad(set_to_none=True)")
        if self.run.scheduler and self.run.scheduler.entry.interval == "step":
            self._scheduler_step()
        w.line("step += 1")
        if self.run.lr_find is not None:
            self._range_test_record()

    def _range_test_record(self) -> None:
        """lr_find: record the step's loss; the range test ends after num_training steps."""
        w, accumulate = self.w, self._const("ACCUMULATE_GRAD_BATCHES")
        loss = "loss / ACCUMULATE_GRAD_BATCHES" if accumulate else "loss"
        test = "if range_test is not None and range_test.record"
        if accumulate:
            w.comment("lr_find: a step that closes an incomplete window is run, not recorded "
                      "(as in lightdsl and Lightning)")
            w.line("full = (batch_idx + 1) % ACCUMULATE_GRAD_BATCHES == 0")
            w.line("if range_test is not None and not full:")
            with w.indent():
                w.line("if step >= range_test.num_training:")
                with w.indent():
                    w.line("return model  # the range test is over")
            test = "elif range_test is not None and range_test.record"
        w.statement(concat(test, Group("(", ("step", loss), ")")), suffix=":")
        with w.indent():
            w.line("return model  # the range test is over")

    def _scheduler_step(self) -> None:
        if self.run.lr_find is None:
            self.w.line("scheduler.step()")
            return
        self.w.line("if range_test is None:  # lr_find leaves the spec's scheduler out")
        with self.w.indent():
            self.w.line("scheduler.step()")

    def _end_epoch(self) -> None:
        w, run = self.w, self.run
        w.line('metrics["train_loss_epoch"] = float(total) / seen')
        if self.has_val:
            validate = self._validate
            if self._mid_val:
                # Lightning's schedule: the epoch's end validates when it is a check batch,
                # and always where training stops early (max_steps, early stopping)
                w.line("finished = batch_idx + 1 >= train_batches")
                validate += " and (not finished or train_batches % val_every == 0)"
            w.line(f"if {validate}:")
            with w.indent():
                self._validation_and_callbacks()
        if run.scheduler and run.scheduler.entry.interval == "epoch":
            self._scheduler_step()
        w.line('print(f"epoch {epoch}", *(f"{k} {v:.6g}" for k, v in metrics.items()))')
        if self.run.lr_find is not None:
            w.line("if range_test is None:  # lr_find's range test writes nothing")
            with w.indent():
                w.line("run.end_epoch(epoch, metrics)")
        else:
            w.line("run.end_epoch(epoch, metrics)")
        self._epoch_callbacks()
        self._stop_check(inside=False)

    def _epoch_callbacks(self) -> None:
        """The checkpoint at every epoch end; early stopping here only without validation."""
        w, searching = self.w, self.run.lr_find is not None
        guard = "range_test is None and " if searching else ""
        for bound in self.run.callbacks:
            if bound.name == "checkpoint":
                save = "checkpoint.save(run.checkpoints, model, epoch, step, metrics)"
                if searching:
                    w.line("if range_test is None:")
                    with w.indent():
                        w.line(save)
                else:
                    w.line(save)
        if not self._early_stopping:
            return
        if self.has_val:
            w.line(f"if {guard}not validating:  # no validation data: check the epoch's metrics")
        elif searching:
            w.line("if range_test is None:")
        else:
            w.line("stop = early_stopping.should_stop(metrics)")
            return
        with w.indent():
            w.line("stop = early_stopping.should_stop(metrics)")

    # ---- main() and the command line ----
    def write_main(self, model_call: str, reads_files: bool) -> None:
        w = self.w
        self.s.use("RunFolder")
        self.s.use("claim_version_dir")
        w.line("def main(data_root=SPEC_DIR, out=None):" if reads_files else
               "def main(out=None):")
        with w.indent():
            w.docstring("Load the data, build the model, train it; returns the trained model.")
            w.comment("the run's files go into out, else into a new LOG_ROOT/RUN_NAME/version_N")
            if self.plan["seed"] is not None:
                self.s.use("seed_everything")
                w.line("seed_everything(SEED)  # the same initial weights on every run")
            if reads_files:
                self.s.use("read_data")
                w.line("train_set, val_set = read_data(load_data, Path(data_root))")
            else:
                w.line("train_set, val_set = load_data()")
            w.line(f"model = {model_call}")
            if self.run.lr_find is not None:
                w.line("lr = lr_find(model, train_set)")
            w.statement(concat("RunFolder", Group("(", (
                "out or claim_version_dir(LOG_ROOT, RUN_NAME)", *self._monitor()), ")")),
                prefix="run = ")
            lr = ", lr=lr" if self.run.lr_find is not None else ""
            w.line(f"return fit(model, train_set, val_set, run{lr})")

    def _monitor(self) -> tuple[str, ...]:
        """RunFolder's monitor and mode: the first checkpoint's or early stopping's, as
        lightdsl's summary picks the metric its "best" line shows."""
        for bound in self.run.callbacks:
            if bound.values.get("monitor"):
                return (f"monitor={flat(literal(bound.values['monitor']))}",
                        f"mode={flat(literal(bound.values.get('mode', 'min')))}")
        return ()

    def write_command_line(self, reads_files: bool) -> None:
        """``command_line()`` (argparse: --data-root, --out, --max-epochs) and the
        ``if __name__ == "__main__":`` block that runs main() with them."""
        w, run = self.w, self.run
        self.s.imports |= {"import argparse", "from pathlib import Path"}
        root, name = log_location(run, self.s.path)
        epochs = self.plan["max_epochs"] != -1  # -1: the loop is itertools.count()
        w.line("def command_line():")
        with w.indent():
            w.docstring("The script's options (python SCRIPT --help).")
            about = f"Train {run.model.name} on {run.data.name} (run {run.name} of {self.s.file})."
            w.statement(concat("argparse.ArgumentParser", Group("(", (
                f"description={str_literal(_percent(about))}",), ")")), prefix="parser = ")
            if reads_files:
                add_data_root_option(w)
            out = _percent(f"{root}/{name}/version_N")
            self._option('"--out"', "type=Path", help=(
                f"the folder to write the run into (default: a new {out})"))
            if epochs:
                self._option('"--max-epochs"', "type=int", "default=MAX_EPOCHS", help=(
                    "how many epochs to train (default: %(default)s, the spec's)"))
            w.line("return parser.parse_args()")
        w.blank(2)
        w.line('if __name__ == "__main__":')
        with w.indent():
            w.line("args = command_line()")
            if epochs:
                w.line("MAX_EPOCHS = args.max_epochs")
            w.line("main(data_root=args.data_root, out=args.out)" if reads_files else
                   "main(out=args.out)")

    def _option(self, *items: str, help: str) -> None:
        self.w.statement(concat("parser.add_argument", Group("(", (
            *items, f"help={str_literal(help)}"), ")")))

    # ---- lr_find() ----
    def write_lr_find(self) -> None:
        w, bound = self.w, self.run.lr_find
        self.s.use("RangeTest")
        self.s.imports.add("import copy")
        w.line("def lr_find(model, train_set):")
        with w.indent():
            w.docstring("The spec's lr_find: a learning-rate range test; returns its suggestion.")
            w.comment("the weights and torch's random state are left as they were")
            w.statement(vocab_call(bound, func="RangeTest"), prefix="range_test = ",
                        span=bound.span)
            w.line("weights = copy.deepcopy(model.state_dict())")
            w.line("with torch.random.fork_rng():")
            with w.indent():
                w.line("fit(model, train_set, range_test=range_test)")
            w.line("model.load_state_dict(weights)")
            w.line("suggestion = range_test.suggestion()")
            lr = flat(literal(self.run.optimizer.values.get("lr")))
            w.line('print(f"lr_find: suggested learning rate {suggestion}")')
            w.line(f"return {lr} if suggestion is None else suggestion  # None: keep the spec's")


def _percent(text: str) -> str:
    """``text`` safe in an argparse help string (``%`` is its format character)."""
    return text.replace("%", "%%")

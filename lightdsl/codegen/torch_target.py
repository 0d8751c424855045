"""The plain-PyTorch target: the model, ``load_data()``, ``evaluate()``, an explicit ``fit()``
loop that trains exactly as lightdsl's trainer does, and ``main()``.

Only what the spec uses is written: a spec without a scheduler gets no scheduler lines, one
without accumulation no accumulation arithmetic.
"""

from __future__ import annotations

from .printer import literal, vocab_call
from .script import PRECISIONS, Plan, Script
from .writer import CodeWriter, Doc, Group, concat, flat

AUGMENTATIONS = ("random_crop", "random_flip")
DEVICES = {"cpu": "cpu", "mps": "mps", "gpu": "cuda", "cuda": "cuda"}


class TorchTarget:
    """Writes the torch script's body for one run."""

    def __init__(self, script: Script, plan: Plan, model_class: str):
        self.s, self.plan, self.model_class = script, plan, model_class
        self.w: CodeWriter = script.w
        self.run = plan.run
        self.param_dtype, self.autocast = PRECISIONS[plan.precision]
        self.has_val = self.run.data.val is not None

    # ---- constants ----
    def constants(self) -> None:
        plan, s = self.plan, self.s
        if plan["seed"] is not None:
            s.constant("SEED", plan["seed"])
        s.constant("BATCH_SIZE", plan.data["batch_size"])
        s.constant("MAX_EPOCHS", plan["max_epochs"])
        for key in ("max_steps", "accumulate_grad_batches", "gradient_clip_val",
                    "limit_train_batches", "check_val_every_n_epoch"):
            default = {"max_steps": -1, "accumulate_grad_batches": 1, "gradient_clip_val": None,
                       "limit_train_batches": 1.0, "check_val_every_n_epoch": 1}[key]
            if plan[key] != default and (key != "check_val_every_n_epoch" or self.has_val):
                s.constant(key.upper(), plan[key])

    def _const(self, key: str) -> bool:
        return any(name == key for name, _ in self.s.constants)

    # ---- evaluate() ----
    def write_evaluate(self) -> None:
        w = self.w
        w.line("def evaluate(model, data, loss_fn):")
        with w.indent():
            w.docstring("Mean loss and metrics over data, weighted by batch size, no gradients.")
            w.line("model.eval()")
            w.line("sums, seen = {}, 0")
            w.line("with torch.no_grad():")
            with w.indent():
                w.line("for inputs, labels in batches(data, BATCH_SIZE):")
                with w.indent():
                    self._forward_and_loss()
                    metrics = "".join(f", {m.name!r}: {m.name}(output, labels)"
                                      for m in self.run.metrics).replace("'", '"')
                    w.statement(f'values = {{"loss": loss{metrics}}}')
                    w.line("for name, value in values.items():")
                    with w.indent():
                        w.line("sums[name] = sums.get(name, 0.0) + float(value) * len(inputs)")
                    w.line("seen += len(inputs)")
            w.line('return {f"val_{name}": total / seen for name, total in sums.items()}')
        for metric in self.run.metrics:
            self.s.use(metric.entry.target.rsplit(".", 1)[1])

    def _forward_and_loss(self, augment: bool = False) -> None:
        w = self.w
        if augment:
            for bound in self.run.data.transforms:
                if bound.name in AUGMENTATIONS:
                    self.s.use(bound.name)
                    w.statement(vocab_call(bound, leading=("inputs",)), prefix="inputs = ")
        if self.autocast:
            w.line(f"with torch.autocast(device.type, dtype={self.autocast}):")
            self.w.level += 1
        w.line("output = model(inputs)")
        if self.plan.float_labels:
            w.line("labels = labels if labels.is_floating_point() else labels.to(output.dtype)")
        w.line("loss = loss_fn(output, labels)")
        if self.autocast:
            self.w.level -= 1

    # ---- fit() ----
    def write_fit(self) -> None:
        w, run = self.w, self.run
        w.ref(run.node.span, f"train {run.name}")
        signature = "def fit(model, train_set, val_set=None"
        if self._has_lr:
            signature += f", lr={flat(literal(run.optimizer.values['lr']))}"
        if run.lr_find is not None:
            signature += ", range_test=None"
        w.statement(signature + "):")
        with w.indent():
            w.docstring(f"Train model as the spec's train block says: {run.loss.name} loss, "
                        f"{run.optimizer.name}, {self.plan['max_epochs']} epochs.")
            self._setup()
            self._epochs()
            w.line("return model")

    def _setup(self) -> None:
        w, plan = self.w, self.plan
        if plan["seed"] is not None:
            self.s.use("seed_everything")
            w.line("seed_everything(SEED)  # as lightdsl's trainer, at the start of the run")
        w.line(f"device = {self._device()}")
        dtype = f", {self.param_dtype}" if self.param_dtype else ""
        w.line(f"model = model.to(device{dtype})")
        for name in ("train_set", "val_set") if self.has_val else ("train_set",):
            if self.param_dtype:
                move = (f"tuple(t.to(device, {self.param_dtype}) if t.is_floating_point() "
                        f"else t.to(device) for t in {name})")
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
        self._scheduler()
        self._callbacks()
        if self.autocast == "torch.float16":
            w.line('scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")')
        if plan.data["shuffle"] and plan["seed"] is None:
            self.s.imports.add("import random")
            w.line("data_seed = random.randrange(2**31)  # no seed in the spec: a new order")
        if self._needs_batch_count():
            self.s.use("num_batches")
            drop = plan.data["drop_last"]
            w.line(f"train_batches = num_batches(len(train_set[0]), BATCH_SIZE, {drop})")
            limit = plan["limit_train_batches"]
            if isinstance(limit, int) and not isinstance(limit, bool):
                w.line("train_batches = min(LIMIT_TRAIN_BATCHES, train_batches)")
            elif limit != 1.0:
                w.line("train_batches = int(train_batches * LIMIT_TRAIN_BATCHES)")
        if self._steps:
            w.line("step, metrics = 0, {}")

    @property
    def _has_lr(self) -> bool:
        return "lr" in self.run.optimizer.values

    @property
    def _steps(self) -> bool:
        """Whether fit() counts optimizer steps."""
        return bool(self._const("MAX_STEPS") or self.run.callbacks or self.run.lr_find)

    def _device(self) -> str:
        accelerator = self.plan["accelerator"]
        if accelerator == "auto":
            self.s.use("auto_device")
            return "auto_device()"
        return f'torch.device("{DEVICES.get(accelerator, "cuda")}")'

    def _needs_batch_count(self) -> bool:
        onecycle = self.run.scheduler is not None and self.run.scheduler.name == "onecycle" \
            and self.run.scheduler.values["total_steps"] is None
        return onecycle or self._const("ACCUMULATE_GRAD_BATCHES") \
            or self._const("LIMIT_TRAIN_BATCHES")

    def _scheduler(self) -> None:
        bound = self.run.scheduler
        if bound is None:
            return
        self.w.ref(bound.span, "scheduler")
        extra = ()
        if bound.name == "onecycle" and bound.values["total_steps"] is None:
            extra = ("total_steps=train_batches * MAX_EPOCHS",)  # lightdsl's default
        call = vocab_call(bound, leading=("optimizer",), trailing=extra)
        self.w.statement(call, prefix="scheduler = ")

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
        w.line(f"for epoch in {epochs}:")
        with w.indent():
            w.line("model.train()")
            w.line("total, seen = 0.0, 0")
            self._batches()
            self._end_epoch()

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
            if self._const("MAX_STEPS"):
                w.line("if step == MAX_STEPS:")
                with w.indent():
                    w.line("break")

    def _backward_and_step(self) -> None:
        w = self.w
        accumulate = self._const("ACCUMULATE_GRAD_BATCHES")
        loss = "loss / ACCUMULATE_GRAD_BATCHES" if accumulate else "loss"
        scaled = f"scaler.scale({loss})" if self.autocast == "torch.float16" else \
            (f"({loss})" if accumulate else loss)
        w.line(f"{scaled}.backward()")
        if accumulate:
            w.line("last = batch_idx + 1 == train_batches")
            w.line("if (batch_idx + 1) % ACCUMULATE_GRAD_BATCHES == 0 or last:")
            with w.indent():
                self._optimizer_step()
        else:
            self._optimizer_step()

    def _optimizer_step(self) -> None:
        w, plan = self.w, self.plan
        fp16 = self.autocast == "torch.float16"
        if fp16:
            w.line("scaler.unscale_(optimizer)")
        if plan["gradient_clip_val"]:
            how = "norm" if plan["gradient_clip_algorithm"] == "norm" else "value"
            w.line(f"torch.nn.utils.clip_grad_{how}_(params, GRADIENT_CLIP_VAL)")
        if self.run.lr_find is not None:
            w.line("if range_test is not None:  # lr_find: this step's learning rate")
            with w.indent():
                w.line("optimizer.param_groups[0][\"lr\"] = range_test.lr(step)")
        if fp16:
            w.line("scaler.step(optimizer)")
            w.line("scaler.update()")
        else:
            w.line("optimizer.step()")
        w.line("optimizer.zero_grad(set_to_none=True)")
        if self.run.scheduler and self.run.scheduler.entry.extra.get("interval") == "step":
            self._scheduler_step()
        if self._steps:
            w.line("step += 1")
        if self.run.lr_find is not None:
            loss = "loss / ACCUMULATE_GRAD_BATCHES" if self._const("ACCUMULATE_GRAD_BATCHES") \
                else "loss"
            w.line(f"if range_test is not None and range_test.record(step, {loss}):")
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
        keep = self._steps
        if not keep:
            w.line('metrics = {"train_loss_epoch": float(total) / seen}')
        else:
            w.line('metrics["train_loss_epoch"] = float(total) / seen')
        validated = False
        if self.has_val:
            if self._const("CHECK_VAL_EVERY_N_EPOCH"):
                w.line("validate = (epoch + 1) % CHECK_VAL_EVERY_N_EPOCH == 0")
                w.line("if validate and val_set is not None:")
                with w.indent():
                    w.line("metrics.update(evaluate(model, val_set, loss_fn))")
                validated = "validate"
            else:
                w.line("if val_set is not None:")
                with w.indent():
                    w.line("metrics.update(evaluate(model, val_set, loss_fn))")
                validated = "val_set is not None"
        if run.scheduler and run.scheduler.entry.extra.get("interval") == "epoch":
            self._scheduler_step()
        w.line('print(f"epoch {epoch}", *(f"{k} {v:.6g}" for k, v in metrics.items()))')
        for bound in run.callbacks:
            if bound.name == "checkpoint":
                w.line("checkpoint.save(model, metrics)")
        for bound in run.callbacks:
            if bound.name == "early_stopping":
                check = "early_stopping.should_stop(metrics)"
                if isinstance(validated, str):
                    check = f"{validated} and {check}"
                w.line(f"if {check}:")
                with w.indent():
                    w.line("break")
        if self._const("MAX_STEPS"):
            w.line("if step == MAX_STEPS:")
            with w.indent():
                w.line("break")

    # ---- main() ----
    def write_main(self, model_call: str) -> None:
        w = self.w
        w.line("def main():")
        with w.indent():
            w.docstring("Load the data, build the model, train it; returns the trained model.")
            if self.plan["seed"] is not None:
                self.s.use("seed_everything")
                w.line("seed_everything(SEED)  # the same initial weights on every run")
            w.line("train_set, val_set = load_data()")
            w.line(f"model = {model_call}")
            if self.run.lr_find is not None:
                w.line("lr = lr_find(model, train_set)")
                w.line("return fit(model, train_set, val_set, lr=lr)")
            else:
                w.line("return fit(model, train_set, val_set)")

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

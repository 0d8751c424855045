"""The pytorch-lightning target: the model as a LightningModule (training_step, validation_step,
configure_optimizers), the data as a LightningDataModule, and ``pl.Trainer(...)`` with the
spec's settings, which keep Lightning's names."""

from __future__ import annotations

from ..run_settings import max_epochs
from .data import write_data
from .metrics import inputs_lines, is_matrix, is_open, task_line, update_args, write_metric_dict
from .printer import Namer, literal, vocab_call
from .script import Plan, Script, add_data_root_option
from .writer import Group, concat, flat

NOT_TRAINER_ARGS = {"model", "data", "loss", "optimizer", "scheduler", "metrics", "callbacks",
                    "logger", "seed", "device_stats"}


class LightningTarget:
    """Writes the lightning script's body for one run."""

    def __init__(self, script: Script, plan: Plan, model_writer, model_call: str):
        self.s, self.plan, self.w = script, plan, script.w
        self.run = plan.run
        self.model, self.model_call = model_writer, model_call
        self.data_class = script.globals(plan.run.data.name.title().replace("_", "") + "Data")
        # the class's own attributes: never one of the spec's param or layer names
        own = Namer(set(plan.run.model.params) | set(plan.run.model.layers))
        self.loss_attr, self.lr_attr = own("loss_fn"), own("learning_rate")
        # one set of metric objects per stage, as Lightning recommends
        self.metric_attrs = {stage: own(f"{stage}_metrics") for stage in ("train", "val")}

    def write(self) -> None:
        s, plan = self.s, self.plan
        if plan["seed"] is not None:
            s.constant("SEED", plan["seed"])
        s.constant("BATCH_SIZE", plan.data["batch_size"])
        s.imports |= {"import torch", "from torch import nn", "import pytorch_lightning as pl"}
        self.model.base = "pl.LightningModule"
        self.model.write(self._init_extra, self._methods)
        self.w.blank(2)
        self.reads_files = write_data(self.run.data, s).reads_files
        self.w.blank(2)
        self._datamodule()
        self.w.blank(2)
        self._main()

    # ---- the LightningModule's parts ----
    def _init_extra(self) -> None:
        w = self.w
        w.statement(vocab_call(self.run.loss), prefix=f"self.{self.loss_attr} = ",
                    span=self.run.loss.span)
        if self.run.metrics:
            self.s.imports.add("import torchmetrics")
            stages = ("train", "val") if self.run.data.val is not None else ("train",)
            for stage in stages:
                if is_open(self.run):  # the task comes from the model's output
                    w.line(f"self.{self.metric_attrs[stage]} = nn.ModuleDict()  "
                           "# filled at the first batch")
                else:
                    write_metric_dict(w, self.run, f"self.{self.metric_attrs[stage]}",
                                      wrap="nn.ModuleDict")
        if "lr" in self.run.optimizer.values:
            lr = flat(literal(self.run.optimizer.values["lr"]))
            w.line(f"self.{self.lr_attr} = {lr}  # what lr_find tunes")

    def _methods(self) -> None:
        self._step("training_step", "train", augment=True)
        if self.run.data.val is not None:
            self._step("validation_step", "val")
        self._matrix_hooks()
        self._configure_optimizers()

    def _step(self, name: str, prefix: str, augment: bool = False) -> None:
        w = self.w
        w.blank()
        w.line(f"def {name}(self, batch, batch_idx):")
        with w.indent():
            w.line("inputs, labels = batch")
            for bound in self.run.data.transforms if augment else ():
                if bound.entry.augment:
                    self.s.use(bound.name)
                    w.statement(vocab_call(bound, leading=("inputs",)), prefix="inputs = ")
            w.line("output = self(inputs)")
            if self.plan.float_labels:
                w.line("labels = labels if labels.is_floating_point() else "
                       "labels.to(output.dtype).reshape(output.shape)")
            w.line(f"loss = self.{self.loss_attr}({self.plan.loss_scores(self.s)}, labels)")
            # training metrics per step and as epoch means (train_loss_epoch), as lightdsl logs
            epoch = ("on_step=True", "on_epoch=True") if prefix == "train" else ()
            w.statement(concat("self.log", Group("(", (f'"{prefix}_loss"', "loss",
                                                       "prog_bar=True", *epoch), ")")))
            self._metric_updates(prefix, epoch)
            if prefix == "train":
                w.line("return loss")

    def _metric_updates(self, prefix: str, epoch: tuple) -> None:
        """Update the stage's metrics with the batch; log the scalar ones (Lightning computes
        them over the epoch and resets them); a matrix is logged at the epoch's end."""
        w, run = self.w, self.run
        if not run.metrics:
            return
        self.s.use("metric_inputs")
        attr = self.metric_attrs[prefix]
        if is_open(run):
            self.s.use("metric_task")
            w.line(task_line(run))
            w.line(f"if not len(self.{attr}):")
            with w.indent():
                write_metric_dict(w, run, None, wrap=f"self.{attr}.update")
                w.line(f"self.{attr}.to(output.device)")
        for line in inputs_lines(run):
            w.line(line)
        for metric in run.metrics:
            obj = f'self.{attr}["{metric.name}"]'
            if is_matrix(metric):
                w.line(f"{obj}.update({update_args(run, metric)})")
                continue
            call = f"{obj}({update_args(run, metric)})" if prefix == "train" else \
                f"{obj}.update({update_args(run, metric)})"
            w.line(call)
            # made at the first batch: Lightning's list of metric attributes predates them
            named = (f'metric_attribute="{attr}.{metric.name}"',) if is_open(run) else ()
            w.statement(concat("self.log", Group("(", (f'"{prefix}_{metric.name}"', obj,
                                                       *epoch, *named), ")")))

    def _matrix_hooks(self) -> None:
        """``on_<stage>_epoch_end``: a confusion matrix as a picture in TensorBoard."""
        matrices = [m for m in self.run.metrics if is_matrix(m)]
        if not matrices:
            return
        self.s.use("matrix_image")
        stages = [("train", "on_train_epoch_end", "_epoch")]
        if self.run.data.val is not None:
            stages.append(("val", "on_validation_epoch_end", ""))
        for stage, hook, suffix in stages:
            w = self.w
            w.blank()
            w.line(f"def {hook}(self):")
            with w.indent():
                for metric in matrices:
                    obj = f'self.{self.metric_attrs[stage]}["{metric.name}"]'
                    w.line(f"matrix = {obj}.compute().cpu().numpy()")
                    w.line(f"{obj}.reset()")
                    w.line('experiment = getattr(self.logger, "experiment", None)')
                    w.line('if hasattr(experiment, "add_image"):  # TensorBoard')
                    with w.indent():
                        w.statement(concat("experiment.add_image", Group("(", (
                            f'"{stage}_{metric.name}{suffix}"', "matrix_image(matrix)",
                            "self.global_step", 'dataformats="HWC"'), ")")))

    def _configure_optimizers(self) -> None:
        w, run = self.w, self.run
        w.blank()
        w.line("def configure_optimizers(self):")
        with w.indent():
            w.line("params = [p for p in self.parameters() if p.requires_grad]")

            def value(name: str):
                if name == "lr":
                    return f"self.{self.lr_attr}"
                return literal(run.optimizer.values[name], tuples=True)

            optimizer = vocab_call(run.optimizer, value, leading=("params",),
                                   trailing=() if "lr" in run.optimizer.nodes else
                                   (f"lr=self.{self.lr_attr}",) if "lr" in run.optimizer.values
                                   else ())
            w.statement(optimizer, prefix="optimizer = ", span=run.optimizer.span)
            if run.scheduler is None:
                w.line("return optimizer")
                return
            extra = ()
            steps_arg = run.scheduler.entry.run_steps_default(run.scheduler.values)
            if steps_arg:  # the run's optimizer steps (accumulation, limits, max_steps)
                extra = (f"{steps_arg}=self.trainer.estimated_stepping_batches",)
            scheduler = vocab_call(run.scheduler, leading=("optimizer",), trailing=extra)
            w.statement(scheduler, prefix="scheduler = ", span=run.scheduler.span)
            interval = run.scheduler.entry.interval
            config = Group("{", ('"scheduler": scheduler', f'"interval": "{interval}"'), "}")
            w.statement(Group("{", ('"optimizer": optimizer', concat('"lr_scheduler": ', config)),
                              "}"), prefix="return ")

    # ---- data and main ----
    def _datamodule(self) -> None:
        w, data = self.w, self.plan.data
        self.s.use("data_loader")
        w.line(f"class {self.data_class}(pl.LightningDataModule):")
        with w.indent():
            w.docstring(f"The data {self.run.data.name} of the spec, batched as lightdsl does.")
            if self.reads_files:
                self.s.use("read_data")
                w.blank()
                w.line("def __init__(self, data_root=SPEC_DIR):")
                with w.indent():
                    w.line("super().__init__()")
                    w.line("self.data_root = Path(data_root)  # where relative paths start")
            w.blank()
            w.line("def setup(self, stage=None):")
            with w.indent():
                w.line("self.train_set, self.val_set = read_data(load_data, self.data_root)"
                       if self.reads_files else "self.train_set, self.val_set = load_data()")
            w.blank()
            w.line("def train_dataloader(self):")
            args = ["self.train_set", "BATCH_SIZE"]
            if data["shuffle"]:
                seed = "SEED" if self.plan["seed"] is not None else "random.randrange(2**31)"
                if self.plan["seed"] is None:
                    self.s.imports.add("import random")
                args += ["shuffle=True", f"seed={seed}"]
            if data["drop_last"]:
                args.append("drop_last=True")
            with w.indent():
                w.statement(concat("data_loader", Group("(", tuple(args), ")")), prefix="return ")
            if self.run.data.val is not None:
                w.blank()
                w.line("def val_dataloader(self):")
                with w.indent():
                    w.line("return data_loader(self.val_set, BATCH_SIZE)")

    def _suggestion(self, bound) -> None:
        """``suggestion = finder.suggestion()``, or fastai's rule on the finder's curve where
        the spec's lr_find chose one (Lightning has only the steepest slope)."""
        rule = bound.values.get("suggestion", "steepest")
        if rule == "steepest":
            self.w.line("suggestion = finder.suggestion()")
            return
        self.s.use("suggest")
        self.w.line(f'found = suggest("{rule}", finder.results["lr"], finder.results["loss"], '
                    f"{bound.values['num_training']})")
        self.w.line("suggestion = None if found is None else found[0]")

    def _trainer_args(self) -> tuple:
        plan, run = self.plan, self.run
        args = []
        for key, value in plan.run.settings.values.items():
            if key in NOT_TRAINER_ARGS or not plan.written(key):
                continue
            value = max_epochs(value) if key == "max_epochs" else value
            args.append(f"{key}={flat(literal(value, tuples=True))}")
        calls = tuple(vocab_call(b, func="pl.callbacks." + b.entry.target.rsplit(".", 1)[1])
                      for b in run.callbacks)
        if plan["device_stats"] is True:  # lightdsl's setting is Lightning's callback
            calls += ("pl.callbacks.DeviceStatsMonitor()",)
        if calls:
            args.append(concat("callbacks=", Group("[", calls, "]")))
        if plan.written("logger"):
            logger = "False" if run.logger is None else vocab_call(
                run.logger, func="pl.loggers." + run.logger.entry.target.rsplit(".", 1)[1])
            args.append(concat("logger=", logger))
        return tuple(args)

    def _lr_find(self) -> None:
        """The learning-rate finder's lines in main(): its suggestion becomes the lr."""
        w, run = self.w, self.run
        if self.plan["seed"] is not None:
            # lightdsl's range test starts from the seed too (dropout's masks)
            w.line("pl.seed_everything(SEED)")
        w.ref(run.lr_find.span, "lr_find")
        attr = () if self.lr_attr == "learning_rate" else (f'attr_name="{self.lr_attr}"',)
        find = vocab_call(_lightning_lr_find(run.lr_find),
                          func="pl.tuner.Tuner(trainer).lr_find",
                          leading=("model",), trailing=("datamodule=data", *attr))
        w.statement(find, prefix="finder = ")
        self._suggestion(run.lr_find)
        w.line("if suggestion is not None:  # None: keep the spec's lr, as lightdsl does")
        with w.indent():
            w.line(f"model.{self.lr_attr} = suggestion")

    def _main(self) -> None:
        w, run = self.w, self.run
        w.line("def main(ckpt_path=None, data_root=SPEC_DIR, **trainer_args):"
               if self.reads_files else "def main(ckpt_path=None, **trainer_args):")
        with w.indent():
            w.docstring("Train with the spec's settings (plus trainer_args); returns the model.")
            w.line("# ckpt_path: resume from a checkpoint of this script or of `lightdsl train`")
            if self.plan["seed"] is not None:
                w.line("pl.seed_everything(SEED)")
            w.line(f"model = {self.model_call}")
            w.line(f"data = {self.data_class}({'data_root' if self.reads_files else ''})")
            trainer = concat("pl.Trainer", Group("(", (*self._trainer_args(), "**trainer_args"),
                                                 ")"))
            w.statement(trainer, prefix="trainer = ", span=run.node.span)
            if run.lr_find is not None:
                # a resume keeps the checkpoint's learning rate (its optimizer state), as
                # `lightdsl train --resume` does
                w.line("if ckpt_path is None:")
                with w.indent():
                    self._lr_find()
            if self.plan["seed"] is not None:
                # as lightdsl's trainer: seeded again at the start of the run, so that dropout
                # and augmentation draw the same numbers as `lightdsl train`
                w.line("pl.seed_everything(SEED)")
            w.line("trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)")
            w.line("return model")
        w.blank(2)
        if self.reads_files:
            self._command_line()
            w.blank(2)
        w.line('if __name__ == "__main__":')
        with w.indent():
            w.line("main(data_root=command_line().data_root)" if self.reads_files else "main()")

    def _command_line(self) -> None:
        """``command_line()``: --data-root (Trainer settings are the spec's, or main()'s)."""
        w = self.w
        self.s.imports.add("import argparse")
        w.line("def command_line():")
        with w.indent():
            w.docstring("The script's options (python SCRIPT --help).")
            w.line("parser = argparse.ArgumentParser()")
            add_data_root_option(w)
            w.line("return parser.parse_args()")


def write_lightning(script: Script, plan: Plan, parts) -> list[str]:
    """Write the lightning script's body; returns its docstring lines."""
    writer, model_call = parts
    target = LightningTarget(script, plan, writer, model_call)
    target.write()
    run = plan.run
    lines = [f"{run.model.name} on {run.data.name}, from {script.file} (run {run.name}).", "",
             "Generated by `lightdsl codegen --target lightning`: a LightningModule, a",
             "LightningDataModule and a pl.Trainer with the spec's settings."]
    if target.reads_files:
        lines += ["The data's relative paths start at SPEC_DIR, the spec's folder;",
                  "python SCRIPT --data-root DIR reads them from DIR."]
    return lines


def _lightning_lr_find(bound):
    """The spec's lr_find as Lightning's ``Tuner.lr_find`` takes it: without ``suggestion``
    (lightdsl's choice of rule, applied to the finder's curve afterwards)."""
    from ..checker.binding import Bound

    nodes = {k: v for k, v in bound.nodes.items() if k != "suggestion"}
    return Bound(bound.entry, bound.values, nodes, bound.span)

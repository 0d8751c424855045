"""Names a spec may not give its params and layers.

A model's params and named layers become attributes of a ``torch.nn.Module`` (lightdsl's
compiled module, and the classes ``lightdsl codegen`` writes), so a name that module already
has (``train``, ``eval``, ``training``, ``to``, ``__dict__``...) makes torch raise while the
model is built. The lists are static so that ``lightdsl check`` stays torch-free;
tests/check/test_semantic.py asserts they cover every attribute of torch.nn.Module, of the
compiled module and of pytorch-lightning's LightningModule, so they cannot go stale silently.
The code generator's list (lightdsl/codegen/reserved.py) is built from these.

A model's hyperparameters may have any name, Python keywords included (``lambda``, ``class``):
:func:`argument_names` gives each the name of its constructor argument in a generated script,
which is also the name lightdsl's checkpoints save it under (Lightning's ``hyper_parameters``),
so that ``load_from_checkpoint`` of the script's class takes a checkpoint of either.
"""

from __future__ import annotations

import keyword


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NN_MODULE_METHODS = _words("""
_apply _call_impl _get_backward_hooks _get_backward_pre_hooks _get_name _load_from_state_dict
_maybe_warn_non_full_backward_hook _named_members _register_load_state_dict_pre_hook
_register_state_dict_hook _replicate_for_data_parallel _save_to_state_dict _slow_forward
_wrapped_call_impl add_module apply bfloat16 buffers children compile cpu cuda double eval
extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
load_state_dict modules mtia named_buffers named_children named_modules named_parameters
parameters register_backward_hook register_buffer register_forward_hook
register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
set_extra_state set_submodule share_memory state_dict to to_empty train type xpu zero_grad
""")
NN_MODULE_ATTRIBUTES = _words("""
T_destination _backward_hooks _backward_pre_hooks _buffers _compiled_call_impl _forward_hooks
_forward_hooks_always_called _forward_hooks_with_kwargs _forward_pre_hooks
_forward_pre_hooks_with_kwargs _is_full_backward_hook _load_state_dict_post_hooks
_load_state_dict_pre_hooks _modules _non_persistent_buffers_set _parameters _state_dict_hooks
_state_dict_pre_hooks _version call_super_init dump_patches training
___needs_generation_tag_patch
""")  # the last is set on nn.Module once torch.compile (dynamo) has run in the process
COMPILED_MODULE = _words("""
_build _class_scores _compiled_from _dataflow _finetuning frozen_parts part_bn part_lr_mults
set_part_frozen unfreezes _estimated_steps _float_labels _python_layers _python_loss
_stepping_batches _loader _loaders _shared_step batch_size configure_optimizers
class_names criterion data example_input_array hparams hparams_initial layers learning_rate loss_name
max_epochs spec_metrics
optimizer_bound predict_step run_settings scheduler_bound spec_name spec_source test_dataloader test_step
train_dataloader training_step val_dataloader validation_step
""")
LIGHTNING_MODULE = _words("""
CHECKPOINT_HYPER_PARAMS_KEY CHECKPOINT_HYPER_PARAMS_NAME CHECKPOINT_HYPER_PARAMS_TYPE
_LightningModule__check_allowed _LightningModule__check_not_nested _LightningModule__to_tensor
_apply_batch_transfer_handler _automatic_optimization _call_batch_hook _compiler_ctx
_current_fx_name _device _device_mesh _dtype _example_input_array _fabric _fabric_optimizers
_jit_is_scripting _log_dict_through_fabric _log_hyperparams _metric_attributes
_on_before_batch_transfer _param_requires_grad_state _set_hparams _strict_loading
_to_hparams_dict _trainer _verify_is_manual_optimization all_gather
allow_zero_length_dataloader_with_multiple_devices automatic_optimization backward
clip_gradients configure_callbacks configure_gradient_clipping configure_model
configure_sharded_model current_epoch device device_mesh dtype fabric freeze global_rank
global_step hparams_initial load_from_checkpoint local_rank log log_dict logger loggers
lr_scheduler_step lr_schedulers manual_backward on_after_backward on_after_batch_transfer
on_before_backward on_before_batch_transfer on_before_optimizer_step on_before_zero_grad
on_fit_end on_fit_start on_gpu on_load_checkpoint on_predict_batch_end on_predict_batch_start
on_predict_end on_predict_epoch_end on_predict_epoch_start on_predict_model_eval
on_predict_start on_save_checkpoint on_test_batch_end on_test_batch_start on_test_end
on_test_epoch_end on_test_epoch_start on_test_model_eval on_test_model_train on_test_start
on_train_batch_end on_train_batch_start on_train_end on_train_epoch_end on_train_epoch_start
on_train_start on_validation_batch_end on_validation_batch_start on_validation_end
on_validation_epoch_end on_validation_epoch_start on_validation_model_eval
on_validation_model_train on_validation_model_zero_grad on_validation_start optimizer_step
optimizer_zero_grad optimizers predict_dataloader prepare_data prepare_data_per_node print
remove_ignored_hparams save_hyperparameters setup strict_loading teardown to_onnx to_tensorrt
to_torchscript toggle_optimizer toggled_optimizer trainer transfer_batch_to_device unfreeze
untoggle_optimizer
""") | _words("""
configure_optimizers example_input_array hparams predict_step test_dataloader test_step
train_dataloader training_step val_dataloader validation_step
""")  # hooks the compiled module defines too (reserved_reason names it first)


def reserved_reason(name: str) -> str | None:
    """Why a param or layer cannot be called ``name`` (it becomes an attribute of the model's
    module), or None. Python keywords are fine: the code generator renames them."""
    if name.startswith("__") and name.endswith("__"):
        return "names of the form __name__ belong to Python's object model"
    if name in NN_MODULE_METHODS:
        return "it is a method of torch.nn.Module"
    if name in NN_MODULE_ATTRIBUTES:
        return "it is an attribute of torch.nn.Module"
    if name in COMPILED_MODULE:
        return "lightdsl's compiled module uses it (for training, data or hyperparameters)"
    if name in LIGHTNING_MODULE:
        return "it is an attribute of pytorch-lightning's LightningModule (codegen --target " \
            "lightning)"
    return None


# Names a generated script uses for itself (modules, builtins it calls), and names ruff flags
# (E741): a spec name equal to one of them gets another name in the script.
SCRIPT_NAMES = _words("""
self torch nn F np pl math random super print len range float int tuple list dict l O I
""")


def free_name(name: str, taken) -> str:
    """``name``, or ``name_`` (``name__``, ...) where it is a Python keyword or in ``taken``."""
    while keyword.iskeyword(name) or name in taken:
        name += "_"
    return name


def argument_names(hypers) -> dict[str, str]:
    """Each hyperparameter's name as a constructor argument of the generated model class (and
    a key of its hparams): its own where that is a valid name the script does not use itself
    (:data:`SCRIPT_NAMES`), else with trailing underscores (``lambda`` -> ``lambda_``) that
    collide with no other hyperparameter's name."""
    hypers = list(hypers)
    safe = {h for h in hypers if not keyword.iskeyword(h) and h not in SCRIPT_NAMES}
    names, taken = {h: h for h in hypers if h in safe}, SCRIPT_NAMES | safe
    for hyper in hypers:
        if hyper not in names:
            names[hyper] = free_name(hyper, taken)
            taken = taken | {names[hyper]}
    return {h: names[h] for h in hypers}

"""The bare model under an mmengine model wrapper, written once.

Hooks and the optimizer constructor read and change the model's own attributes
(``momentum_update``, ``keep_last_mix``, parameters by name); under a distributed run
``runner.model`` is a wrapper (MMDistributedDataParallel, DistributedDataParallel, DataParallel,
FSDP: whatever mmengine's ``MODEL_WRAPPERS`` registry holds) and the model is its ``.module``.
"""
from mmengine.model import is_model_wrapper


def bare_model(model):
    """``model.module`` if ``model`` is an mmengine model wrapper, else ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def runner_model(runner):
    """The bare model of ``runner`` (see :func:`bare_model`)."""
    return bare_model(runner.model)

"""mmengine hooks of segssl's self-supervised models."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segssl.core import cosine_momentum

from .runner_model import runner_model


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """After every optimizer step, update the target branch: xi <- m xi + (1 - m) theta, with m on
    a cosine schedule from ``base_momentum`` (0.99) to ``final_momentum`` (1.0) over training.
    The model must have ``momentum_update(m)``."""
    priority = 'NORMAL'

    def __init__(self, base_momentum: float = 0.99, final_momentum: float = 1.0):
        self.base_momentum, self.final_momentum = base_momentum, final_momentum

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner_model(runner)
        if not hasattr(model, 'momentum_update'):
            raise TypeError(f'MomentumUpdateHook: {type(model).__name__} has no momentum_update(m)')
        m = cosine_momentum(runner.iter + 1, runner.max_iters, self.base_momentum, self.final_momentum)
        model.momentum_update(m)
        runner.message_hub.update_scalar('train/target_momentum', m)

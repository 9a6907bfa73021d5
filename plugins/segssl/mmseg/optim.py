"""LARS in mmengine: the optimiser and the constructor that builds its two parameter groups.

``LARS`` (:mod:`segssl.core.lars`) is registered in ``mmengine.registry.OPTIMIZERS`` and
``LARSOptimWrapperConstructor`` in ``mmengine.registry.OPTIM_WRAPPER_CONSTRUCTORS``; mmseg's
registries are children of mmengine's, so both names resolve from an mmseg config.

Why a constructor and not ``paramwise_cfg``: mmengine's ``DefaultOptimWrapperConstructor`` with
``paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0)`` sets weight decay 0 on BN
parameters and biases, but it can only set ``lr`` and ``weight_decay`` per parameter
(``custom_keys`` take ``lr_mult``/``decay_mult`` only): it has no way to put the
``lars_exclude`` flag on a group, so BN weights and biases would still get the trust ratio.
``LARSOptimWrapperConstructor`` builds PixPro's two groups with
:func:`segssl.core.lars.lars_param_groups` (adapted + decayed; BN and biases excluded from both)
and otherwise behaves like the default constructor (``type`` of the wrapper, ``clip_grad``,
``accumulative_counts``, AMP ...).

The PixPro thesis (PixPro) schedule, for ``batch`` images per iteration over all GPUs, ``E`` epochs:
base lr 1.0 x batch/256, momentum 0.9, weight decay 4e-4, 5 linear warm-up epochs, then cosine
to ``eta_min`` (PixPro: 1e-6). Warm-up and cosine are mmengine's own schedulers::

    custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)
    batch = 64
    optim_wrapper = dict(
        type='OptimWrapper',
        constructor='LARSOptimWrapperConstructor',
        optimizer=dict(type='LARS', lr=1.0 * batch / 256, momentum=0.9, weight_decay=4e-4,
                       eta=0.001),
        # paramwise_cfg=dict(exclude_bn_and_bias=True),   # the default
    )
    param_scheduler = [
        # lr rises linearly from lr * start_factor to lr over 5 epochs, updated every iteration:
        # lr_i = lr * (s + (1 - s) * i / (W - 1)), i = 0 .. W-1, W = 5 epochs of iterations
        # (mmengine's LinearLR reaches end_factor at its last iteration)
        dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5,
             convert_to_iter_based=True),
        # then lr = eta_min + (lr - eta_min) * (1 + cos(pi * t / T)) / 2, t = iterations since
        # epoch 5, T = (E - 5) epochs of iterations
        dict(type='CosineAnnealingLR', T_max=E - 5, eta_min=1e-6, by_epoch=True, begin=5, end=E,
             convert_to_iter_based=True),
    ]
    train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=E)

(``start_factor=0.01`` is PixPro's ``lr / warmup_multiplier`` start, ``--warmup-multiplier 100``;
``tests/test_lars.py`` builds this schedule through mmengine and checks it against the formulas.)
Without the constructor (plain ``optimizer=dict(type='LARS', ...)``) every parameter is
adapted and decayed.
"""
from typing import Optional

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS
from torch import nn

from segssl.core.lars import LARS, lars_param_groups

from .runner_model import bare_model

__all__ = ['LARS', 'LARSOptimWrapperConstructor']

OPTIMIZERS.register_module(module=LARS)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LARSOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Build an optimiser (normally ``LARS``) on two parameter groups and wrap it.

    Groups (see :func:`segssl.core.lars.lars_param_groups`):
    ``{weight_decay: optimizer.weight_decay, lars_exclude: False}`` for conv/linear weights and
    ``{weight_decay: 0, lars_exclude: True}`` for BN parameters and biases.

    Args:
        optim_wrapper_cfg (dict): the ``optim_wrapper`` config less ``constructor`` and
            ``paramwise_cfg``; must hold ``optimizer``.
        paramwise_cfg (dict, optional): only ``exclude_bn_and_bias`` (bool, default True).
    """

    _KEYS = ('exclude_bn_and_bias', )

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        # (a paramwise_cfg that is not a dict is reported by the parent class)
        unknown = (sorted(set(paramwise_cfg) - set(self._KEYS)) if isinstance(paramwise_cfg, dict) else [])
        if unknown:
            raise ValueError(f'LARSOptimWrapperConstructor: paramwise_cfg keys {unknown} are not supported; '
                             f'expected only {list(self._KEYS)} (BN parameters and biases are already kept '
                             'out of weight decay and of the trust ratio)')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        self.exclude_bn_and_bias = bool(self.paramwise_cfg.get('exclude_bn_and_bias', True))

    def __call__(self, model: nn.Module) -> OptimWrapper:
        model = bare_model(model)  # (Distributed)DataParallel / MMDistributedDataParallel
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        optimizer_cfg = self.optimizer_cfg.copy()
        weight_decay = self.base_wd if self.base_wd is not None else 0.0
        optimizer_cfg['params'] = lars_param_groups(model, weight_decay, exclude_bn_and_bias=self.exclude_bn_and_bias)
        if not optimizer_cfg['params']:
            raise ValueError(f'LARSOptimWrapperConstructor: {type(model).__name__} has no '
                             'parameter with requires_grad=True to optimise')
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(optim_wrapper_cfg, default_args=dict(optimizer=optimizer))

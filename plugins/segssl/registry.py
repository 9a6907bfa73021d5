"""The ``segssl`` registry scope, for configs that inherit segssl's through ``segssl::``.

A user's config with ``_base_ = ['segssl::custom/...py']`` gets ``_scope_='segssl'`` on every
outer dict with a ``type`` that it inherits (mmengine's rule for a package's configs). mmengine then
imports this module and looks the scope up in its registry tree, as it does ``mmseg.registry``.
Each registry here is an empty child of mmseg's of the same name: a lookup falls through to mmseg
and from there to mmengine, where segssl's own modules are registered (``segssl.mmseg``, imported
on first use through ``locations``). So ``segssl::`` bases build exactly what the same configs
build when given by path. The mapping of the scope to the package is registered by
``segssl.mmseg.config_scope``. Only mmengine reads this module; it imports mmseg.
"""
from mmengine.registry import Registry
from mmseg import registry as _mmseg

_NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
          'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
          'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
          'INFERENCERS')


def _child(name: str) -> Registry:
    parent = getattr(_mmseg, name)
    return Registry(parent.name, parent=parent, scope='segssl', locations=['segssl.mmseg'])


globals().update({name: _child(name) for name in _NAMES if hasattr(_mmseg, name)})
__all__ = [name for name in _NAMES if name in globals()]

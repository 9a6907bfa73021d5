"""Distributed training on CPUs through mmengine's own launcher path (torchrun / ``--launcher``).

mmengine 0.10.7 only knows accelerators here: ``_init_dist_pytorch`` calls
``torch.cuda.set_device`` before ``init_process_group`` whatever the backend, and
``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to DistributedDataParallel, which torch
rejects for a CPU module; torch's SyncBatchNorm is GPU-only as well. :class:`SegsslRunner`
(``runner_type = 'SegsslRunner'``, set in ``configs/_base_/segssl_runtime.py``) changes exactly
these three steps when the run is distributed and the device is the CPU, and is mmengine's
``Runner`` otherwise (GPUs: NCCL, its own DDP wrapping and SyncBN):

1. the gloo process group is initialised before ``Runner.setup_env``, which then skips its own
   ``init_dist`` (it only initialises when ``torch.distributed`` is not initialised yet);
2. SyncBN layers become :class:`segssl.core.AllReduceSyncBatchNorm` (global batch statistics
   through gloo all-reduces);
3. the model is wrapped in ``MMDistributedDataParallel`` without ``device_ids`` and with
   mmengine's defaults otherwise (``broadcast_buffers=False``, ``find_unused_parameters`` from
   the config), or in the configured ``model_wrapper_cfg``.

On every device it also installs segssl's fault handling (segssl.mmseg.fault_handling) as
default hooks: ``non_finite_loss`` (NonFiniteLossHook, action='stop') and ``random_state``
(RandomStateHook) unless ``default_hooks`` names them (None removes them, as it removes any
hook of the schedules, e.g. ``per_class_metrics``), and a checkpoint
hook of type 'CheckpointHook' runs as AtomicCheckpointHook with the same arguments. When that
NonFiniteLossHook skips (``action='skip'``), an ``OptimWrapper`` / ``AmpOptimWrapper`` (mmseg's
``--amp``) is built as its skipping variant (NonFiniteSkip[Amp]OptimWrapper).

The global batch: a config's ``auto_scale_lr.base_batch_size`` holds the global batch its
learning rate is set for (the launch shape in its name, ``{gpus}xb{batch per GPU}``). When the
run's world size times ``train_dataloader.batch_size`` differs and ``auto_scale_lr.enable`` is
off, the runner says so in one warning line naming ``--auto-scale-lr`` (see
:func:`global_batch_note`); with it on, mmengine scales the learning rate and logs the ratio.
"""
import datetime
import os

import torch.distributed as dist
from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.hooks import CheckpointHook
from mmengine.model import MMDistributedDataParallel, convert_sync_batchnorm, is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from segssl.core import convert_sync_batchnorm_any_device

from .fault_handling import SKIPPING_VARIANT, NonFiniteLossHook


def init_cpu_process_group(launcher: str, dist_cfg: dict) -> None:
    """Initialise the default process group with gloo for a CPU run started by ``launcher``.

    'pytorch' (torchrun) reads RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT from the
    environment, as mmengine does; ``dist_cfg['timeout']`` (seconds, default 1800) is kept."""
    if launcher != 'pytorch':
        raise ValueError(f'SegsslRunner: distributed training on the CPU needs --launcher pytorch '
                         f'(torchrun); got launcher={launcher!r}')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch: environment variables {missing} are not set; '
                           'start the run with torchrun --nproc_per_node=N tools/train.py ...')
    timeout = datetime.timedelta(seconds=dist_cfg.get('timeout', 1800))
    dist.init_process_group(backend='gloo', timeout=timeout)


def global_batch_note(world_size: int, batch_size: int, auto_scale_lr) -> str:
    """One line when ``world_size`` x ``batch_size`` is not the config's global batch
    (``auto_scale_lr.base_batch_size``) and the learning rate is not scaled; '' otherwise."""
    if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr or auto_scale_lr.get('enable', False):
        return ''
    base, real = int(auto_scale_lr['base_batch_size']), int(world_size) * int(batch_size)
    if real == base:
        return ''
    keep = (f'train_dataloader.batch_size={base // world_size}' if base %
            world_size == 0 else f'a per-GPU batch whose product with {world_size} processes is {base}')
    return (f'global batch {real} ({world_size} process(es) x {batch_size}) differs from the '
            f'{base} this config\'s learning rate is set for (auto_scale_lr.base_batch_size); '
            f'the lr is not scaled: pass --auto-scale-lr to scale it by {real}/{base}, or set '
            f'{keep} to keep the global batch')


# the hooks mmengine's Runner.register_default_hooks adds unless given None
MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'logger', 'param_scheduler', 'checkpoint', 'sampler_seed')


@RUNNERS.register_module()
class SegsslRunner(Runner):
    """mmengine's Runner, plus distributed training on CPUs (gloo); see the module docstring."""

    def _distributed_on_cpu(self) -> bool:
        return self.distributed and get_device() == 'cpu'

    def register_default_hooks(self, hooks=None) -> None:
        hooks = dict(hooks or {})
        hooks.setdefault('non_finite_loss', dict(type='NonFiniteLossHook', action='stop'))
        hooks.setdefault('random_state', dict(type='RandomStateHook'))
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))
        if isinstance(checkpoint, dict) and checkpoint.get('type') in ('CheckpointHook', CheckpointHook):
            hooks['checkpoint'] = dict(checkpoint, type='AtomicCheckpointHook')
        # None removes a hook, as mmengine has it for its own defaults (which it removes itself);
        # also segssl's and the schedules' (per_class_metrics, visualization, ...)
        for name in [n for n, h in hooks.items() if h is None and n not in MMENGINE_DEFAULT_HOOKS]:
            del hooks[name]
        super().register_default_hooks(hooks)

    def build_optim_wrapper(self, optim_wrapper):
        skips = any(isinstance(h, NonFiniteLossHook) and h.action == 'skip' for h in self.hooks)
        if skips and isinstance(optim_wrapper, dict) and 'optimizer' in optim_wrapper:
            kind = optim_wrapper.get('type', 'OptimWrapper')
            if kind in SKIPPING_VARIANT:
                optim_wrapper = type(optim_wrapper)(optim_wrapper, type=SKIPPING_VARIANT[kind])
        return super().build_optim_wrapper(optim_wrapper)

    def scale_lr(self, optim_wrapper, auto_scale_lr=None) -> None:
        loader = self._train_dataloader
        batch = loader.batch_size if hasattr(loader, 'batch_size') else (loader or {}).get('batch_size')
        note = global_batch_note(self.world_size, batch, auto_scale_lr) if batch else ''
        if note:
            self.logger.warning(note)
        return super().scale_lr(optim_wrapper, auto_scale_lr)

    def setup_env(self, env_cfg: dict) -> None:
        if self._distributed_on_cpu() and not is_distributed():
            init_cpu_process_group(self.launcher, env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if not self._distributed_on_cpu() or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        model = model.to('cpu')
        if self.cfg.get('sync_bn', None) is not None:
            model = convert_sync_batchnorm(model, self.cfg.sync_bn)
        model = convert_sync_batchnorm_any_device(model)
        if model_wrapper_cfg is None:
            return MMDistributedDataParallel(module=model, broadcast_buffers=False,
                                             find_unused_parameters=self.cfg.get('find_unused_parameters', False))
        cfg = dict(model_wrapper_cfg)
        cfg.setdefault('type', 'MMDistributedDataParallel')
        return MODEL_WRAPPERS.build(cfg, default_args=dict(module=model))

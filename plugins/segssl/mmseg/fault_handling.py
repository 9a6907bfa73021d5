"""Fault handling for every segssl runner: non-finite losses, checkpoints that survive a kill,
and the main process's random state across ``--resume``.

- :class:`NonFiniteLossHook` reads the loss terms the model returned (mmengine's ``log_vars``,
  e.g. ``loss``, ``decode.loss_ce``, ``loss_unsup``) after every training iteration. On a
  non-finite term it stops with ``FloatingPointError('non-finite loss at iteration I: rank R:
  term=nan, ...')`` before the checkpoint hook runs (so no corrupted checkpoint is written), or,
  with ``action='skip'``, logs the same message and lets :class:`NonFiniteSkipOptimWrapper`
  drop that step. All ranks take the same decision (one all-reduce of a flag per iteration).
- :class:`NonFiniteSkipOptimWrapper` skips ``optimizer.step()`` while any gradient is
  non-finite (gradients are checked after DDP's all-reduce, so every rank skips together).
- :class:`AtomicCheckpointHook` is mmengine's CheckpointHook, except that a checkpoint and the
  ``last_checkpoint`` pointer are written to a temporary file and renamed into place, and the
  checkpoint that ``max_keep_ckpts`` retires is deleted only after the new one is in place
  (mmengine's deletes it first and writes in place, so a kill while saving can leave nothing).
- :class:`RandomStateHook` stores the main process's RNG states in each checkpoint and puts
  them back when a resumed run reaches that position. For iteration-based loops, mmengine
  replays the skipped batches through the data loader, which reproduces the sampler position
  and the pipeline's numpy/python draws (in the workers, seeded by mmengine's worker_init_fn,
  or in the main process with num_workers=0); the hook then restores the torch state.
"""
import math
import os
import os.path as osp
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, all_reduce, get_rank, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.registry import OPTIM_WRAPPERS
from mmseg.registry import HOOKS

from segssl.convert.atomic import atomic_outputs

ATOMIC_BACKEND = 'segssl_atomic_local'


def non_finite_terms(log_vars) -> dict:
    """{name: value} of the loss entries of ``log_vars`` (names containing 'loss', as mmengine
    sums them; tensors or numbers) that are NaN or inf; the total ``loss`` only when no single
    term is named."""
    bad = {}
    for name, value in (log_vars or {}).items():
        if 'loss' not in name:
            continue                     # accuracies etc. are logged, not optimised
        if isinstance(value, torch.Tensor):
            if value.numel() and not bool(torch.isfinite(value.detach()).all()):
                bad[name] = value.detach().float().mean().item()
        elif isinstance(value, (int, float)) and not math.isfinite(value):
            bad[name] = float(value)
    if len(bad) > 1:
        bad.pop('loss', None)
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop (``action='stop'``) or skip the step (``action='skip'``, needs
    ``optim_wrapper.type='NonFiniteSkipOptimWrapper'``) on a non-finite loss term, naming the
    iteration (1-based, as mmengine's logs count), the rank and the term(s)."""
    priority = 'ABOVE_NORMAL'      # before MomentumUpdateHook / EMA hooks and CheckpointHook

    def __init__(self, action: str = 'stop'):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook action={action!r}: expected 'stop' or 'skip'")
        self.action = action

    def before_train(self, runner) -> None:
        if self.action == 'skip' and not isinstance(runner.optim_wrapper, NonFiniteSkipOptimWrapper):
            raise ValueError("NonFiniteLossHook(action='skip') needs optim_wrapper=dict("
                             "type='NonFiniteSkipOptimWrapper', ...) to skip the optimizer step; "
                             f'the config builds {type(runner.optim_wrapper).__name__}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        bad = non_finite_terms(outputs)
        flag = torch.tensor([1.0 if bad else 0.0])
        all_reduce(flag, op='max')
        if flag.item() == 0:
            return
        per_rank = all_gather_object((get_rank(), bad))
        where = '; '.join(f'rank {r}: ' + ', '.join(f'{k}={v}' for k, v in terms.items())
                          for r, terms in per_rank if terms)
        message = f'non-finite loss at iteration {runner.iter + 1}: {where}'
        runner.message_hub.update_info('non_finite_loss', message)
        if self.action == 'stop':
            raise FloatingPointError(message + ' (training stopped; the last checkpoint is unaffected)')
        runner.logger.warning(message + ' (optimizer step skipped)')


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(OptimWrapper):
    """OptimWrapper that does not step while a gradient is NaN or inf; ``skipped_steps`` counts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped_steps = 0

    def step(self, **kwargs) -> None:
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
            self.skipped_steps += 1
            return
        super().step(**kwargs)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put``/``put_text`` write a temporary file in the
    destination folder and rename it over the destination (complete or absent, never half)."""

    def put(self, obj: bytes, filepath) -> None:
        with atomic_outputs(str(filepath)) as (tmp,):
            with open(tmp, 'wb') as f:
                f.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook (same arguments), writing atomically and retiring old
    checkpoints only after the new one is complete. Local directories use
    :class:`AtomicLocalBackend`; other ``backend_args`` (remote stores) are passed through."""

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if self.backend_args is None and self.file_client_args is None and '://' not in str(out_dir):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)

    def _save_checkpoint_with_step(self, runner, step, meta):
        retired: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                retired = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                               save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta,
                               by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        AtomicLocalBackend().put_text(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        if retired is not None and retired != step:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(retired))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)


def _numpy_state(saved):
    """``np.random.set_state``'s tuple from what RandomStateHook saved (a dict of a tensor and
    numbers; checkpoints written before that hold the tuple itself)."""
    if not isinstance(saved, dict):
        return saved
    return (saved['bit_generator'], saved['key'].cpu().numpy().astype(np.uint32), saved['pos'],
            saved['has_gauss'], saved['cached_gaussian'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the main process's RNG states (torch, CUDA, numpy, python) in every checkpoint
    (``checkpoint['segssl_rng_state']``, rank 0's: with mmengine's default
    ``diff_rank_seed=False`` all ranks draw the same stream) and put them back when a resumed
    run reaches the checkpoint's position, so models that draw random numbers in their step
    (dropout, PixPro's ``batch_affine``, ClassMix masks) continue as an uninterrupted run:

    - iteration-based loops replay the skipped batches through the data loader first (which
      redoes the pipeline's numpy/python draws): the torch state is restored at the first
      iteration after the replay;
    - epoch-based loops resume at an epoch boundary without replay: all states are restored at
      ``before_train_epoch``, before the data loader's iterator is created.
    """
    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # tensors and plain numbers only: torch.load(weights_only=True) reads them
        name, key, pos, has_gauss, cached = np.random.get_state()
        state = dict(torch=torch.get_rng_state(), python=random.getstate(),
                     numpy=dict(bit_generator=name, key=torch.from_numpy(key.astype(np.int64)),
                                pos=int(pos), has_gauss=int(has_gauss), cached_gaussian=float(cached)))
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['segssl_rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('segssl_rng_state')
        # a resumed run starts at the checkpoint's meta['iter'] (iteration- or epoch-based)
        self._pending = None if state is None else (checkpoint.get('meta', {}).get('iter'), state)

    def before_train_epoch(self, runner) -> None:
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            self._restore(runner, all_states=True)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._restore(runner, all_states=False)

    def _restore(self, runner, all_states: bool) -> None:
        pending, self._pending = self._pending, None
        if pending is None or runner.iter != pending[0]:
            return           # a fine-tuning load_from, or a checkpoint without the state
        state = pending[1]
        if runner._randomness_cfg.get('diff_rank_seed', False) and os.environ.get('WORLD_SIZE', '1') != '1':
            runner.logger.warning('RandomStateHook: diff_rank_seed=True; rank 0\'s RNG state is '
                                  'not restored on the other ranks')
            if get_rank() != 0:
                return
        # mmengine loads checkpoints onto the current device: RNG states must be CPU ByteTensors
        torch.set_rng_state(state['torch'].cpu())
        if 'cuda' in state and torch.cuda.is_available() and len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
        if all_states:
            np.random.set_state(_numpy_state(state['numpy']))
            random.setstate(state['python'])

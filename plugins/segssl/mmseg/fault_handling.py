"""Fault handling for every segssl runner: non-finite losses, checkpoints that survive a kill,
and (:mod:`.random_state`) every rank's random state across ``--resume``.

- :class:`NonFiniteLossHook` reads the loss terms the model returned (mmengine's ``log_vars``,
  e.g. ``loss``, ``decode.loss_ce``, ``loss_unsup``) after every training iteration. On a
  non-finite term it stops with ``FloatingPointError('non-finite loss at iteration I: rank R:
  term=nan, ...')`` before the checkpoint hook runs (so no corrupted checkpoint is written), or,
  with ``action='skip'``, logs the same message and lets the skipping optimizer wrapper drop
  that step. All ranks take the same decision (one all-reduce of a flag per iteration).
- :class:`NonFiniteSkipOptimWrapper` skips ``optimizer.step()`` while any gradient is
  non-finite (gradients are checked after DDP's all-reduce, so every rank skips together);
  :class:`NonFiniteSkipAmpOptimWrapper` is the same for mixed precision (mmseg's ``--amp``).
  A :class:`segssl.mmseg.runner.SegsslRunner` whose NonFiniteLossHook has ``action='skip'``
  builds one of the two in place of ``OptimWrapper`` / ``AmpOptimWrapper``, so a config keeps
  ``type='OptimWrapper'`` and ``--amp`` still works.
- :class:`AtomicCheckpointHook` is mmengine's CheckpointHook, except that a checkpoint and the
  ``last_checkpoint`` pointer are written to a temporary file and renamed into place, and the
  checkpoint that ``max_keep_ckpts`` retires is deleted only after the new one is in place
  (mmengine's deletes it first and writes in place, so a kill while saving can leave nothing).
- The random state across ``--resume``: :class:`.random_state.RandomStateHook`.
"""
import math
import os
import os.path as osp
import shutil

import torch
from mmengine.dist import all_gather_object, all_reduce, get_rank, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmseg.registry import HOOKS

from segssl.io.atomic import atomic_outputs, temporary_folder

ATOMIC_BACKEND = 'segssl_atomic_local'


def non_finite_terms(log_vars) -> dict:
    """{name: value} of the loss entries of ``log_vars`` (names containing 'loss', as mmengine
    sums them; tensors or numbers) that are NaN or inf; the total ``loss`` only when no single
    term is named."""
    bad = {}
    for name, value in (log_vars or {}).items():
        if 'loss' not in name:
            continue  # accuracies etc. are logged, not optimised
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
    """Stop (``action='stop'``) or skip the step (``action='skip'``) on a non-finite loss term,
    naming the iteration (1-based, as mmengine's logs count), the rank and the term(s). Skipping
    needs a skipping optimizer wrapper: SegsslRunner builds it; another runner needs
    ``optim_wrapper.type`` 'NonFiniteSkipOptimWrapper' or 'NonFiniteSkipAmpOptimWrapper'."""
    priority = 'ABOVE_NORMAL'  # before MomentumUpdateHook / EMA hooks and CheckpointHook

    def __init__(self, action: str = 'stop'):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook action={action!r}: expected 'stop' or 'skip'")
        self.action = action

    def before_train(self, runner) -> None:
        if self.action == 'skip' and not isinstance(runner.optim_wrapper, SKIPPING_WRAPPERS):
            raise ValueError("NonFiniteLossHook(action='skip') needs optim_wrapper=dict("
                             "type='NonFiniteSkipOptimWrapper' (or 'NonFiniteSkipAmpOptimWrapper'), "
                             "...) to skip the optimizer step, or runner_type='SegsslRunner', which "
                             f'builds it; the config builds {type(runner.optim_wrapper).__name__}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        bad = non_finite_terms(outputs)
        flag = torch.tensor([1.0 if bad else 0.0])
        all_reduce(flag, op='max')
        if flag.item() == 0:
            return
        per_rank = all_gather_object((get_rank(), bad))
        where = '; '.join(f'rank {r}: ' + ', '.join(f'{k}={v}' for k, v in terms.items()) for r, terms in per_rank
                          if terms)
        message = f'non-finite loss at iteration {runner.iter + 1}: {where}'
        runner.message_hub.update_info('non_finite_loss', message)
        if self.action == 'stop':
            raise FloatingPointError(message + ' (training stopped; the last checkpoint is unaffected)')
        runner.logger.warning(message + ' (optimizer step skipped)')


def _gradients_finite(optimizer) -> bool:
    """True when every gradient of ``optimizer``'s parameters is finite (one host sync)."""
    grads = [p.grad for group in optimizer.param_groups for p in group['params'] if p.grad is not None]
    return not grads or bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(OptimWrapper):
    """OptimWrapper that does not step while a gradient is NaN or inf; ``skipped_steps`` counts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped_steps = 0

    def step(self, **kwargs) -> None:
        if not _gradients_finite(self.optimizer):
            self.skipped_steps += 1
            return
        super().step(**kwargs)


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipAmpOptimWrapper(AmpOptimWrapper):
    """AmpOptimWrapper (mmseg's ``--amp``) that does not step on a NaN or inf gradient.

    The gradients are checked before the step, as in :class:`NonFiniteSkipOptimWrapper` (scaled
    gradients are finite exactly when the unscaled ones are). An active GradScaler (CUDA) is
    still given the step: it skips the optimizer step on such gradients itself and lowers a
    dynamic scale. Where the scaler is disabled (autocast on the CPU, bfloat16) the step is not
    taken at all. ``skipped_steps`` counts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped_steps = 0

    def step(self, **kwargs) -> None:
        finite = _gradients_finite(self.optimizer)
        if not finite:
            self.skipped_steps += 1
        if finite or self.loss_scaler.is_enabled():
            super().step(**kwargs)


SKIPPING_WRAPPERS = (NonFiniteSkipOptimWrapper, NonFiniteSkipAmpOptimWrapper)
# the wrapper a runner builds for the given type when its NonFiniteLossHook skips
SKIPPING_VARIANT = {
    'OptimWrapper': 'NonFiniteSkipOptimWrapper',
    OptimWrapper: 'NonFiniteSkipOptimWrapper',
    'AmpOptimWrapper': 'NonFiniteSkipAmpOptimWrapper',
    AmpOptimWrapper: 'NonFiniteSkipAmpOptimWrapper'
}


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put``/``put_text`` write a temporary file in the
    destination folder and rename it over the destination (complete or absent, never half)."""

    def put(self, obj: bytes, filepath) -> None:
        with atomic_outputs(str(filepath)) as (tmp, ):
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
        # runner.save_checkpoint runs on rank 0 only: what a hook needs from every rank for the
        # checkpoint (RandomStateHook: each rank's random state) is collected here, on all ranks
        for hook in runner.hooks:
            if callable(getattr(hook, 'gather_for_checkpoint', None)):
                hook.gather_for_checkpoint(runner)
        # mmengine's own step, with two things deferred until the checkpoint is whole: the
        # removal of the checkpoint it retires (recorded by _DeferredRemovals), and its plain
        # open() of WORK_DIR/last_checkpoint (made in a temporary folder, then renamed into place)
        backend, self.file_backend = self.file_backend, _DeferredRemovals(self.file_backend)
        pointer_dir = temporary_folder(runner.work_dir, '.last_checkpoint.') if is_main_process() else None
        try:
            super()._save_checkpoint_with_step(_WorkDirAt(runner, pointer_dir) if pointer_dir else runner, step, meta)
            if pointer_dir is not None:
                pointer = osp.join(pointer_dir, 'last_checkpoint')
                with open(pointer, 'rb') as f:  # on disk before it replaces the old pointer
                    os.fsync(f.fileno())
                os.replace(pointer, osp.join(runner.work_dir, 'last_checkpoint'))
                self.file_backend.run_removals(keep=self.last_ckpt)
        finally:
            self.file_backend = backend
            if pointer_dir is not None:
                shutil.rmtree(pointer_dir, ignore_errors=True)


class _DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` are recorded instead of done, and done by
    :meth:`run_removals` (everything else is the wrapped backend's)."""

    def __init__(self, backend):
        self._backend = backend
        self._removals = []

    def remove(self, path) -> None:
        self._removals.append(('remove', path))

    def rmtree(self, path) -> None:
        self._removals.append(('rmtree', path))

    def run_removals(self, keep) -> None:
        for op, path in self._removals:
            if path != keep:
                getattr(self._backend, op)(path)

    def __getattr__(self, name):
        return getattr(self._backend, name)


class _WorkDirAt:
    """The runner, with ``work_dir`` elsewhere (where mmengine's CheckpointHook writes its
    ``last_checkpoint`` pointer); every other attribute is the runner's own."""

    def __init__(self, runner, work_dir: str):
        self._runner = runner
        self.work_dir = work_dir

    def __getattr__(self, name):
        return getattr(self._runner, name)

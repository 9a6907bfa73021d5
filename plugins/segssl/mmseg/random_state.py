"""Every rank's random state across ``--resume`` (:class:`RandomStateHook`), and the per-rank
seed of the random streams models draw from in their training step (:func:`rank_seed`).

Each rank draws its own stream: ClassMix / DACS masks, CutMix boxes, CowMix noise, class
choices, jitter and blur come from a generator seeded ``seed + rank``, so the GPUs of one run do
not all draw the same masks for their different images. A checkpoint holds rank 0's states at
the top level of ``checkpoint['segssl_rng_state']`` (the keys of single-process checkpoints) and
the other ranks' under ``'other_ranks'``; on resume each rank restores its own.

For iteration-based loops mmengine replays the skipped batches through the data loader, which
reproduces the sampler position and the pipeline's numpy/python draws (in the workers, seeded by
mmengine's worker_init_fn, or in the main process with num_workers=0); the hook then restores the
torch state and the models' generators at the first iteration after the replay. Epoch-based
loops resume at an epoch boundary without replay: all states are restored at
``before_train_epoch``, before the data loader's iterator is created.
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmseg.registry import HOOKS

from .runner_model import runner_model


def rank_seed(seed: int) -> int:
    """The seed of this rank's stream: ``seed + rank`` (``seed`` in one process)."""
    return int(seed) + get_rank()


def _numpy_state(saved):
    """``np.random.set_state``'s tuple from what RandomStateHook saved (a dict of a tensor and
    numbers; checkpoints written before that hold the tuple itself)."""
    if not isinstance(saved, dict):
        return saved
    return (saved['bit_generator'], saved['key'].cpu().numpy().astype(np.uint32), saved['pos'], saved['has_gauss'],
            saved['cached_gaussian'])


def _generators(runner):
    """``{module name: torch.Generator}`` of the model's modules that draw from one (ClassMix,
    DACS: ``module.generator``)."""
    if runner is None:
        return {}
    return {
        name: m.generator
        for name, m in runner_model(runner).named_modules()
        if isinstance(getattr(m, 'generator', None), torch.Generator)
    }


def _own_state(runner) -> dict:
    # tensors and plain numbers only: torch.load(weights_only=True) reads them
    name, key, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        torch=torch.get_rng_state(), python=random.getstate(),
        numpy=dict(bit_generator=name, key=torch.from_numpy(key.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(cached)), generators={
                       n: g.get_state()
                       for n, g in _generators(runner).items()
                   })
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save every rank's RNG states (torch, CUDA, numpy, python, the model's generators) in every
    checkpoint and put each rank's back when a resumed run reaches the checkpoint's position, so
    models that draw random numbers in their step (dropout, PixPro's ``batch_affine``, ClassMix
    masks) continue as an uninterrupted run. Resumed with another number of ranks, the ranks
    the checkpoint has no state for keep their fresh streams (a warning says so)."""
    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._gathered = None

    def gather_for_checkpoint(self, runner) -> None:
        """Called on every rank by segssl's AtomicCheckpointHook just before a checkpoint is
        saved (``before_save_checkpoint`` runs on rank 0 only): collect every rank's state."""
        if get_world_size() > 1:
            self._gathered = all_gather_object(_own_state(runner))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        gathered, self._gathered = self._gathered, None
        if gathered:
            state = dict(gathered[0], other_ranks=gathered[1:])
        else:  # one process (or a checkpoint hook that does not gather): this rank's
            state = _own_state(runner)
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
            return  # a fine-tuning load_from, or a checkpoint without the state
        saved, rank = pending[1], get_rank()
        others = saved.get('other_ranks', [])
        if rank > len(others):
            runner.logger.warning(f'RandomStateHook: the checkpoint holds the random states of '
                                  f'{len(others) + 1} rank(s); rank {rank} keeps its fresh stream')
            return
        state = saved if rank == 0 else others[rank - 1]
        # mmengine loads checkpoints onto the current device: RNG states must be CPU ByteTensors
        torch.set_rng_state(state['torch'].cpu())
        if 'cuda' in state and torch.cuda.is_available() and len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
        generators = _generators(runner)
        for name, g_state in state.get('generators', {}).items():
            if name in generators:
                try:
                    generators[name].set_state(g_state.cpu())
                except RuntimeError as e:  # saved by another device type's generator (CPU <-> CUDA)
                    runner.logger.warning(f'RandomStateHook: the saved state of {name or "the model"}.generator '
                                          f'does not fit its {generators[name].device.type} generator '
                                          f'({str(e).splitlines()[0]}); it keeps its fresh stream')
        if all_states:
            np.random.set_state(_numpy_state(state['numpy']))
            random.setstate(state['python'])

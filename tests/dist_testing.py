"""Helpers of the distributed / resume / fault tests: hooks (imported in-process and, through
``custom_imports`` with tests/ on PYTHONPATH, by runs of tools/train.py in a subprocess) and
``run_ranks``, which forks N ranks with the environment torchrun gives them (the forked ranks
reuse the test process's imports, so a 2-process run costs seconds, not torchrun's start-up)."""
import multiprocessing
import os
import signal
import socket
import traceback

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module(force=True)
class KillWhileSavingHook(Hook):
    """SIGKILL this process as the checkpoint of iteration ``at_iter`` starts being written."""

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def before_save_checkpoint(self, runner, checkpoint):
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module(force=True)
class RecordRankHook(Hook):
    """Record this rank's loss terms every iteration and, after training, save them with the
    model's state dict to ``out_dir/rank{R}.pt``."""
    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir, self.log = out_dir, []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.log.append({k: float(v) for k, v in outputs.items()})

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(dict(log=self.log, state={k: v.detach().clone() if torch.is_tensor(v) else v
                                                   for k, v in model.state_dict().items()}),
                   os.path.join(self.out_dir, f'rank{get_rank()}.pt'))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_entry(rank, world, port, fn, args):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_WORLD_SIZE=str(world), MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    try:
        fn(*args)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def run_ranks(fn, world: int, *args, timeout: float = 240.0):
    """Fork ``world`` processes running ``fn(*args)`` as ranks 0..world-1 of a torchrun-like
    environment; return their exit codes (None for one still running at ``timeout``, then killed)."""
    ctx = multiprocessing.get_context('fork')
    port = free_port()
    procs = [ctx.Process(target=_rank_entry, args=(r, world, port, fn, args)) for r in range(world)]
    for p in procs:
        p.start()
    codes = []
    for p in procs:
        p.join(timeout)
        codes.append(p.exitcode)
        if p.exitcode is None:
            p.kill()
            p.join()
    return codes

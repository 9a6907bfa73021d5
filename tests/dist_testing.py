"""Helpers of the distributed / resume / fault tests: hooks (imported in-process and, through
``custom_imports`` with tests/ on PYTHONPATH, by runs of tools/train.py in a subprocess) and
``run_ranks``, which starts N ranks with the environment torchrun gives them.

Why the harness owns the teardown, and spawns (issue 16). The hang of
``test_allreduce_sync_bn_equals_batchnorm_on_the_whole_batch`` was a deadlock inside
``dist.destroy_process_group()`` (gdb on both hung ranks, torch 2.1.2): the main thread, holding
the GIL, runs ``~ProcessGroupGloo`` and joins gloo's worker threads; a worker that has just
finished the last collective drops that work's tensors while holding the work mutex, and
freeing a tensor with a live Python object needs the GIL, so it waits for the main thread, which
waits for it. Whether a worker still holds the last work when the group is destroyed is a
matter of microseconds, hence the randomness (and its link to where pytest's output went).
So no rank tears its process group down: every rank waits until all ranks have finished their
function, then all leave at once through ``os._exit`` (no destructor runs; the kernel closes
the sockets). A rank function must not call ``destroy_process_group``. The ranks are spawned
interpreters, not forks of the large, multi-threaded pytest process (a fork inherits locks held
by threads that do not exist in the child, and torch's and OpenMP's thread-pool state), at
about 2 s of start-up per call. The parent watches the ranks: a rank still busy ``straggle``
seconds after another finished, or any rank at ``timeout``, has its Python stacks dumped
(faulthandler, SIGUSR1) before it is killed, and the error says which rank it was and where it was stuck."""
import faulthandler
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import time
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
        torch.save(
            dict(log=self.log, state={
                k: v.detach().clone() if torch.is_tensor(v) else v
                for k, v in model.state_dict().items()
            }), os.path.join(self.out_dir, f'rank{get_rank()}.pt'))


def train_from_cfg(cfg):
    """Build the config's runner and train (a rank function of :func:`run_ranks`). A spawned rank
    has not parsed the config file, so its ``custom_imports`` are imported here first."""
    from mmengine.utils import import_modules_from_strings
    from mmseg.registry import RUNNERS
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    RUNNERS.build(cfg).train()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class RankHang(AssertionError):
    """A rank of :func:`run_ranks` did not finish; the message holds its Python stacks."""


def _done_file(folder, rank):
    return os.path.join(folder, f'done{rank}')


def _started_file(folder, rank):
    return os.path.join(folder, f'started{rank}')


STARTUP_LIMIT = 300.0  # s a spawned interpreter may take to reach its function (imports)


def _rank_entry(rank, world, port, folder, fn, args, exit_wait):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    stacks = open(os.path.join(folder, f'stacks{rank}.txt'), 'w')
    faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True)
    open(_started_file(folder, rank), 'w').close()  # from here on SIGUSR1 dumps, not kills
    torch.set_num_threads(1)
    code = 0
    try:
        fn(*args)
    except BaseException:  # noqa: BLE001 - the exit code and the printed traceback report it
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    tmp = _done_file(folder, rank) + '.tmp'
    with open(tmp, 'w') as f:
        f.write(str(code))
    os.replace(tmp, _done_file(folder, rank))
    # leave together: a finished rank keeps its sockets open until every rank has finished, so
    # no peer is ever tearing down against a closed connection. A failed rank leaves at once:
    # its peers, blocked in a collective, then get gloo's 'connection closed' and fail too.
    if code == 0:
        end = time.monotonic() + exit_wait
        while time.monotonic() < end and not all(os.path.exists(_done_file(folder, r)) for r in range(world)):
            time.sleep(0.02)
    os._exit(code)  # no atexit handlers or destructors (no process-group teardown)


def _stacks(folder, rank, proc):
    """SIGUSR1 makes the rank's faulthandler write every thread's Python stack; read it back."""
    try:
        os.kill(proc.pid, signal.SIGUSR1)
    except ProcessLookupError:
        return '(the process had already exited)'
    path, text = os.path.join(folder, f'stacks{rank}.txt'), ''
    for _ in range(25):  # the dump is written from the signal handler: up to 5 s
        time.sleep(0.2)
        text = open(path).read()
        if text:
            time.sleep(0.3)  # let the dump of the other threads finish
            return open(path).read()
    return '(no stack dump: the rank did not answer SIGUSR1)'


def run_ranks(fn, world: int, *args, timeout: float = 240.0, straggle: float = 60.0):
    """Run ``fn(*args)`` as ranks 0..world-1 of a torchrun-like environment, each in a freshly
    spawned interpreter (``fn`` and ``args`` must pickle: a module-level function of a test module
    does). Return the ranks' exit codes: 0 when ``fn`` returned, 1 when it raised (its traceback
    is printed to the rank's stderr).

    Raises:
        RankHang: a rank was still running ``timeout`` s after every rank had started (its
            interpreter up, its stack dump armed), or ``straggle`` s after another rank had
            finished and it had started (a peer that left or failed never gets to a collective),
            or did not exit once every rank had finished, or did not start within
            ``STARTUP_LIMIT`` s. The message names the rank, what it was doing and its Python
            stacks, dumped before it was killed. The clocks start only once ranks have started,
            so a loaded machine's slow interpreter start-up is not taken for a hang.
    """
    ctx = multiprocessing.get_context('spawn')
    port = free_port()
    with tempfile.TemporaryDirectory(prefix='ranks-') as folder:
        procs = [
            ctx.Process(target=_rank_entry, args=(r, world, port, folder, fn, args, straggle), name=f'rank{r}')
            for r in range(world)
        ]
        start = time.monotonic()
        for p in procs:
            p.start()
        first_done = all_started = None
        started_at = [None] * world
        stuck, why = [], ''
        while any(p.is_alive() for p in procs):
            now = time.monotonic()
            done = [os.path.exists(_done_file(folder, r)) for r in range(world)]
            for r in range(world):
                if started_at[r] is None and os.path.exists(_started_file(folder, r)):
                    started_at[r] = now
            if all_started is None and all(t is not None for t in started_at):
                all_started = now
            if any(done) and first_done is None:
                first_done = now
            waiting = [r for r in range(world) if procs[r].is_alive() and not done[r]]
            if all_started is None and now - start > STARTUP_LIMIT:
                stuck = [r for r in range(world) if procs[r].is_alive()]
                why = (f'alive {STARTUP_LIMIT:.0f} s after the ranks were spawned, ranks '
                       f'{[r for r in range(world) if started_at[r] is None]} never reached '
                       'their function')
            elif all_started is not None and now - all_started > timeout:
                stuck, why = [r for r in range(world)
                              if procs[r].is_alive()], f'still running after the {timeout:.0f} s timeout'
            elif first_done is not None and any(
                    started_at[r] is not None and now - max(first_done, started_at[r]) > straggle for r in waiting):
                stuck = [
                    r for r in waiting if started_at[r] is not None and now - max(first_done, started_at[r]) > straggle
                ]
                why = f'still in its function {straggle:.0f} s after another rank had finished'
            elif all(done) and now - first_done > straggle:
                stuck = [r for r in range(world) if procs[r].is_alive()]
                why = f'had finished its function but not exited {straggle:.0f} s after the first rank finished'
            if stuck:
                break
            time.sleep(0.05)
        if stuck:
            report = [
                f'{len(stuck)} of {world} ranks of {getattr(fn, "__qualname__", fn)} hung; '
                f'exit codes so far {[p.exitcode for p in procs]}'
            ]
            for r in stuck:
                report.append(f'--- rank {r} (pid {procs[r].pid}) {why}; its stacks (most recent call first):\n' +
                              (_stacks(folder, r, procs[r]) if started_at[r] is not None else
                               '(none: it had not reached its function, so no stack dump was armed)'))
            for p in procs:
                if p.is_alive():
                    p.kill()
                p.join()
            raise RankHang('\n'.join(report))
        for p in procs:
            p.join()
        return [p.exitcode for p in procs]

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = dict(num_train=6, num_val=3, height=64, width=128, seed=0)


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small synthetic dataset shared by the tests that only read it."""
    from segssl.synthetic import generate
    out = tmp_path_factory.mktemp('data') / 'synthetic'
    generate(str(out), **SMALL)
    return str(out)


@pytest.fixture
def float64_default():
    """Compute in float64 for tests that compare against references at 1e-10; then restore."""
    import torch
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def run_tool(args, cwd=ROOT, timeout=900, env=None):
    """Run a command-line tool with this interpreter; return the CompletedProcess (text)."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2', **(env or {}))
    return subprocess.run([sys.executable] + list(args), cwd=cwd, env=full_env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def load_ckpt(path):
    """A checkpoint file as data, on every torch: an mmengine checkpoint holds a HistoryBuffer,
    which torch >= 2.6's default ``torch.load(weights_only=True)`` refuses; segssl's restricted
    unpickler reads it (and nothing that could run code)."""
    from segssl.convert.loading import load_checkpoint_file
    return load_checkpoint_file(str(path))


def train_quickstart_two_iterations(work, visualizer_name):
    """2 iterations of the synthetic quickstart config through mmseg's train.py, in-process,
    validated at iteration 2 (SEGSSL_DATA_ROOT set by the caller); returns the exit code."""
    from segssl.mmseg.tools import run_mmseg_tool
    argv = sys.argv[:]
    try:
        return run_mmseg_tool('train.py', [os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py'),
                                           '--work-dir', str(work), '--cfg-options',
                                           'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                                           'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2',
                                           'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
                                           f'visualizer.name={visualizer_name}'])
    finally:
        sys.argv = argv

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

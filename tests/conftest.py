import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = dict(num_train=6, num_val=3, height=64, width=128, seed=0)

# ---- the mmseg stack ------------------------------------------------------------------------------
# One definition of "mmseg is here" for every test file. A file that mixes core-only and mmseg
# tests marks the latter ``@requires_mmseg``; a file that needs mmseg throughout (at import time
# too) calls ``skip_without_mmseg()`` at its top, and a test whose first part needs no mmseg
# calls it where its mmseg part starts. ``find_spec`` does not import mmseg, so collecting a
# core-only run stays fast.
MMSEG_REASON = 'the mmseg stack is built by `make setup`'
HAVE_MMSEG = importlib.util.find_spec('mmseg') is not None
requires_mmseg = pytest.mark.skipif(not HAVE_MMSEG, reason=MMSEG_REASON)


def skip_without_mmseg():
    """Without mmseg: at a module's top, skip the module; inside a test, skip the rest of it.
    With mmseg: return the mmseg module."""
    __tracebackhide__ = True  # a skip report names the caller, not this line
    if not HAVE_MMSEG:
        pytest.skip(MMSEG_REASON, allow_module_level=True)
    import mmseg
    return mmseg


@pytest.fixture(scope='module')
def fast_mmseg_base_lookup():
    """Resolve ``mmseg::`` bases without mmengine's metafile scan, in the modules that use it.

    For every ``mmseg::<path>`` base, mmengine's ``_get_external_cfg_path`` reads all ~100 of
    mmseg's metafile yamls looking for a model entry (0.3-3 s a base), fails with ValueError for
    a base config, and falls back to the package's config folder. The answer does not change
    within a test run, so: a ``_base_/...`` path (never a metafile entry) gets that ValueError at
    once, and any other path's outcome, ValueError included, is remembered. Restored after the
    module. (Patches a private mmengine function: test speed only, nothing in segssl relies on it.)"""
    from mmengine.config import config as mm_config
    original, memo = mm_config._get_external_cfg_path, {}

    def lookup(package_path, cfg_file):
        if cfg_file.startswith('_base_/'):
            raise ValueError(cfg_file)
        key = (package_path, cfg_file)
        if key not in memo:
            try:
                memo[key] = (original(package_path, cfg_file), None)
            except ValueError as e:
                memo[key] = (None, e)
        if memo[key][1] is not None:
            raise memo[key][1]
        return memo[key][0]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mm_config, '_get_external_cfg_path', lookup)
        yield


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
    return subprocess.run([sys.executable] + list(args), cwd=cwd, env=full_env, timeout=timeout, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def trainings_in(stdout):
    """The ``$ ... tools/train.py`` lines a headline tool printed: the trainings it started (not reused)."""
    return [line for line in stdout.splitlines() if line.startswith('$ ') and 'tools/train.py' in line]


def randomise_state(sd, batches_tracked):
    """Fill a model's state dict in place with random weights and BN statistics (torch's global
    generator, seeded by the caller): a stand-in 'pretrained' file; returns ``sd``."""
    for k, v in sd.items():
        if k.endswith('num_batches_tracked'):
            v.fill_(batches_tracked)
        elif k.endswith('running_var'):
            v.uniform_(0.5, 2)
        elif v.dtype.is_floating_point:
            v.normal_(0, 0.1)
    return sd


def load_ckpt(path):
    """A checkpoint file as data, on every torch: an mmengine checkpoint holds a HistoryBuffer,
    which torch >= 2.6's default ``torch.load(weights_only=True)`` refuses; segssl's restricted
    unpickler reads it (and nothing that could run code)."""
    from segssl.io import load_checkpoint_file
    return load_checkpoint_file(str(path))


def train_quickstart_two_iterations(work, visualizer_name):
    """2 iterations of the synthetic quickstart config through mmseg's train.py, in-process,
    validated at iteration 2 (SEGSSL_DATA_ROOT set by the caller); returns the exit code."""
    from segssl.mmseg.tools import run_mmseg_tool
    argv = sys.argv[:]
    try:
        return run_mmseg_tool('train.py', [
            os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py'), '--work-dir',
            str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
            'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
            f'visualizer.name={visualizer_name}'
        ])
    finally:
        sys.argv = argv

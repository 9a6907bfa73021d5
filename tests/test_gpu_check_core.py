"""Tier 1 of the GPU acceptance check (tools/gpu_check_core.py) on the CPU, quick sizes: every
check passes and reports its keys, a wrong comparison raises, and the module imports no framework."""
import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import gpu_check_core  # noqa: E402

KEYS = {'max_abs_diff', 'tolerance', 'timed', 'ms'}


def test_checks_are_named_once():
    names = [name for name, _ in gpu_check_core.CHECKS]
    assert len(names) == len(set(names)) and len(names) >= 9


@pytest.mark.parametrize('name', [name for name, _ in gpu_check_core.CHECKS])
def test_check_passes_on_cpu_quick(name):
    fn = dict(gpu_check_core.CHECKS)[name]
    result = fn(torch.device('cpu'), True)
    assert KEYS <= set(result), result
    assert isinstance(result['timed'], str) and result['timed']
    assert 0.0 <= result['max_abs_diff'] <= result['tolerance'], result
    assert result['ms'] > 0, result


def test_wrong_comparison_raises():
    a = torch.zeros(3, 4)
    b = a.clone()
    b[1, 2] = 1e-3
    assert gpu_check_core.assert_close('same', a, a.clone(), 0.0) == 0.0
    with pytest.raises(AssertionError, match=r'^wrong: max \|device - cpu\| = 0.001 exceeds'):
        gpu_check_core.assert_close('wrong', a, b, 1e-4)
    with pytest.raises(AssertionError, match='shape'):
        gpu_check_core.assert_close('shape', a, a[:2], 1.0)
    with pytest.raises(AssertionError, match='exceeds'):  # NaN on one side only
        gpu_check_core.assert_close('nan', a, torch.full_like(a, float('nan')), 1.0)
    # gradients are compared relative to the CPU gradient's peak, however small it is
    with pytest.raises(AssertionError, match='exceeds'):
        gpu_check_core.assert_close('grad', {'grad': a + 1e-6}, {'grad': a + 2e-6}, 1e-4)


def test_imports_no_framework():
    code = ("import sys; sys.path.insert(0, 'tools'); import gpu_check_core; "
            "bad=[m for m in sys.modules if m.split('.')[0] in "
            "('mmengine','mmseg','mmcv','detectron2','torchvision')]; assert not bad, bad")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'plugins'), OMP_NUM_THREADS='2')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, timeout=300, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout

"""tools/gpu_check.py (make gpu-check): the refusal without a GPU, and a CPU rehearsal of both
tiers that writes the report (tier 2 with one runner: the rest run the same code)."""
import os

import pytest
from conftest import ROOT, run_tool

torch = pytest.importorskip('torch')


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
def test_without_a_gpu_it_stops_at_once_with_one_line(tmp_path):
    out = tmp_path / 'gpu_check.md'
    r = run_tool(['tools/gpu_check.py', '--out', str(out)], timeout=120)
    assert r.returncode == 2
    assert 'gpu_check: error: no CUDA device here' in r.stdout and '--device cpu' in r.stdout
    assert 'Traceback' not in r.stdout and not out.exists()


def test_cpu_rehearsal_of_tier_1_reports_every_check(tmp_path):
    import sys
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import gpu_check_core
    out = tmp_path / 'gpu_check.md'
    r = run_tool(['tools/gpu_check.py', '--device', 'cpu', '--quick', '--tier', '1', '--out', str(out)], timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    text = out.read_text()
    n = len(gpu_check_core.CHECKS)
    assert f'- result: {n} passed, 0 FAIL, 0 skipped' in text
    rows = [line for line in text.splitlines() if line.startswith('| 1 |')]
    assert [row.split(' | ')[1] for row in rows] == [name for name, _ in gpu_check_core.CHECKS]
    assert all(' passed ' in row for row in rows)


def test_cpu_rehearsal_of_a_tier_2_runner(tmp_path):
    out, scratch = tmp_path / 'gpu_check.md', tmp_path / 'tmp'
    scratch.mkdir()
    r = run_tool(
        ['tools/gpu_check.py', '--device', 'cpu', '--tier', '2', '--iters', '2', '--only', 'DACS', '--out',
         str(out)], timeout=900, env={'TMPDIR': str(scratch)})
    assert r.returncode == 0, r.stdout[-3000:]
    assert os.listdir(scratch) == []  # the runs' work folder is removed when every check passed
    rows = {line.split(' | ')[1]: line for line in out.read_text().splitlines() if line.startswith('| 2 |')}
    assert set(rows) == {'DACS', 'DACS --amp'}
    assert ' passed | ' in rows['DACS'] and '2 iterations, loss' in rows['DACS']
    assert ' skipped | ' in rows['DACS --amp'] and 'AMP needs CUDA' in rows['DACS --amp']


def test_bad_iterations_are_refused(tmp_path):
    r = run_tool(['tools/gpu_check.py', '--device', 'cpu', '--iters', '1', '--out',
                  str(tmp_path / 'x.md')], timeout=120)
    assert r.returncode == 2 and 'gpu_check: error: --iters 1: expected at least 2' in r.stdout

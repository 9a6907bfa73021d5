"""Per-class IoU in scalars.json and tools/plot_mmseg_metrics.py (issue 18): PerClassMetricsHook
adds IoU.<class> / Acc.<class> equal to a hand count to what IoUMetric returns; the tool reads a
2-iteration run (work dir, NAME=, a scalars.json), writes the figure and prints exactly the
per-class values of scalars.json; bad input is one line, exit 2."""
import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import cv2
import pytest
import torch
from conftest import ROOT, skip_without_mmseg

from segssl.runs import mmengine_scalars, scalars_files

skip_without_mmseg()
TOOL = os.path.join(ROOT, 'tools', 'plot_mmseg_metrics.py')


def test_per_class_metrics_are_mmsegs_areas_by_hand():
    """3 classes on one 2 x 4 image, one pixel ignored (255), one label-1 pixel predicted 0.
    Class 0: pred 3 px, label 2, overlap 2 -> IoU 2/3, Acc 2/2; class 1: pred 4, label 5,
    overlap 4 -> IoU 4/5, Acc 4/5; class 2: in neither (union 0) -> NaN."""
    import segssl.mmseg  # noqa: F401  (registers the hook)
    # isort: split
    from mmseg.evaluation import IoUMetric

    from segssl.mmseg.metrics import PerClassMetricsHook
    pred = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
    label = torch.tensor([[0, 0, 1, 1], [1, 1, 255, 1]])
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    results = [metric.intersect_and_union(pred, label, 3, 255)]
    plain = metric.compute_metrics(results)
    other = SimpleNamespace()  # not an IoUMetric: left alone
    evaluator = SimpleNamespace(metrics=[metric, other])
    PerClassMetricsHook._wrap(evaluator)
    PerClassMetricsHook._wrap(evaluator)  # every validation calls before_val: wrapped once
    out = metric.compute_metrics(results)
    assert {k: out[k] for k in plain} == plain  # mIoU, mAcc, aAcc unchanged (mmseg's, maybe float32)
    assert out['IoU.a'] == round(100 * 2 / 3, 2) == 66.67 and out['Acc.a'] == 100.0
    assert out['IoU.b'] == 80.0 and out['Acc.b'] == 80.0
    assert math.isnan(out['IoU.c']) and math.isnan(out['Acc.c'])
    assert sorted(out) == sorted(list(plain) + [f'{m}.{c}' for m in ('IoU', 'Acc') for c in 'abc'])
    assert plain['mIoU'] == pytest.approx(round((2 / 3 + 4 / 5) / 2 * 100, 2), abs=1e-4)
    assert plain['aAcc'] == pytest.approx(round(6 / 7 * 100, 2), abs=1e-4)
    assert all(type(out[k]) is float for k in out if '.' in k)
    assert vars(other) == {}


def run_plot(*args):
    env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable, TOOL, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)


def parse_tables(stdout):
    """Markdown tables of the tool: {column header: {row name: value}}."""
    out, header = {}, None
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')] if line.startswith('|') else None
        if not cells:
            header = None
        elif header is None:
            header = cells
        elif not set(cells[0]) <= {'-'}:
            for col, cell in zip(header[1:], cells[1:]):
                out.setdefault(col, {})[cells[0]] = float(cell)
    return out


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_plot_tool_prints_the_per_class_values_of_a_two_iteration_run(synthetic_root, tmp_path, monkeypatch):
    from conftest import train_quickstart_two_iterations
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    work = tmp_path / 'fcn'
    code = train_quickstart_two_iterations(work, 'plot_mmseg_metrics_run')
    assert code == 0
    (scalars, ) = scalars_files(str(work))
    records = mmengine_scalars(str(work))
    (val, ) = [r for r in records if 'mIoU' in r]
    classes = [k[len('IoU.'):] for k in val if k.startswith('IoU.')]
    assert len(classes) == 19 and classes[:2] == ['road', 'sidewalk'] and val['step'] == 2
    assert len([k for k in val if k.startswith('Acc.')]) == 19

    out = tmp_path / 'figs' / 'metrics.png'
    r = run_plot(str(work), f'again={scalars}', '--out', str(out), '--metrics', 'IoU', 'Acc')
    assert r.returncode == 0, r.stderr
    tables = parse_tables(r.stdout)
    assert sorted(tables) == ['again Acc', 'again IoU', 'fcn Acc', 'fcn IoU']
    for run in ('fcn', 'again'):
        for family in ('IoU', 'Acc'):
            col = tables[f'{run} {family}']
            assert list(col) == classes + [f'm{family}']
            assert all(same(col[c], val[f'{family}.{c}']) for c in classes), (run, family)
            # mmseg's own mean (float32 on some stacks: 0.8100000023841858), printed to 2 decimals
            assert col[f'm{family}'] == pytest.approx(val[f'm{family}'], abs=0.005)
    png = cv2.imread(str(out))
    assert png is not None and png.shape[0] > png.shape[1] > 500  # loss + 2 per-class panels
    assert os.listdir(out.parent) == ['metrics.png']  # atomic: no temporary left
    assert f'figure: {out}' in r.stdout


def test_bad_input_is_one_line_exit_2(tmp_path):
    (tmp_path / 'empty_run').mkdir()
    out = tmp_path / 'never.png'
    r = run_plot(str(tmp_path / 'empty_run'), '--out', str(out))
    assert r.returncode == 2 and r.stdout == ''
    assert r.stderr.startswith('plot_mmseg_metrics.py: error: ') and r.stderr.count('\n') == 1
    assert f'{tmp_path / "empty_run"}: no scalars.json' in r.stderr and not out.exists()
    # a run without per-class keys (validation lines from before PerClassMetricsHook)
    old = tmp_path / 'old' / '20240101_000000' / 'vis_data'
    old.mkdir(parents=True)
    (old / 'scalars.json'
     ).write_text(json.dumps(dict(loss=1.0, step=1)) + '\n' + json.dumps(dict(mIoU=3.0, aAcc=9.0, step=1)) + '\n')
    r = run_plot(str(tmp_path / 'old'), '--out', str(out))
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and not out.exists()
    assert 'no validation record has IoU.<class> keys' in r.stderr and 'scalars.json' in r.stderr

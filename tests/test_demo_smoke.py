"""Smoke test of `make demo`'s runner at 2 iterations per model: it runs end to end and its
results file agrees with the metrics mmseg and detectron2 wrote and with the baseline."""
import json
import os

import pytest

from conftest import ROOT, run_tool

pytest.importorskip('mmseg', reason='the mmseg stack is built by `make setup`')
pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')


def test_demo_runner_smoke(synthetic_root, tmp_path):
    from segssl.runs import last_mmengine_metrics
    from segssl.synthetic.baseline import majority_class_miou
    out = tmp_path / 'demo'
    r = run_tool(['tools/run_demo.py', '--data', synthetic_root, '--out', str(out),
                  '--fcn-iters', '2', '--mask-rcnn-iters', '2'])
    assert r.returncode == 0, r.stdout[-4000:]
    res = json.load(open(out / 'results.json'))
    assert res['fcn']['mIoU'] == last_mmengine_metrics(str(out / 'fcn'))['mIoU']
    assert res['majority_class_baseline'] == majority_class_miou(os.path.join(synthetic_root, 'cityscapes'))
    det = json.load(open(out / 'mask_rcnn' / 'eval_results.json'))
    assert res['mask_rcnn']['segm_AP'] == det['segm']['AP'] and res['mask_rcnn']['bbox_AP'] == det['bbox']['AP']
    assert 'majority class' in r.stdout and 'Mask R-CNN' in r.stdout

"""EMA smoothing against a hand computation, metrics.json reading (loss sum, resumed records),
the final-loss table, and the plot tool's figure."""
import json
import math

import numpy as np
import pytest
from conftest import run_tool

from segssl.runs.smoothing import ema_smooth


def test_bias_corrected_ema_by_hand():
    # beta 0.5, x = 4, 2, 8:  m = 2, 2, 5 ; 1 - beta^t = 0.5, 0.75, 0.875
    assert ema_smooth([4, 2, 8], beta=0.5) == pytest.approx([4.0, 2 / 0.75, 5 / 0.875])
    # plain: s = 4, 3, 5.5
    assert ema_smooth([4, 2, 8], beta=0.5, debias=False) == pytest.approx([4.0, 3.0, 5.5])
    # a NaN is skipped: output NaN, t not advanced
    out = ema_smooth([4, float('nan'), 2, 8], beta=0.5)
    assert math.isnan(out[1]) and out[[0, 2, 3]] == pytest.approx([4.0, 2 / 0.75, 5 / 0.875])


def test_ema_beta_099_against_a_loop():
    x = np.random.default_rng(0).random(300)
    m, ref = 0.0, []
    for t, v in enumerate(x, 1):
        m = 0.99 * m + 0.01 * v
        ref.append(m / (1 - 0.99**t))
    assert ema_smooth(x) == pytest.approx(ref, rel=1e-12)
    assert ema_smooth(np.full(50, 3.0)) == pytest.approx(np.full(50, 3.0))  # unbiased from step 1
    with pytest.raises(ValueError, match='beta=1'):
        ema_smooth(x, beta=1)


def write_metrics(path, recs):
    path.write_text(''.join(json.dumps(r) + '\n' for r in recs))


def run_records(scale, n=5):
    recs = []
    for i in range(n):
        it = 20 * i + 19
        recs.append({
            'iteration': it,
            'loss_box_reg': scale * (1 + i),
            'loss_cls': scale * 2.0,
            'loss_mask': scale * 0.5 * (i + 1),
            'total_loss': scale * 9,
            'mask_rcnn/accuracy': 0.1 * i,
            'mask_rcnn/false_positive': 0.5,
            'mask_rcnn/false_negative': 0.2,
            'lr': 0.01
        })
    recs.append({'iteration': 99, 'segm/AP': 12.5, 'bbox/AP': 10.0})
    return recs


def test_read_metrics_and_final_table(tmp_path):
    from segssl.runs.detectron2_metrics import LOSS_SUM, final_loss_table, read_metrics
    recs = run_records(1.0)
    recs.append({'iteration': 79, 'loss_box_reg': 4.5, 'loss_cls': 2.0, 'loss_mask': 2.0})  # resumed rewrite
    (tmp_path / 'a').mkdir()
    write_metrics(tmp_path / 'a' / 'metrics.json', recs)
    c = read_metrics(str(tmp_path / 'a'))
    its, vals = c[LOSS_SUM]
    assert list(its) == [19, 39, 59, 79, 99]
    assert vals == pytest.approx([1 + 2 + 0.5, 2 + 2 + 1, 3 + 2 + 1.5, 4.5 + 2 + 2, 5 + 2 + 2.5])
    assert list(c['segm/AP'][0]) == [99] and c['segm/AP'][1][0] == 12.5
    table = final_loss_table([('ssl', c)], beta=0.5)
    box = ema_smooth([1, 2, 3, 4.5, 5], 0.5)[-1]
    total = ema_smooth(vals, 0.5)[-1]
    row = [line for line in table.splitlines() if line.startswith('| ssl')][0]
    assert row == (f'| ssl | 99 | {box:.4f} (5.0000) | {2.0:.4f} (2.0000) | '
                   f'{ema_smooth([0.5, 1, 1.5, 2, 2.5], 0.5)[-1]:.4f} (2.5000) | {total:.4f} (9.5000) | 12.50 |')
    assert 'bias-corrected EMA (beta 0.5)' in table
    (tmp_path / 'bad.json').write_text('{"iteration": 1}\nnot json\n')
    with pytest.raises(ValueError, match="bad.json' line 2"):
        read_metrics(str(tmp_path / 'bad.json'))


def test_smoke_plot_tool_writes_png_and_table(tmp_path):
    for name, scale in (('ssl', 1.0), ('scratch', 1.5)):
        (tmp_path / name).mkdir()
        write_metrics(tmp_path / name / 'metrics.json', run_records(scale))
    r = run_tool([
        'tools/plot_detectron2_metrics.py', f'SSL={tmp_path / "ssl"}',
        str(tmp_path / 'scratch'), '--out',
        str(tmp_path / 'fig.png'), '--table',
        str(tmp_path / 't.md')
    ], timeout=120)
    assert r.returncode == 0, r.stdout
    assert (tmp_path / 'fig.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = (tmp_path / 't.md').read_text()
    assert '| SSL | 99 |' in table and '| scratch | 99 |' in table
    r = run_tool(['tools/plot_detectron2_metrics.py', str(tmp_path / 'nope'), '--out', str(tmp_path / 'x.png')])
    assert r.returncode == 2 and 'nope' in r.stdout and 'does not exist' in r.stdout

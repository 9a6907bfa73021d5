"""The experiment runner: run planning, the commands per tool, skipping finished runs, the
mean +- std table against a direct computation, and the per-class IoU parser and figures."""
import csv
import io
import json
import os
import shlex
import statistics

import pytest
from conftest import run_tool

from segssl.runs.experiments import (DONE_FILE, Run, command, execute, mean_std, plan_runs, read_metrics, summarise,
                                     table_csv, table_markdown, write_tables)
from segssl.runs.plots import per_class_iou, plot_curves, plot_per_class_bars


def fake_mmseg_run(run, miou, acc=90.0):
    """What mmengine leaves in a work dir: <timestamp>/vis_data/scalars.json."""
    d = os.path.join(run.work_dir, '20260101_000000', 'vis_data')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'scalars.json'), 'w') as f:
        f.write(json.dumps({'loss': 1.0, 'step': 10}) + '\n')
        f.write(json.dumps({'aAcc': acc, 'mIoU': miou - 5, 'step': 100}) + '\n')
        f.write(json.dumps({'aAcc': acc, 'mIoU': miou, 'step': 200}) + '\n')
    return 1.5


def test_plan_runs_and_commands(tmp_path):
    runs = plan_runs(['configs/a/x.py', 'configs/b/y.yaml'], [0, 2], str(tmp_path))
    assert [(r.name, r.seed) for r in runs] == [('x', 0), ('x', 2), ('y', 0), ('y', 2)]
    assert runs[1].work_dir == os.path.join(str(tmp_path), 'x', 'seed2')
    assert command(runs[1], 'py') == [
        'py', 'tools/train.py', 'configs/a/x.py', '--work-dir', runs[1].work_dir, '--cfg-options', 'randomness.seed=2'
    ]
    assert command(runs[3], 'py') == [
        'py', 'tools/train_net.py', '--config-file', 'configs/b/y.yaml', 'OUTPUT_DIR', runs[3].work_dir, 'SEED', '2'
    ]
    # an extra --cfg-options list takes the seed in (train.py keeps only the last list)
    r = plan_runs(['x.py'], [1], str(tmp_path), extra=['--cfg-options', 'a=1', 'b=2'])[0]
    assert command(r, 'py')[-4:] == ['--cfg-options', 'randomness.seed=1', 'a=1', 'b=2']
    dist = command(r, 'py', ['torchrun', '--nproc_per_node=2'])
    assert dist[:3] == ['torchrun', '--nproc_per_node=2', 'tools/train.py'] and dist[6:8] == ['--launcher', 'pytorch']
    with pytest.raises(ValueError, match='share the name'):
        plan_runs(['a/x.py', 'b/x.py'], [0], str(tmp_path))
    with pytest.raises(ValueError, match='mmseg .py or a detectron2 .yaml'):
        Run('x.json', 0, '.').kind


def test_execute_skips_finished_and_retries_failed(tmp_path):
    runs = plan_runs(['x.py', 'y.py'], [0, 1], str(tmp_path))
    value = {('x', 0): 40.0, ('x', 1): 44.0, ('y', 0): 50.0, ('y', 1): 51.0}
    calls = []

    def train(run):
        calls.append((run.name, run.seed))
        if (run.name, run.seed) == ('y', 1) and len(calls) == 4:
            raise RuntimeError('killed')
        return fake_mmseg_run(run, value[(run.name, run.seed)])

    with pytest.raises(RuntimeError, match='killed'):
        execute(runs, train, log=lambda s: None)
    assert not os.path.exists(os.path.join(runs[3].work_dir, DONE_FILE))
    results = execute(runs, train, log=lambda s: None)
    assert calls == [('x', 0), ('x', 1), ('y', 0), ('y', 1), ('y', 1)]  # only the failed one again
    assert results[runs[1]]['mIoU'] == 44.0 and results[runs[1]]['aAcc'] == 90.0
    execute(runs, train, log=lambda s: None)
    assert len(calls) == 5  # all finished: nothing runs


def test_table_mean_std_against_statistics(tmp_path):
    runs = plan_runs(['x.py', 'y.py'], [0, 1, 2], str(tmp_path))
    vals = [40.0, 44.5, 41.25, 50.0, 52.0, 51.0]
    results = {r: {'mIoU': v, 'aAcc': 80 + v / 10} for r, v in zip(runs, vals)}
    rows = summarise(results, ['mIoU', 'aAcc'])
    for row, vs in zip(rows, (vals[:3], vals[3:])):
        assert row['stats']['mIoU'] == pytest.approx((statistics.mean(vs), statistics.stdev(vs)), abs=1e-12)
    assert mean_std([3.0]) == (3.0, 0.0)
    md = table_markdown(rows, ['mIoU', 'aAcc'])
    assert f'| x | 0, 1, 2 | {statistics.mean(vals[:3]):.2f} +- {statistics.stdev(vals[:3]):.2f} |' in md
    back = list(csv.DictReader(io.StringIO(table_csv(rows, ['mIoU', 'aAcc']))))
    assert float(back[1]['mIoU_mean']) == pytest.approx(51.0, abs=1e-4)
    assert [float(v) for v in back[1]['mIoU_per_seed'].split(';')] == vals[3:]
    paths = write_tables(rows, ['mIoU'], str(tmp_path), preamble='# title')
    assert open(paths[0]).read().startswith('# title\n\n| config |') and os.path.isfile(paths[1])
    with pytest.raises(KeyError, match="no metric 'segm/AP'"):
        summarise(results, ['segm/AP'])


def test_detectron2_metrics_flattened(tmp_path):
    run = plan_runs(['m.yaml'], [0], str(tmp_path))[0]
    with pytest.raises(RuntimeError, match='eval_results.json is missing'):
        read_metrics(run)
    os.makedirs(run.work_dir)
    json.dump({
        'bbox': {
            'AP': 1.5,
            'AP50': 3.0
        },
        'segm': {
            'AP': 1.25
        }
    }, open(os.path.join(run.work_dir, 'eval_results.json'), 'w'))
    assert read_metrics(run) == {'bbox/AP': 1.5, 'bbox/AP50': 3.0, 'segm/AP': 1.25}


LOG = """11/24 06:00:00 - mmengine - INFO - Iter(val) [3/3]
11/24 06:00:00 - mmengine - INFO - per class results:
11/24 06:00:00 - mmengine - INFO -
+-------+-------+-------+
| Class |  IoU  |  Acc  |
+-------+-------+-------+
|  road | {road} | 99.0 |
| sky   |  nan  |  nan  |
| traffic light | {tl} | 3.0 |
+-------+-------+-------+
11/24 06:00:00 - mmengine - INFO - Iter(val) [3/3]    aAcc: 90.0  mIoU: 40.0
"""


def test_per_class_iou_takes_the_last_table(tmp_path):
    d = tmp_path / 'run' / '20260101_000000'
    d.mkdir(parents=True)
    (d / '20260101_000000.log').write_text(LOG.format(road='50.0', tl='1.0') + LOG.format(road='91.5', tl='2.25'))
    iou = per_class_iou(str(tmp_path / 'run'))
    assert iou['road'] == 91.5 and iou['traffic light'] == 2.25 and iou['sky'] != iou['sky']
    with pytest.raises(FileNotFoundError):
        per_class_iou(str(tmp_path / 'nothing'))


def test_figures_are_pngs(tmp_path):
    a = plot_curves({'A': [(0, 1.0), (10, 0.5)], 'B': [(0, 1.2), (10, 0.4)]}, str(tmp_path / 'c.png'), 'loss')
    b = plot_per_class_bars({
        'A': {
            'road': 90.0,
            'car': 10.0
        },
        'B': {
            'road': 91.0,
            'car': 30.0
        }
    }, str(tmp_path / 'b.png'))
    for p in (a, b):
        assert open(p, 'rb').read(8) == b'\x89PNG\r\n\x1a\n' and os.path.getsize(p) > 1000
    with pytest.raises(ValueError, match='no points'):
        plot_curves({}, str(tmp_path / 'e.png'), 'loss')


def test_cli_tabulates_finished_runs_and_prints_the_rest(tmp_path):
    out = tmp_path / 'exp'
    cfgs = ['configs/quickstart/fcn_r18-d8_synthetic-128x256.py', 'configs/finetune/fcn16_r18-d16_synthetic-128x256.py']
    runs = plan_runs(cfgs, [0, 1], str(out))
    from segssl.runs.experiments import mark_finished
    for run, v in zip(runs[:3], (20.0, 22.0, 30.0)):
        mark_finished(run, {'mIoU': v, 'aAcc': 80.0}, 1.0)
    r = run_tool([
        'tools/run_experiments.py', '--configs', *cfgs, '--seeds', '0', '1', '--out',
        str(out), '--print-commands', '--', '--cfg-options', 'train_cfg.max_iters=5'
    ])
    assert r.returncode == 0, r.stdout
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and shlex.split(
        lines[0])[-3:] == ['--cfg-options', 'randomness.seed=1', 'train_cfg.max_iters=5']
    mark_finished(runs[3], {'mIoU': 32.0, 'aAcc': 80.0}, 1.0)
    r = run_tool(['tools/run_experiments.py', '--configs', *cfgs, '--seeds', '0', '1', '--out', str(out)])
    assert r.returncode == 0, r.stdout
    assert '| fcn_r18-d8_synthetic-128x256 | 0, 1 | 21.00 +- 1.41 |' in r.stdout
    assert (out / 'results.csv').is_file()

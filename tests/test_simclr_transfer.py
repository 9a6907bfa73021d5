"""tools/run_simclr_transfer.py (protocol P5): SimCLR on the pool -> --to mmseg -> the two-block
network, fine-tuned and frozen, vs scratch. Its figures are what mmengine wrote, the SSL arm loads
the bridge's output, the frozen encoder does not move, the arms can run in separate processes and a
finished step is reused; its SimCLR schedule scales the earlier protocol's."""
import json
import os
import shutil
import sys

import pytest
from conftest import ROOT, load_ckpt, requires_mmseg, run_tool, trainings_in

sys.path.insert(0, os.path.join(ROOT, 'tools'))


def test_simclr_schedule_scales_the_earlier_protocol():
    from run_simclr_transfer import simclr_opts
    opts = simclr_opts(400)  # RESULTS.md's earlier run: warm-up 40, restarts [180, 180]
    assert 'param_scheduler.0.end=40' in opts and 'param_scheduler.1.begin=40' in opts
    assert 'param_scheduler.1.periods=[180,180]' in opts and 'param_scheduler.1.end=400' in opts
    assert 'param_scheduler.1.periods=[450,450]' in simclr_opts(1000)
    assert 'param_scheduler.1.periods=[1,1]' in simclr_opts(3)  # warm-up 1, then 1 + 1
    assert 'default_hooks.logger.interval=2' in simclr_opts(2)  # a 2-iteration run still logs its loss


@requires_mmseg
def test_simclr_transfer_figures_frozen_encoder_split_arms_and_reuse(synthetic_root, tmp_path):
    import torch
    from mmengine.config import Config

    from segssl.runs import last_mmengine_metrics
    data, out, pool = tmp_path / 'data', tmp_path / 'simclr', tmp_path / 'pool'
    shutil.copytree(synthetic_root, data)  # --label-split writes the splits into it
    cmd = [
        'tools/run_simclr_transfer.py', '--out',
        str(out), '--data',
        str(data), '--seeds', '3', '--pretrain-iters', '2', '--finetune-iters', '2', '--pool', '6', '--pool-dir',
        str(pool), '--label-split', '1-8', '--evaluation', 'finetune', 'frozen'
    ]
    ssl = run_tool(cmd + ['--arms', 'ssl'])  # one arm per process, as two cores share P5
    assert ssl.returncode == 0, ssl.stdout[-4000:]
    assert len(trainings_in(ssl.stdout)) == 3 and 'writes the results' in ssl.stdout
    assert not os.path.exists(out / 'results_labels1-8_pool6.json')  # one arm writes no results
    both = run_tool(cmd)  # the SSL arm reused, only the scratch arm trains
    assert both.returncode == 0, both.stdout[-4000:]
    assert len(trainings_in(both.stdout)) == 2
    res = json.load(open(out / 'results_labels1-8_pool6.json'))
    runs, tag = res['runs']['3'], '2it_labels1-8_pre2pool6_s3'
    for arm in ('twoblock_ssl', 'twoblock_scratch', 'twoblock_frozen_ssl', 'twoblock_frozen_scratch'):
        m = last_mmengine_metrics(str(out / f'{arm}_{tag}'))
        assert runs[arm] == {'aAcc': m['aAcc'], 'mIoU': m['mIoU']}, arm
        log = open(out / 'logs' / f'{arm}_{tag}.log').read()
        assert 'randomness = dict(seed=3)' in log and "ann_file='splits/1-8/labelled.txt'" in log
        weights = str(out / 'simclr_2it_pool6_s3' / 'r18_mmseg.pth')
        assert (f'load model from: {weights}' in log) == arm.endswith('_ssl'), arm  # only SSL loads the bridge
    for key, metric in (('twoblock_frozen', 'aAcc'), ('twoblock', 'mIoU')):
        v = res['verdicts'][f'{key}_{metric}']
        assert v['diff'] == pytest.approx(runs[f'{key}_ssl'][metric] - runs[f'{key}_scratch'][metric])
    assert set(runs) >= {'pretrain_loss_first', 'pretrain_loss_last'}
    # SimCLR pretrained on the pool, with the P5 schedule's options
    dumped = Config.fromfile(str(out / 'simclr_2it_pool6_s3' / 'simclr_r18-3x3stem_synthetic-32px.py'))
    assert dumped.train_dataloader.dataset.data_root == str(pool) and dumped.train_cfg.max_iters == 2
    # frozen: the encoder (weights and BN statistics) is the converted checkpoint's; fine-tuned: it moved
    converted = load_ckpt(out / 'simclr_2it_pool6_s3' / 'r18_mmseg.pth')['state_dict']
    frozen = load_ckpt(out / f'twoblock_frozen_ssl_{tag}' / 'iter_2.pth')['state_dict']
    tuned = load_ckpt(out / f'twoblock_ssl_{tag}' / 'iter_2.pth')['state_dict']
    assert len(converted) > 100 and all(torch.equal(frozen['backbone.' + k], v) for k, v in converted.items())
    assert not all(torch.equal(tuned['backbone.' + k], v) for k, v in converted.items())
    md = open(out / 'results_labels1-8_pool6.md').read()
    assert 'val pixel accuracy' in md and 'Command: `python tools/run_simclr_transfer.py' in md

    again = run_tool(cmd)  # everything finished: nothing is retrained
    assert again.returncode == 0 and trainings_in(again.stdout) == []
    assert json.load(open(out / 'results_labels1-8_pool6.json'))['runs'] == res['runs']


def test_simclr_transfer_rejects_zero_iterations(tmp_path):
    r = run_tool(['tools/run_simclr_transfer.py', '--out', str(tmp_path), '--pretrain-iters', '0'])
    assert r.returncode != 0 and '--pretrain-iters must be >= 1' in r.stdout

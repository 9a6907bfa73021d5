"""The tools that regenerate docs/RESULTS.md's headline numbers: the two-arm verdict against the
statistics module, run_pixpro_transfer.py's figures against what mmengine wrote (and its reuse of
finished steps), and run_classmix_experiment.py's --warm-start (both arms load the warm-up model)."""
import json
import os
import statistics

import pytest
from conftest import load_ckpt, requires_mmseg, run_tool, trainings_in

from segssl.runs.experiments import compare_arms, comparison_markdown


@pytest.mark.parametrize('a, b', [([3.0, 4.0, 5.5], [1.0, 1.5, 0.2]), ([2.0, 2.1, 2.2], [1.0, 3.0, 2.0]),
                                  ([1.0, 1.0], [2.0, 2.5])])
def test_compare_arms_against_statistics(a, b):
    c = compare_arms(a, b)
    spread = max(statistics.stdev(a), statistics.stdev(b))
    assert c['diff'] == pytest.approx(statistics.mean(a) - statistics.mean(b), abs=1e-12)
    assert c['spread'] == pytest.approx(spread, abs=1e-12)
    assert c['a_better_beyond_spread'] == (statistics.mean(a) - statistics.mean(b) > spread)
    assert c['separated'] == all(x > y for x in a for y in b)
    md = comparison_markdown('t', 'A', a, 'B', b, list(range(len(a))))
    assert f"| A | {' | '.join(f'{v:.2f}' for v in a)} | {statistics.mean(a):.2f} +- {statistics.stdev(a):.2f} |" in md
    assert f"better by more than the seed spread: {'yes' if c['a_better_beyond_spread'] else 'no'}" in md


PIXPRO_CONFIG = 'configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py'


@requires_mmseg
def test_pixpro_transfer_figures_equal_the_runs_and_finished_steps_are_reused(synthetic_root, tmp_path):
    import shutil

    from segssl.runs import last_mmengine_metrics
    data = tmp_path / 'data'
    shutil.copytree(synthetic_root, data)  # --label-split writes the splits into it
    out = tmp_path / 'transfer'
    cmd = [
        'tools/run_pixpro_transfer.py', '--out',
        str(out), '--data',
        str(data), '--seeds', '3', '--downstream', 'fcn16', '--pretrain-iters', '2', '--finetune-iters', '2'
    ]
    r = run_tool(cmd)
    assert r.returncode == 0, r.stdout[-4000:]
    assert len(trainings_in(r.stdout)) == 3  # pretraining + two fine-tunes
    res = json.load(open(out / 'results.json'))
    for init in ('ssl', 'random'):
        assert res['runs']['3'][f'fcn16_{init}']['mIoU'] == last_mmengine_metrics(str(
            out / f'fcn16_{init}_2it_pre2_s3'))['mIoU']
    ssl_log, random_log = (open(out / 'logs' / f'fcn16_{i}_2it_pre2_s3.log').read() for i in ('ssl', 'random'))
    assert 'randomness = dict(seed=3)' in ssl_log and 'randomness = dict(seed=3)' in random_log
    weights = os.path.join(str(out), 'pretrain_2it_s3', 'r18_mmseg.pth')
    assert f'load model from: {weights}' in ssl_log  # the SSL arm loads the bridge's output
    assert 'load model from' not in random_log
    v = res['verdicts']['fcn16_mIoU']
    assert v['diff'] == pytest.approx(res['runs']['3']['fcn16_ssl']['mIoU'] - res['runs']['3']['fcn16_random']['mIoU'])
    md = open(out / 'results.md').read()
    assert 'SSL init' in md and 'Command: `python tools/run_pixpro_transfer.py' in md

    again = run_tool(cmd)  # everything finished: nothing is retrained
    assert again.returncode == 0 and trainings_in(again.stdout) == []
    assert json.load(open(out / 'results.json'))['runs'] == res['runs']
    scarce = run_tool(cmd + ['--label-split', '1-2'])  # labels scarce: new fine-tunes, same pretraining
    assert scarce.returncode == 0 and len(trainings_in(scarce.stdout)) == 2, scarce.stdout[-3000:]
    for init in ('ssl', 'random'):
        log = open(out / 'logs' / f'fcn16_{init}_2it_labels1-2_pre2_s3.log').read()
        assert "ann_file='splits/1-2/labelled.txt'" in log
    assert json.load(open(out / 'results_labels1-2.json'))['settings']['label_split'] == '1-2'
    assert json.load(open(out / 'results.json'))['runs'] == res['runs']  # the all-labels table is untouched

    # the reports' regime: pretrain on an unlabelled pool, then the frozen-encoder measurement
    pool = tmp_path / 'pool'
    frozen = run_tool(cmd + ['--pool', '6', '--pool-dir', str(pool), '--evaluation', 'frozen', '--threads', '1'])
    assert frozen.returncode == 0 and len(trainings_in(frozen.stdout)) == 3, frozen.stdout[-3000:]
    assert sorted(os.listdir(pool / 'images')) == [f'pool_{i:06d}.png' for i in range(6)]
    # the pool is the pretraining data (the config mmengine dumped in the work dir; its log wraps long lines)
    from mmengine.config import Config
    dumped = Config.fromfile(str(out / 'pretrain_2it_pool6_s3' / os.path.basename(PIXPRO_CONFIG)))
    dataset = dumped.train_dataloader.dataset
    assert dataset.data_root == str(pool) and dataset.data_prefix.img_path == 'images'
    pooled = json.load(open(out / 'results_pool6.json'))
    assert pooled['settings']['pool'] == 6 and set(pooled['verdicts']) == {'fcn16_frozen_mIoU'}
    import torch
    converted = load_ckpt(out / 'pretrain_2it_pool6_s3' / 'r18_mmseg.pth')['state_dict']
    tuned = load_ckpt(out / 'fcn16_frozen_ssl_2it_pre2pool6_s3' / 'iter_2.pth')['state_dict']
    for k in ('layer4.1.conv2.weight', 'layer1.0.bn1.running_mean', 'conv1.weight'):  # the encoder did not move
        assert torch.equal(tuned['backbone.' + k], converted[k]), k
    assert 'frozen_stages=4' in open(out / 'logs' / 'fcn16_frozen_random_2it_pre2pool6_s3.log').read()


@requires_mmseg
def test_pixpro_transfer_mask_rcnn_on_scarce_labels_in_two_lanes(synthetic_root, tmp_path):
    """--label-split reaches Mask R-CNN (SEGSSL.LABEL_SPLIT, the COCO set's split made by the tool);
    --arms scratch and --arms ssl share the runs, a run with both reuses them and writes the results."""
    import shutil
    pytest.importorskip('detectron2')
    data, out = tmp_path / 'data', tmp_path / 'transfer'
    shutil.copytree(synthetic_root, data)
    cmd = [
        'tools/run_pixpro_transfer.py', '--out',
        str(out), '--data',
        str(data), '--seeds', '3', '--downstream', 'maskrcnn', '--pretrain-iters', '2', '--mask-rcnn-iters', '2',
        '--label-split', '1-2'
    ]
    scratch = run_tool(cmd + ['--arms', 'scratch'])
    assert scratch.returncode == 0, scratch.stdout[-4000:]
    assert 'writes the results' in scratch.stdout and not os.path.exists(out / 'results_labels1-2.json')
    assert not os.path.exists(out / 'pretrain_2it_s3')  # the scratch lane does not pretrain
    ssl = run_tool(cmd + ['--arms', 'ssl'])
    assert ssl.returncode == 0, ssl.stdout[-4000:]
    both = run_tool(cmd)
    assert both.returncode == 0 and 'tools/train' not in both.stdout, both.stdout[-4000:]  # all reused
    res = json.load(open(out / 'results_labels1-2.json'))
    labelled = open(data / 'coco' / 'splits' / '1-2' / 'labelled.txt').read().split()
    for init in ('ssl', 'scratch'):
        work = out / f'mask_rcnn_{init}_2it_labels1-2_pre2_s3'
        ev = json.load(open(work / 'eval_results.json'))
        assert res['runs']['3'][f'mask_rcnn_{init}']['segm_AP'] == ev['segm']['AP']
        log = open(out / 'logs' / f'{work.name}.log').read()
        assert 'LABEL_SPLIT: 1-2' in open(work / 'config.yaml').read()
        assert f'{len(labelled)} images left' in log, log[-3000:]  # only the split's images are trained on
    assert set(res['verdicts']) == {'mask_rcnn_segm_AP', 'mask_rcnn_bbox_AP'}


def test_thread_env_fixes_the_thread_count():
    from segssl.runs import thread_env
    assert thread_env(2) == {'OMP_NUM_THREADS': '2', 'MKL_NUM_THREADS': '2'}
    with pytest.raises(ValueError, match=r'threads=0: expected an int >= 1'):
        thread_env(0)


def test_pixpro_transfer_rejects_zero_iterations(tmp_path):
    r = run_tool(['tools/run_pixpro_transfer.py', '--out', str(tmp_path), '--pretrain-iters', '0'])
    assert r.returncode != 0 and '--pretrain-iters must be >= 1' in r.stdout


@requires_mmseg
def test_classmix_warm_start_starts_both_arms_from_the_warm_up_model(synthetic_root, tmp_path):
    import shutil
    data = tmp_path / 'data'
    shutil.copytree(synthetic_root, data)  # the tool writes label splits into it
    work = tmp_path / 'warm'
    r = run_tool([
        'tools/run_classmix_experiment.py', '--work-dir',
        str(work), '--data',
        str(data), '--iters', '2', '--warm-start', '2', '--seeds', '1', '--batch', '2'
    ])
    assert r.returncode == 0, r.stdout[-4000:]
    start = os.path.join(str(work), 'warmup', 'supervised_seed1', 'iter_2.pth')
    assert os.path.isfile(start)
    for method in ('classmix', 'supervised'):
        assert start in open(work / f'{method}_seed1.log').read()
    res = json.load(open(work / 'results.json'))
    assert set(res['runs']) == {'classmix', 'supervised'}
    assert json.load(open(work / 'warmup' / 'results.json'))['runs'].keys() == {'supervised'}
    warm_md = open(work / 'warmup' / 'results.md').read()  # one method: its row, no verdict
    assert '| supervised |' in warm_md and '| classmix |' not in warm_md and 'difference of means' not in warm_md
    assert 'difference of means' in open(work / 'results.md').read()
    r = run_tool([
        'tools/run_classmix_experiment.py', '--work-dir',
        str(work), '--data',
        str(data), '--warm-start', '2', '--init-from', start
    ])
    assert r.returncode != 0 and 'give one' in r.stdout


@requires_mmseg
def test_pretext_transfer_loads_each_checkpoint_freezes_the_encoder_and_reuses_finished_steps(synthetic_root, tmp_path):
    import shutil

    import torch
    from mmengine.config import Config

    from segssl.runs import last_mmengine_metrics
    data, out, pool = tmp_path / 'data', tmp_path / 'pretext', tmp_path / 'pool'
    shutil.copytree(synthetic_root, data)  # --label-split writes the splits into it
    cmd = [
        'tools/run_pretext_transfer.py', '--out',
        str(out), '--data',
        str(data), '--pretext', 'rotation', '--seeds', '3', '--pretrain-iters', '2', '--finetune-iters', '2', '--pool',
        '6', '--pool-dir',
        str(pool), '--label-split', '1-8', '--evaluation', 'finetune', 'frozen'
    ]
    r = run_tool(cmd)
    assert r.returncode == 0, r.stdout[-4000:]
    assert len(trainings_in(r.stdout)) == 5  # pretext + (rotation, Kaiming) x (fine-tuned, frozen)
    res = json.load(open(out / 'results_labels1-8_pool6.json'))
    runs = res['runs']['3']
    for arm, work in (('erfnet_rotation', 'erfnet_rotation_2it_labels1-8_pre2_pool6_s3'),
                      ('erfnet_kaiming', 'erfnet_kaiming_2it_labels1-8_s3'),
                      ('erfnet_frozen_rotation', 'erfnet_frozen_rotation_2it_labels1-8_pre2_pool6_s3'),
                      ('erfnet_frozen_kaiming', 'erfnet_frozen_kaiming_2it_labels1-8_s3')):
        assert runs[arm]['mIoU'] == last_mmengine_metrics(str(out / work))['mIoU'], arm
        log = open(out / 'logs' / f'{work}.log').read()
        assert 'randomness = dict(seed=3)' in log and "ann_file='splits/1-8/labelled.txt'" in log
        ckpt = str(out / 'rotation_2it_pool6_s3' / 'iter_2.pth')
        assert (f'in model from: {ckpt}' in log) == ('rotation' in arm), arm  # only the pretext arm loads it
    v = res['verdicts']['erfnet_frozen_rotation_mIoU']
    assert v['diff'] == pytest.approx(runs['erfnet_frozen_rotation']['mIoU'] - runs['erfnet_frozen_kaiming']['mIoU'])
    # the pool is the pretext data
    dumped = Config.fromfile(str(out / 'rotation_2it_pool6_s3' / 'erfnet_rotation_synthetic.py'))
    assert dumped.train_dataloader.dataset.data_root == str(pool)
    # frozen: the encoder (weights and BN statistics) is the pretext checkpoint's; the decoder trained
    pre = load_ckpt(out / 'rotation_2it_pool6_s3' / 'iter_2.pth')['state_dict']
    tuned = load_ckpt(out / 'erfnet_frozen_rotation_2it_labels1-8_pre2_pool6_s3' / 'iter_2.pth')['state_dict']
    encoder = [k for k in pre if k.startswith('backbone.encoder.')]
    assert len(encoder) > 100 and all(torch.equal(tuned[k], pre[k]) for k in encoder)
    free = load_ckpt(out / 'erfnet_rotation_2it_labels1-8_pre2_pool6_s3' / 'iter_2.pth')['state_dict']
    assert not all(torch.equal(free[k], pre[k]) for k in encoder)  # fine-tuned end to end: it moved
    assert 'Command: `python tools/run_pretext_transfer.py' in open(out / 'results_labels1-8_pool6.md').read()

    again = run_tool(cmd)  # everything finished: nothing is retrained
    assert again.returncode == 0 and trainings_in(again.stdout) == []
    assert json.load(open(out / 'results_labels1-8_pool6.json'))['runs'] == res['runs']


def test_pretext_transfer_rejects_zero_iterations(tmp_path):
    r = run_tool(['tools/run_pretext_transfer.py', '--out', str(tmp_path), '--finetune-iters', '0'])
    assert r.returncode != 0 and '--finetune-iters must be >= 1' in r.stdout

"""Smoke test of `make demo`'s runner at 2 iterations per run (--tiny), in two calls that together
cover the four stories (--stages), story 1 on a 16-scene pool. Each results.json holds only the
stories asked for, and its numbers equal what each tool wrote (mmengine's scalars, detectron2's
eval_results.json, remove_background's report.json, the majority-class baseline), with every
difference = A - B."""
import json
import os
import shutil

import pytest
from conftest import run_tool, skip_without_mmseg

skip_without_mmseg()
pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')


def _demo(data, small, out, stages):
    pool = os.path.join(os.path.dirname(small), 'pool')
    r = run_tool([
        'tools/run_demo.py', '--data', data, '--small-data', small, '--out',
        str(out), '--pool-dir', pool, '--tiny', '--stages'
    ] + stages)
    assert r.returncode == 0, r.stdout[-4000:]
    res = json.load(open(out / 'results.json'))
    assert res['stages'] == stages and res['iters'] == {k: 2 for k in res['iters']}
    for c in res['comparisons']:  # the table's A - B column
        assert c['diff'] == pytest.approx(c['a_value'] - c['b_value'], abs=1e-12)
    md = open(out / 'results.md').read()
    for c in res['comparisons']:
        assert f"| {c['story']} | {c['metric']} | {c['a']} | {c['a_value']:.2f} | {c['b']} | {c['b_value']:.2f} |" in md
    assert 'not evidence' in md and os.path.isfile(out / 'curves.png')
    return r.stdout, res


def test_smoke_demo_runner(synthetic_root, tmp_path):
    from mmengine.config import Config

    from segssl.runs import last_mmengine_metrics, mmengine_records
    from segssl.synthetic.baseline import majority_class_miou
    small = tmp_path / 'small'  # the demo writes label splits into it
    shutil.copytree(synthetic_root, small)

    out = tmp_path / 'semi_uda'
    stdout, res = _demo(synthetic_root, str(small), out, ['classmix', 'dacs'])
    assert 'story 2: ClassMix' in stdout and 'story 3: DACS' in stdout and 'story 1' not in stdout
    assert set(res) >= {'classmix', 'dacs'} and not {'pixpro', 'mask_rcnn', 'pretrain'} & set(res)
    for story, runs in (('classmix', ('classmix', 'supervised')), ('dacs', ('dacs', 'source-only'))):
        for run in runs:
            work = out / f"{'semi' if story == 'classmix' else 'uda'}_{run}"
            assert res[story][run]['mIoU'] == last_mmengine_metrics(str(work))['mIoU']
    assert os.path.isfile(small / 'cityscapes' / 'splits' / '1-8' / 'labelled.txt')
    start = str(out / 'semi_warmup' / 'iter_2.pth')  # both arms continue from the warm-up model
    assert res['classmix']['warmup']['mIoU'] == last_mmengine_metrics(str(out / 'semi_warmup'))['mIoU']
    for run in ('classmix', 'supervised'):
        assert f'load model from: {start}' in open(out / 'logs' / f'semi_{run}.log').read()

    out = tmp_path / 'ssl'
    data = tmp_path / 'data'  # story 1 writes the label splits into it
    shutil.copytree(synthetic_root, data)
    stdout, res = _demo(str(data), str(small), out, ['pixpro', 'maskrcnn'])
    assert 'story 1: PixPro' in stdout and 'story 4: Mask R-CNN' in stdout and 'story 2' not in stdout
    assert not {'classmix', 'dacs'} & set(res)
    losses = mmengine_records(str(out / 'pixpro_pretrain'), 'loss')
    pool = json.load(open(tmp_path / 'pool' / 'meta.json'))  # pretrained on the tiny pool, fine-tuned on 1/8
    assert pool['num'] == res['pretrain']['pool'] == 16
    cfg = Config.fromfile(str(out / 'pixpro_pretrain' / 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py'))
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path / 'pool')
    for init in ('ssl', 'random'):
        cfg = Config.fromfile(str(out / f'fcn16_{init}' / 'fcn16_r18-d16_synthetic-128x256.py'))
        assert cfg.train_dataloader.dataset.ann_file == 'splits/1-8/labelled.txt'
    assert os.path.isfile(data / 'cityscapes' / 'splits' / '1-8' / 'labelled.txt')
    assert (res['pretrain']['loss_first'], res['pretrain']['loss_last']) == (losses[0][1], losses[-1][1])
    for init in ('ssl', 'random'):
        assert res['pixpro'][init]['mIoU'] == last_mmengine_metrics(str(out / f'fcn16_{init}'))['mIoU']
    assert res['pixpro']['majority_class_baseline'] == majority_class_miou(os.path.join(data, 'cityscapes'))
    for init in ('ssl', 'scratch'):
        det = json.load(open(out / f'mask_rcnn_{init}' / 'eval_results.json'))
        bg = json.load(open(out / f'background_{init}' / 'report.json'))['summary']
        got = res['mask_rcnn'][init]
        assert (got['segm_AP'], got['bbox_AP']) == (det['segm']['AP'], det['bbox']['AP'])
        assert (got['background_cosine'], got['background_images']) == (bg['mean_cosine_all'], bg['num_images'])
    for png in ('pixel_pairs.png', 'curves_pretrain.png', 'curves_mask_rcnn.png'):
        assert os.path.getsize(out / png) > 0


def test_demo_rejects_bad_iters(tmp_path):
    r = run_tool(['tools/run_demo.py', '--out', str(tmp_path), '--iters', 'semi=0'])
    assert r.returncode != 0 and "--iters 'semi=0'" in r.stdout and 'STAGE=N' in r.stdout

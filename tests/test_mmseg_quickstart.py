"""mmseg wiring: CityscapesDataset reads the synthetic set; mmseg's own train script runs our
config for 2 iterations and evaluates with IoUMetric; a missing data root is named."""
import os

import numpy as np
import pytest
from conftest import ROOT, SMALL, load_ckpt, run_tool, skip_without_mmseg

from segssl.runs import mmengine_scalars

mmseg = skip_without_mmseg()
CONFIG = os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py')


def test_mmseg_cityscapes_dataset_reads_synthetic_set(synthetic_root, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    cfg = Config.fromfile(CONFIG)
    assert cfg.train_dataloader.dataset.data_root == synthetic_root + '/cityscapes/'
    init_default_scope('mmseg')
    for split, n in (('train', SMALL['num_train']), ('val', SMALL['num_val'])):
        ds_cfg = (cfg.train_dataloader if split == 'train' else cfg.val_dataloader).dataset
        assert ds_cfg.type == 'CityscapesDataset'
        ds = DATASETS.build(ds_cfg)
        assert len(ds) == n
        assert len(ds.metainfo['classes']) == 19
        sample = ds[0]
        seg = sample['data_samples'].gt_sem_seg.data.numpy()
        assert sample['inputs'].shape[0] == 3
        assert set(np.unique(seg).tolist()) <= set(range(19)) | {255}
        assert len(np.unique(seg)) >= 3


def test_train_two_iterations_and_evaluate_with_mmseg_train_script(synthetic_root, tmp_path):
    work = tmp_path / 'fcn'
    r = run_tool([
        'tools/train.py', CONFIG, '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False'
    ], env={'SEGSSL_DATA_ROOT': synthetic_root})
    assert r.returncode == 0, r.stdout[-4000:]
    assert os.path.isfile(work / 'iter_2.pth')
    records = mmengine_scalars(str(work))
    losses = [rec['loss'] for rec in records if 'loss' in rec]
    metrics = [rec for rec in records if 'mIoU' in rec]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert len(metrics) == 1 and 0 <= metrics[0]['mIoU'] <= 100 and 0 <= metrics[0]['aAcc'] <= 100
    # the logged total is the decode + auxiliary CE (aux.loss_ce carries its 0.4 weight already)
    assert all(rec['loss'] == pytest.approx(rec['decode.loss_ce'] + rec['aux.loss_ce'], rel=1e-4) for rec in records
               if 'loss' in rec)
    ckpt = load_ckpt(work / 'iter_2.pth')  # iteration 2 of a 19-class FCN with its aux head
    assert ckpt['meta']['iter'] == 2 and len(ckpt['meta']['dataset_meta']['classes']) == 19
    assert ckpt['state_dict']['decode_head.conv_seg.weight'].shape == (19, 128, 1, 1)
    assert ckpt['state_dict']['auxiliary_head.conv_seg.weight'].shape == (19, 64, 1, 1)


def test_missing_data_root_is_named(tmp_path, synthetic_root):
    missing = str(tmp_path / 'no_such_root')
    r = run_tool(['tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w')], env={'SEGSSL_DATA_ROOT': missing},
                 timeout=300)
    assert r.returncode == 2
    assert f"train_dataloader.dataset: data_root '{missing}/cityscapes/' does not exist" in r.stdout, r.stdout[-3000:]
    assert 'make_synthetic_data.py' in r.stdout and 'Traceback' not in r.stdout
    assert not os.path.exists(tmp_path / 'w')  # stopped before mmseg made the work dir
    # an existing root with a wrong sub-folder is named too, also through --cfg-options
    r = run_tool([
        'tools/test.py', CONFIG, 'ckpt.pth', '--cfg-options',
        'test_dataloader.dataset.data_prefix.seg_map_path=gtCoarse/val'
    ], env={'SEGSSL_DATA_ROOT': synthetic_root}, timeout=300)
    assert r.returncode == 2
    missing = f"data_prefix.seg_map_path folder '{synthetic_root}/cityscapes/gtCoarse/val' does not exist"
    assert missing in r.stdout, r.stdout[-3000:]

"""The SimCLR report's fine-tuning decoder (TwoBlockUpsampleHead), its label-fraction lists and configs."""
import glob
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, skip_without_mmseg

from segssl.runs import mmengine_scalars, scalars_files

skip_without_mmseg()
FINETUNE = os.path.join(ROOT, 'configs', 'finetune')
sys.path.insert(0, os.path.join(ROOT, 'tools'))


@pytest.fixture(scope='module')
def models():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS


@pytest.mark.parametrize('size,stride,first', [((5, 7), 8, 2), ((16, 16), 8, 2), ((3, 4), 4, 4), ((6, 2), 16, 2)])
def test_head_output_is_input_times_output_stride(models, size, stride, first):
    head = models.build(
        dict(type='TwoBlockUpsampleHead', in_channels=8, channels=6, num_classes=3, output_stride=stride,
             first_scale=first))
    out = head([torch.randn(2, 8, *size)])
    assert out.shape == (2, 3, size[0] * stride, size[1] * stride)


def test_head_equals_its_two_blocks_by_hand(models):
    torch.manual_seed(0)
    head = models.build(
        dict(type='TwoBlockUpsampleHead', in_channels=8, channels=6, num_classes=3, dropout_ratio=0.5,
             seg_kernel_size=3)).eval()
    head.init_weights()
    conv, bn = head.block1.conv, head.block1.bn
    assert conv.kernel_size == (3, 3) and head.conv_seg.kernel_size == (3, 3)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 8, 5, 7)
    y = F.relu(
        F.batch_norm(F.conv2d(x, conv.weight, conv.bias, padding=1), bn.running_mean, bn.running_var, bn.weight,
                     bn.bias, eps=bn.eps))  # dropout: eval
    y = F.interpolate(y, size=(10, 14), mode='bilinear', align_corners=False)
    y = F.conv2d(y, head.conv_seg.weight, head.conv_seg.bias, padding=1)
    y = F.interpolate(y, size=(40, 56), mode='bilinear', align_corners=False)
    assert torch.allclose(head([x]), y, atol=1e-6)
    head.train()
    assert isinstance(head.dropout, torch.nn.Dropout2d) and head.dropout.p == 0.5
    with pytest.raises(ValueError, match='first_scale to divide'):
        models.build(
            dict(type='TwoBlockUpsampleHead', in_channels=8, channels=6, num_classes=3, output_stride=8, first_scale=3))


def _fake_pets(root, n_train, n_test):
    os.makedirs(os.path.join(root, 'annotations'))
    with open(os.path.join(root, 'annotations', 'trainval.txt'), 'w') as f:
        f.write('#Image CLASS-ID SPECIES BREED ID\n')
        f.writelines(f'Breed_{i} {i % 37 + 1} 1 1\n' for i in range(n_train))
    with open(os.path.join(root, 'annotations', 'test.txt'), 'w') as f:
        f.writelines(f'Other_{i} 1 2 3\n' for i in range(n_test))


def test_pets_label_fractions_are_nested_seeded_lists(tmp_path):
    from make_pets_splits import main
    root = str(tmp_path / 'pets')
    _fake_pets(root, 250, 7)
    assert main([root, '--seed', '3']) == 0

    def read(name, folder='splits'):
        with open(os.path.join(root, folder, name + '.txt')) as f:
            return f.read().split('\n')[:-1]

    lists = {n: read(n) for n in ('1pct', '10pct', 'full', 'test')}
    assert [len(lists[n]) for n in ('1pct', '10pct', 'full', 'test')] == [3, 25, 250, 7]  # ceil(f N)
    assert set(lists['1pct']) < set(lists['10pct']) < set(lists['full']) == {f'Breed_{i}' for i in range(250)}
    assert lists['test'] == sorted(f'Other_{i}' for i in range(7))
    order = np.random.default_rng(3).permutation(250)
    ids = sorted(f'Breed_{i}' for i in range(250))
    assert lists['10pct'] == sorted(ids[i] for i in order[:25])
    assert main([root, '--seed', '3', '--out', os.path.join(root, 'again')]) == 0
    assert read('10pct', 'again') == lists['10pct']
    assert main([root, '--seed', '4', '--out', os.path.join(root, 'other')]) == 0
    assert read('10pct', 'other') != lists['10pct']
    assert not glob.glob(os.path.join(root, '*', '*.tmp'))
    with pytest.raises(SystemExit):
        main([str(tmp_path / 'missing')])


@pytest.mark.parametrize('fraction', ['1pct', '10pct', 'full'])
def test_pets_configs_follow_seed_003(fraction, models):
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(FINETUNE, f'twoblock_r34-os8_1xb32_pets-128x128_{fraction}.py'))
    assert cfg.train_dataloader.dataset.ann_file == f'splits/{fraction}.txt'
    assert cfg.val_dataloader.dataset.ann_file == 'splits/test.txt'
    ds = cfg.train_dataloader.dataset
    assert ds.reduce_zero_label and ds.metainfo.classes == ('pet', 'background', 'border')
    assert dict(type='Resize', scale=(128, 128), keep_ratio=False) in cfg.train_pipeline
    assert cfg.train_cfg.max_epochs == 100 and cfg.val_evaluator.type == 'IoUMetric'
    head = cfg.model.decode_head
    assert (head.type, head.num_classes, head.output_stride, head.first_scale) == ('TwoBlockUpsampleHead', 3, 8, 2)
    assert cfg.model.backbone.depth == 34
    cfg.model.backbone.init_cfg = None
    model = models.build(cfg.model).eval()
    assert model(torch.randn(1, 3, 128, 128), mode='tensor').shape == (1, 3, 128, 128)


def test_smoke_synthetic_fraction_training_reports_pixel_accuracy(synthetic_root, tmp_path):
    """Train the synthetic twin on a 1-image label list (a few steps) and evaluate: the train set
    holds exactly the listed image and the validation log has aAcc (pixel accuracy)."""
    from mmengine.config import Config
    from mmseg.registry import DATASETS

    from segssl.mmseg.tools import run_mmseg_tool
    city = os.path.join(synthetic_root, 'cityscapes')
    first = sorted(glob.glob(os.path.join(city, 'leftImg8bit', 'train', '*', '*_leftImg8bit.png')))[0]
    image_id = os.path.relpath(first, os.path.join(city, 'leftImg8bit', 'train'))[:-len('_leftImg8bit.png')]
    split = tmp_path / 'one.txt'
    split.write_text(image_id + '\n')
    config = os.path.join(FINETUNE, 'twoblock_r18-os8_synthetic-128x128.py')
    os.environ['SEGSSL_DATA_ROOT'] = synthetic_root
    argv = sys.argv[:]
    try:
        cfg = Config.fromfile(config)
        ds = dict(cfg.train_dataloader.dataset, ann_file=str(split))
        dataset = DATASETS.build(ds)
        assert len(dataset) == 1 and dataset[0]['data_samples'].img_path == first
        code = run_mmseg_tool('train.py', [
            config, '--work-dir',
            str(tmp_path / 'w'), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2',
            f'train_dataloader.dataset.ann_file={split}', 'train_dataloader.batch_size=2',
            'visualizer.name=twoblock_smoke', 'model.backbone.init_cfg=None',
            'train_dataloader.dataset.pipeline.2.scale=(64,64)', 'val_dataloader.dataset.pipeline.1.scale=(64,64)',
            'model.data_preprocessor.size=(64,64)'
        ])
    finally:
        sys.argv = argv
        del os.environ['SEGSSL_DATA_ROOT']
    assert code == 0
    (scalars, ) = scalars_files(str(tmp_path / 'w'))
    val = [rec for rec in mmengine_scalars(str(tmp_path / 'w')) if 'aAcc' in rec]
    assert len(val) == 1 and 0 <= val[0]['aAcc'] <= 100 and 'mIoU' in val[0]

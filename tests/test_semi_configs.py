"""Each semi-supervised config is one row of seed 004's Tables 4.1 / 4.2 (label fractions) or 5.1
(ablations at 1/8 of Cityscapes): check what distinguishes it and what all share."""
import glob
import os

import pytest

from conftest import ROOT

pytest.importorskip('mmseg', reason='the mmseg stack is built by `make setup`')
SEMI = os.path.join(ROOT, 'configs', 'semi')
DEFAULT = dict(mix=dict(type='classmix', proportion=0.5), weight=dict(scheme='threshold_proportion', tau=0.968, base=1.0),
               unsup_loss='ce', soft_targets=False, strong_aug=None, iters=40000, crop=None)
CS, VOC = 'deeplabv2_r101-d8_1xb2_cityscapes-{}_512x1024_40k{}.py', 'deeplabv2_r101-d8_1xb10_voc-aug-{}_321x321_40k.py'
# file: (dataset, fraction, ClassMix fields that differ from DEFAULT, or None for supervised-only)
ROWS = {}
for f in ('1-30', '1-8', '1-4', '1-2'):
    ROWS['classmix_' + CS.format(f, '')] = ('cityscapes', f, {})
for f in ('1-30', '1-8', '1-4', '1-2', 'full'):
    ROWS['supervised_' + CS.format(f, '')] = ('cityscapes', f, None)
for f in ('1-100', '1-50', '1-20', '1-8', '1-4'):
    ROWS['classmix_' + VOC.format(f)] = ('voc', f, {})
for f in ('1-100', '1-50', '1-20', '1-8', '1-4', 'full'):
    ROWS['supervised_' + VOC.format(f)] = ('voc', f, None)
ABLATIONS = {   # Table 5.1
    'cowmix': dict(mix=dict(type='cowmix', proportion=0.5, sigma_range=(8, 32))),
    'cutmix': dict(mix=dict(type='cutmix', area=0.5)),
    'sigmoid-rampup': dict(weight=dict(scheme='sigmoid_rampup', base=1.0, rampup_steps=10000, rampup_c=5.0)),
    'pixel-threshold': dict(weight=dict(scheme='pixel_threshold', tau=0.968, base=1.0)),
    'constant-weight': dict(weight=dict(scheme='constant', base=1.0)),
    'squared-error': dict(unsup_loss='squared_error'),
    'soft-targets': dict(soft_targets=True),
    'random-crop': dict(crop=(512, 512)),
    'extra-aug': dict(strong_aug=dict(jitter_p=0.5, jitter_strength=0.25, blur_p=0.5, blur_sigma=(0.15, 1.15),
                                      blur_kernel_fraction=0.1)),
}
for key, diff in ABLATIONS.items():
    ROWS['classmix_' + CS.format('1-8', '_' + key)] = ('cityscapes', '1-8', diff)
ROWS['classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_80k.py'] = ('cityscapes', '1-8', dict(iters=80000))
ROWS['supervised_' + CS.format('1-8', '_random-crop')] = ('cityscapes', '1-8', 'crop')
SYNTHETIC = ('classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py', 'supervised_deeplabv2_r18-d8_synthetic-1-8_64x128.py')


@pytest.fixture(scope='module', autouse=True)
def fast_mmseg_base_lookup():
    """For every ``mmseg::_base_/...`` base, mmengine first reads all ~100 of mmseg's metafile yamls
    looking for a model entry (1-3 s a config here), fails, and falls back to the base folder.
    Base configs never have metafile entries: skip straight to the fallback in this module."""
    from mmengine.config import config
    original = config._get_external_cfg_path

    def lookup(package_path, cfg_file):
        if cfg_file.startswith('_base_/'):
            raise ValueError(cfg_file)
        return original(package_path, cfg_file)
    config._get_external_cfg_path = lookup
    yield
    config._get_external_cfg_path = original


def to_plain(x):
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    return tuple(to_plain(v) for v in x) if isinstance(x, (list, tuple)) else x


def test_every_config_is_a_listed_row():
    assert {os.path.basename(f) for f in glob.glob(os.path.join(SEMI, '*.py'))} == set(ROWS) | set(SYNTHETIC)
    assert len([r for r in ROWS.values() if r[0] == 'cityscapes' and r[1] == '1-8']) == 13   # Table 5.1's rows


@pytest.mark.parametrize('name', sorted(ROWS))
def test_config_matches_its_seed_row(name):
    from mmengine.config import Config
    dataset, fraction, diff = ROWS[name]
    cfg = Config.fromfile(os.path.join(SEMI, name))
    supervised = diff is None or diff == 'crop'
    want = dict(DEFAULT, **({} if supervised else diff))
    if diff == 'crop':
        want['crop'] = (512, 512)
    seg = cfg.model if supervised else cfg.model.segmentor
    # the student: DeepLab-v2, ResNet-101 at output stride 8, ASPP rates 6/12/18/24 summed
    assert seg.type == 'EncoderDecoder' and seg.backbone.depth == 101
    assert tuple(seg.backbone.dilations) == (1, 1, 2, 4) and tuple(seg.backbone.strides) == (1, 2, 1, 1)
    assert seg.decode_head.type == 'DeepLabV2Head' and tuple(seg.decode_head.dilations) == (6, 12, 18, 24)
    assert seg.decode_head.num_classes == (19 if dataset == 'cityscapes' else 21)
    # optimisation: SGD 2.5e-4 (classifier 10x), momentum 0.9, wd 5e-4, poly 0.9 over the run
    opt = cfg.optim_wrapper
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.momentum, opt.optimizer.weight_decay) == ('SGD', 2.5e-4, 0.9, 5e-4)
    assert opt.paramwise_cfg.custom_keys['decode_head'].lr_mult == 10.0
    sched = cfg.param_scheduler[0]
    assert (sched.type, sched.power, sched.eta_min, sched.end) == ('PolyLR', 0.9, 0.0, want['iters'])
    assert cfg.train_cfg.max_iters == want['iters'] and cfg.train_cfg.type == 'IterBasedTrainLoop'
    # data: batch 2 (+2) at 512x1024 for Cityscapes, 10 (+10) at 321x321 for VOC; the split files
    loader = cfg.train_dataloader
    assert loader.batch_size == (2 if dataset == 'cityscapes' else 10)
    assert loader.sampler.type == 'InfiniteSampler'
    size = want['crop'] or ((512, 1024) if dataset == 'cityscapes' else (321, 321))
    assert tuple(seg.data_preprocessor.size) == size
    parts = [loader.dataset] if supervised else [loader.dataset.labelled, loader.dataset.unlabelled]
    if not supervised:
        assert loader.dataset.type == 'PairedDataset'
        assert loader.dataset.unlabelled.ann_file == f'splits/{fraction}/unlabelled.txt'
    assert parts[0].ann_file == f'splits/{fraction}/labelled.txt'
    for part in parts:
        assert part.type == ('CityscapesDataset' if dataset == 'cityscapes' else 'PascalVOCDataset')
        steps = [t.type for t in part.pipeline]
        if dataset == 'cityscapes':        # resized to 512x1024; no augmentation unless random crop
            assert next(t for t in part.pipeline if t.type == 'Resize').scale == (1024, 512)
            assert ('RandomCrop' in steps) == (want['crop'] is not None)
            assert 'RandomFlip' not in steps and 'PhotoMetricDistortion' not in steps
        else:                              # scale 0.5-1.5, 321 crops, flip
            resize = next(t for t in part.pipeline if t.type == 'RandomResize')
            assert tuple(resize.ratio_range) == (0.5, 1.5)
            assert tuple(next(t for t in part.pipeline if t.type == 'RandomCrop').crop_size) == (321, 321)
            assert 'RandomFlip' in steps
        if want['crop']:
            assert tuple(next(t for t in part.pipeline if t.type == 'RandomCrop').crop_size) == want['crop']
    if supervised:
        return
    m = cfg.model
    assert m.type == 'ClassMixSegmentor' and m.alpha == 0.99 and m.eval_model == 'student'
    for key in ('mix', 'weight', 'unsup_loss', 'soft_targets', 'strong_aug'):
        assert to_plain(m[key]) == to_plain(want[key]), key


def test_synthetic_twins_differ_from_the_real_run_only_in_size():
    from mmengine.config import Config
    semi = Config.fromfile(os.path.join(SEMI, SYNTHETIC[0]))
    sup = Config.fromfile(os.path.join(SEMI, SYNTHETIC[1]))
    real = Config.fromfile(os.path.join(SEMI, 'classmix_' + CS.format('1-8', '')))
    for key in ('mix', 'weight', 'unsup_loss', 'soft_targets', 'strong_aug', 'alpha'):
        assert to_plain(semi.model[key]) == to_plain(real.model[key]), key
    assert semi.model.segmentor.decode_head.type == sup.model.decode_head.type == 'DeepLabV2Head'
    assert to_plain(semi.model.segmentor.backbone) == to_plain(sup.model.backbone)
    assert to_plain(semi.optim_wrapper) == to_plain(sup.optim_wrapper)
    assert to_plain(semi.train_dataloader.dataset.labelled) == to_plain(sup.train_dataloader.dataset)
    assert semi.train_dataloader.batch_size == sup.train_dataloader.batch_size
    assert semi.train_cfg.max_iters == sup.train_cfg.max_iters

"""Each semi-supervised config is one row of the ClassMix/DACS thesis's Tables 4.1 / 4.2 (label fractions) or 5.1
(ablations at 1/8 of Cityscapes): check what distinguishes it and what all share."""
import glob
import os

import pytest
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
pytestmark = pytest.mark.usefixtures('fast_mmseg_base_lookup')  # mmseg:: bases, fast (conftest)
SEMI = os.path.join(ROOT, 'configs', 'semi')
# the ClassMix/DACS thesis's protocol, the values every row shares; ROWS below say what each varies
PROTOCOL = dict(
    # the fields a row may vary (ClassMix's mixing, weighting and loss; iterations; crop), at their defaults
    default=dict(mix=dict(type='classmix', proportion=0.5), weight=dict(scheme='threshold_proportion', tau=0.968,
                                                                        base=1.0), unsup_loss='ce', soft_targets=False,
                 strong_aug=None, iters=40000, crop=None),
    # the student: DeepLab-v2, ResNet-101 at output stride 8, ASPP rates 6/12/18/24 summed
    depth=101,
    dilations=(1, 1, 2, 4),
    strides=(1, 2, 1, 1),
    head='DeepLabV2Head',
    aspp_rates=(6, 12, 18, 24),
    # optimisation: SGD 2.5e-4 (classifier 10x), momentum 0.9, wd 5e-4, poly 0.9 over the run
    optimizer=('SGD', 2.5e-4, 0.9, 5e-4),
    classifier_lr_mult=10.0,
    poly=('PolyLR', 0.9, 0.0),
    # the ClassMix wrapper: EMA teacher alpha 0.99, evaluated on the student
    alpha=0.99,
    eval_model='student',
    # data: batch 2 (+2) at 512x1024 for Cityscapes (resized, no augmentation unless random
    # crop), 10 (+10) at 321x321 for VOC (scale 0.5-1.5, 321 crops, flip)
    cityscapes=dict(dataset='CityscapesDataset', num_classes=19, batch=2, size=(512, 1024), resize=(1024, 512)),
    voc=dict(dataset='PascalVOCDataset', num_classes=21, batch=10, size=(321, 321), ratio_range=(0.5, 1.5),
             crop=(321, 321)))
CS, VOC = 'deeplabv2_r101-d8_1xb2_cityscapes-{}_512x1024_40k{}.py', 'deeplabv2_r101-d8_1xb10_voc-aug-{}_321x321_40k.py'
# file: (dataset, fraction, fields that differ from PROTOCOL['default'], or None for supervised-only)
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


def to_plain(x):
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    return tuple(to_plain(v) for v in x) if isinstance(x, (list, tuple)) else x


def test_every_config_is_a_listed_row():
    assert {os.path.basename(f) for f in glob.glob(os.path.join(SEMI, '*.py'))} == set(ROWS) | set(SYNTHETIC)
    assert len([r for r in ROWS.values() if r[0] == 'cityscapes' and r[1] == '1-8']) == 13  # Table 5.1's rows


@pytest.mark.parametrize('name', sorted(ROWS))
def test_config_matches_its_seed_row(name):
    from mmengine.config import Config
    dataset, fraction, diff = ROWS[name]
    cfg = Config.fromfile(os.path.join(SEMI, name))
    supervised = diff is None or diff == 'crop'
    want = dict(PROTOCOL['default'], **({} if supervised else diff))
    if diff == 'crop':
        want['crop'] = ABLATIONS['random-crop']['crop']  # the supervised twin of that row
    data = PROTOCOL[dataset]
    seg = cfg.model if supervised else cfg.model.segmentor
    assert seg.type == 'EncoderDecoder' and seg.backbone.depth == PROTOCOL['depth']
    assert tuple(seg.backbone.dilations) == PROTOCOL['dilations'] and tuple(seg.backbone.strides) == PROTOCOL['strides']
    assert seg.decode_head.type == PROTOCOL['head'] and tuple(seg.decode_head.dilations) == PROTOCOL['aspp_rates']
    assert seg.decode_head.num_classes == data['num_classes']
    opt = cfg.optim_wrapper
    optimizer = opt.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum, optimizer.weight_decay) == PROTOCOL['optimizer']
    assert opt.paramwise_cfg.custom_keys['decode_head'].lr_mult == PROTOCOL['classifier_lr_mult']
    sched = cfg.param_scheduler[0]
    assert (sched.type, sched.power, sched.eta_min, sched.end) == PROTOCOL['poly'] + (want['iters'], )
    assert cfg.train_cfg.max_iters == want['iters'] and cfg.train_cfg.type == 'IterBasedTrainLoop'
    # data: the batch (labelled, and as many unlabelled), the input size, the split files
    loader = cfg.train_dataloader
    assert loader.batch_size == data['batch']
    assert loader.sampler.type == 'InfiniteSampler'
    size = want['crop'] or data['size']
    assert tuple(seg.data_preprocessor.size) == size
    parts = [loader.dataset] if supervised else [loader.dataset.labelled, loader.dataset.unlabelled]
    if not supervised:
        assert loader.dataset.type == 'PairedDataset'
        assert loader.dataset.unlabelled.ann_file == f'splits/{fraction}/unlabelled.txt'
    assert parts[0].ann_file == f'splits/{fraction}/labelled.txt'
    for part in parts:
        assert part.type == data['dataset']
        steps = [t.type for t in part.pipeline]
        if dataset == 'cityscapes':  # resized to 512x1024; no augmentation unless random crop
            assert next(t for t in part.pipeline if t.type == 'Resize').scale == data['resize']
            assert ('RandomCrop' in steps) == (want['crop'] is not None)
            assert 'RandomFlip' not in steps and 'PhotoMetricDistortion' not in steps
        else:  # scale 0.5-1.5, 321 crops, flip
            resize = next(t for t in part.pipeline if t.type == 'RandomResize')
            assert tuple(resize.ratio_range) == data['ratio_range']
            assert tuple(next(t for t in part.pipeline if t.type == 'RandomCrop').crop_size) == data['crop']
            assert 'RandomFlip' in steps
        if want['crop']:
            assert tuple(next(t for t in part.pipeline if t.type == 'RandomCrop').crop_size) == want['crop']
    if supervised:
        return
    m = cfg.model
    assert m.type == 'ClassMixSegmentor' and m.alpha == PROTOCOL['alpha'] and m.eval_model == PROTOCOL['eval_model']
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

"""configs/uda against the ClassMix/DACS thesis's UDA settings (DeepLab-v2 R101, GTA5 resized to 760x1280,
SYNTHIA at 760x1280, Cityscapes 512x1024, 512x512 crops, batch 2 + 2, 250k iterations, SGD
2.5e-4 / 10x classifier / poly 0.9, teacher 0.99, tau 0.968, jitter + blur), their CPU twins, and
a 2-iteration run of the DACS twin through mmseg's train.py."""
import functools
import json
import os

import numpy as np
import pytest
from conftest import ROOT, run_tool, skip_without_mmseg
from PIL import Image

from segssl.runs import mmengine_scalars

skip_without_mmseg()
UDA = os.path.join(ROOT, 'configs', 'uda')
GTA, SYN = ('GTA5Dataset', 'IoUMetric'), ('SynthiaDataset', 'SynthiaIoUMetric')
REAL = {  # config -> (mode or None for source-only, source dataset, evaluator, Table row value)
    'dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py': ('inter', *GTA),
    'dacs-intramix_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py': ('intra', *GTA),
    'dacs-intramix-da_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py': ('intra_aligned', *GTA),
    'source-only_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py': (None, *GTA),
    'dacs_deeplabv2_r101-d8_1xb2_synthia-to-cityscapes-512x512_250k.py': ('inter', *SYN),
    'source-only_deeplabv2_r101-d8_1xb2_synthia-to-cityscapes-512x512_250k.py': (None, *SYN),
}
TWINS = ('dacs_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
         'source-only_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py')
DACS_AUG = dict(jitter_p=0.8, jitter_strength=0.25, blur_p=0.5, blur_sigma=(0.15, 1.15), blur_kernel_fraction=0.1)


@functools.lru_cache(maxsize=None)
def _load(name):
    from mmengine.config import Config
    return Config.fromfile(os.path.join(UDA, name))


def load(name):
    import copy
    return copy.deepcopy(_load(name))


def test_every_uda_config_is_checked():
    assert sorted(os.listdir(UDA)) == sorted(list(REAL) + list(TWINS))


def _types(pipeline):
    return [t['type'] for t in pipeline]


def _check_dacs_options(model, mode):
    assert model.type == 'DACSSegmentor' and model.mode == mode and model.proportion == 0.5
    assert model.alpha == 0.99 and model.unsup_loss == 'ce' and model.eval_model == 'student'
    assert model.weight == dict(scheme='threshold_proportion', tau=0.968, base=1.0)
    assert dict(model.strong_aug) == DACS_AUG


@pytest.mark.parametrize('name', sorted(REAL))
def test_real_configs_match_the_seed(name):
    mode, source_type, evaluator = REAL[name]
    cfg = load(name)
    student = cfg.model.segmentor if mode else cfg.model
    if mode:
        _check_dacs_options(cfg.model, mode)
    else:
        assert cfg.model.type == 'EncoderDecoder'
    assert student.backbone.depth == 101 and student.backbone.strides == (1, 2, 1, 1)
    assert student.backbone.dilations == (1, 1, 2, 4)  # output stride 8
    assert student.decode_head.type == 'DeepLabV2Head' and student.decode_head.dilations == (6, 12, 18, 24)
    assert student.decode_head.num_classes == 19 and student.pretrained is None
    assert student.data_preprocessor.size == (512, 512)
    # the official DeepLab-v2 start: BGR 0-255 minus the ImageNet BGR mean, source and target alike
    assert student.data_preprocessor.mean == [104.00698793, 116.66876762, 122.67891434]
    assert student.data_preprocessor.std == [1.0, 1.0, 1.0] and not student.data_preprocessor.bgr_to_rgb
    assert student.backbone.type == 'DeepLabV2ResNet' and student.backbone.style == 'caffe'
    # data: batch 2 (+ 2), source as the report says, target Cityscapes at 512x1024, 512x512 crops
    loader = cfg.train_dataloader
    assert loader.batch_size == 2
    source = loader.dataset.labelled if mode else loader.dataset
    assert source.type == source_type
    sp = source.pipeline
    crops = [t for t in sp if t['type'] == 'RandomCrop']
    assert len(crops) == 1 and crops[0].crop_size == (512, 512) and 'RandomFlip' not in _types(sp)
    resizes = [t for t in sp if t['type'] == 'Resize']
    if source_type == 'GTA5Dataset':
        assert len(resizes) == 1 and resizes[0].scale == (1280, 760) and resizes[0].keep_ratio is False
    else:
        assert resizes == []  # SYNTHIA kept at 760x1280
    if mode:
        target = loader.dataset.unlabelled
        assert loader.dataset.type == 'PairedDataset' and target.type == 'CityscapesDataset'
        assert target.data_prefix.img_path == 'leftImg8bit/train' and 'LoadAnnotations' not in _types(target.pipeline)
        assert [t.scale for t in target.pipeline if t['type'] == 'Resize'] == [(1024, 512)]
        assert [t.crop_size for t in target.pipeline if t['type'] == 'RandomCrop'] == [(512, 512)]
    if mode == 'intra_aligned':
        assert cfg.model.alignment.momentum == 0.99 and cfg.model.alignment.prior.endswith('.json')
    val = cfg.val_dataloader.dataset
    assert val.type == 'CityscapesDataset' and val.data_prefix.img_path == 'leftImg8bit/val'
    assert cfg.val_evaluator.type == evaluator
    # schedule
    assert cfg.train_cfg.max_iters == 250000 and cfg.param_scheduler[0].end == 250000
    assert cfg.param_scheduler[0].type == 'PolyLR' and cfg.param_scheduler[0].power == 0.9
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 2.5e-4, 0.9, 5e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['decode_head'].lr_mult == 10.0
    assert cfg.custom_imports.imports == ['segssl.mmseg']


def test_cpu_twins_change_only_size_depth_and_schedule():
    dacs, source_only = load(TWINS[0]), load(TWINS[1])
    real = load('dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py')
    _check_dacs_options(dacs.model, 'inter')
    for key in ('alpha', 'weight', 'strong_aug', 'proportion', 'unsup_loss', 'mode'):
        assert dacs.model[key] == real.model[key], key
    assert dacs.model.segmentor.backbone.depth == source_only.model.backbone.depth == 18
    assert dacs.model.segmentor.decode_head == source_only.model.decode_head
    assert dacs.model.segmentor.backbone == source_only.model.backbone
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_dataloader'):
        assert dacs[key] == source_only[key], key  # same iterations and optimiser
    assert dacs.train_dataloader.batch_size == source_only.train_dataloader.batch_size == 2
    assert dacs.train_dataloader.dataset.labelled == source_only.train_dataloader.dataset
    assert dacs.train_dataloader.dataset.labelled.data_root.endswith('/source/')
    assert dacs.train_dataloader.dataset.unlabelled.data_root.endswith('/cityscapes/')


def test_smoke_dacs_twin_trains_two_iterations_with_mmseg_train_script(synthetic_root, tmp_path):
    work = tmp_path / 'dacs'
    r = run_tool([
        'tools/train.py',
        os.path.join(UDA, TWINS[0]), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1'
    ], env={'SEGSSL_DATA_ROOT': synthetic_root})
    assert r.returncode == 0, r.stdout[-4000:]
    records = mmengine_scalars(str(work))
    train = [rec for rec in records if 'loss' in rec]
    assert len(train) == 2 and all(np.isfinite(rec['loss']) for rec in train)
    assert [rec['unsup.teacher_alpha'] for rec in train] == [0.0, 0.0]  # alpha_0 = 0 at step 2
    # source pixels weigh 1, target pixels lambda_u <= 1: the mean weight lies in [share pasted, 1]
    assert all(0 < rec['unsup.weight'] <= 1 for rec in train)
    assert any(0 <= rec['mIoU'] <= 100 for rec in records if 'mIoU' in rec)
    assert os.path.isfile(work / 'iter_2.pth')


def test_class_distribution_tool_counts_train_ids(tmp_path, capsys):
    d = tmp_path / 'gt' / 'city'
    d.mkdir(parents=True)
    Image.fromarray(np.array([[0, 0, 1], [255, 18, 1]], np.uint8)).save(d / 'a_gtFine_labelTrainIds.png')
    Image.fromarray(np.array([[0, 255]], np.uint8)).save(d / 'b_gtFine_labelTrainIds.png')
    Image.fromarray(np.array([[5]], np.uint8)).save(d / 'c_gtFine_color.png')  # not counted
    r = run_tool(['tools/class_distribution.py', str(tmp_path / 'gt'), '-o', str(tmp_path / 'p.json')], timeout=120)
    assert r.returncode == 0, r.stdout
    out = json.load(open(tmp_path / 'p.json'))
    want = np.zeros(19)
    want[[0, 1, 18]] = [3, 2, 1]
    assert out['pixels'] == want.astype(int).tolist() and out['files'] == 2
    assert np.allclose(out['class_frequencies'], want / 6)
    import runpy
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'class_distribution.py'))  # main, in-process
    assert tool['main']([str(tmp_path / 'nothing')]) == 1
    assert "no '*_labelTrainIds.png' files" in capsys.readouterr().out

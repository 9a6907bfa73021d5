"""The ERFNet thesis's (001_06df34aad1e5772c.txt) protocol pinned in the configs: every pretext task starts
from an ImageNet-classification encoder (~347) with scratch one switch away, Table 5.3's
ImageNet-initialised vs scratch rotation (~349, ~365), Table 5.6's rotation on ImageNet with and
without augmentation (~379-381), SimCLR on the ERFNet encoder (~255-269) with its fine-tune,
and the BN reset of "the batchnorm parameters" (~349). Configs are resolved with mmengine and
compared to the report's values; models are built and initialised from tiny files written here."""
import json
import logging
import os
import types

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import ROOT, load_ckpt, randomise_state, skip_without_mmseg

skip_without_mmseg()
PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain')
FINETUNE = os.path.join(ROOT, 'configs', 'finetune', 'erfnet')
DEFAULT_ENCODER = 'work_dirs/pretrained/erfnet_imagenet_mmseg.pth'
ENVS = ('SEGSSL_IMAGENET_ENCODER', 'SEGSSL_BACKBONE', 'SEGSSL_CLASS_WEIGHTS', 'SEGSSL_DATA_ROOT')
# the report's pretext rows (each starts from the ImageNet encoder) and the new ones
IMAGENET_INIT = [
    'erfnet_rotation-waug_1xb128_cityscapes-extra.py', 'erfnet_rotation-noaug_1xb128_cityscapes-extra.py',
    'erfnet_jigsaw_1xb128_cityscapes-extra.py', 'erfnet_relative-patch_1xb128_cityscapes-extra.py',
    'erfnet_colorization_1xb20_cityscapes-extra.py', 'erfnet_otsu-waug_1xb20_cityscapes-extra.py',
    'erfnet_otsu-noaug_1xb20_imagenet-224.py', 'erfnet_rotation-waug_1xb128_imagenet-224.py',
    'erfnet_rotation-noaug_1xb128_imagenet-224.py', 'erfnet_simclr_1xb128_cityscapes-extra.py'
]
TWINS = [
    'erfnet_rotation_synthetic.py', 'erfnet_jigsaw_synthetic.py', 'erfnet_relative-patch_synthetic.py',
    'erfnet_colorization_synthetic.py', 'erfnet_otsu_synthetic.py', 'erfnet_simclr_synthetic.py'
]


@pytest.fixture(scope='module')
def mm():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import HOOKS, MODELS
    init_default_scope('mmseg')
    return MODELS, HOOKS


def load(path, monkeypatch, **env):
    """``path`` resolved with exactly the segssl variables ``env`` set."""
    from mmengine.config import Config
    for k in ENVS:
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return Config.fromfile(path)


def random_erfnet_state(MODELS, seed):
    """A default mmseg ERFNet's state with random weights and BN statistics (a 'pretrained' file)."""
    torch.manual_seed(seed)
    return randomise_state(MODELS.build(dict(type='ERFNet')).state_dict(), batches_tracked=7)


@pytest.fixture(scope='module')
def files(mm, tmp_path_factory):
    """An encoder-only ImageNet file (mmseg names), a full ERFNet file (encoder + decoder), the
    same encoder in erfnet_pytorch's layout, and ENet class weights for 19 classes."""
    MODELS, _ = mm
    from segssl.convert.erfnet import original_erfnet_name
    d = tmp_path_factory.mktemp('erfnet')
    sd = random_erfnet_state(MODELS, 1)
    enc = {k: v for k, v in sd.items() if k.startswith('encoder.')}
    torch.save({'state_dict': enc}, d / 'imagenet_encoder.pth')
    torch.save({'state_dict': random_erfnet_state(MODELS, 2)}, d / 'full.pth')
    torch.save({original_erfnet_name(k): v for k, v in enc.items()}, d / 'erfnet_pytorch.pth')
    json.dump([1.0 + i / 10 for i in range(19)], open(d / 'w.json', 'w'))
    return dict(enc=enc, encoder=str(d / 'imagenet_encoder.pth'), full=str(d / 'full.pth'),
                original=str(d / 'erfnet_pytorch.pth'), weights=str(d / 'w.json'), dir=d)


# ------------------------------------------------------- ImageNet-classification encoder start
@pytest.mark.parametrize('name', IMAGENET_INIT)
def test_every_pretext_config_starts_from_the_imagenet_encoder_and_scratch_is_one_switch(name, monkeypatch):
    path = os.path.join(PRETRAIN, name)
    init = load(path, monkeypatch).model.backbone.init_cfg
    assert init == dict(type='PretrainedERFNetEncoder', checkpoint=DEFAULT_ENCODER)
    init = load(path, monkeypatch, SEGSSL_IMAGENET_ENCODER='IMG.pth').model.backbone.init_cfg
    assert init == dict(type='PretrainedERFNetEncoder', checkpoint='IMG.pth')
    assert load(path, monkeypatch, SEGSSL_IMAGENET_ENCODER='scratch').model.backbone.init_cfg is None


@pytest.mark.parametrize('name', TWINS)
def test_cpu_twins_start_from_scratch_unless_an_encoder_is_named(name, monkeypatch):
    path = os.path.join(PRETRAIN, name)
    assert load(path, monkeypatch).model.backbone.init_cfg is None
    init = load(path, monkeypatch, SEGSSL_IMAGENET_ENCODER='IMG.pth').model.backbone.init_cfg
    assert init == dict(type='PretrainedERFNetEncoder', checkpoint='IMG.pth')


def _encoder(model):
    bb = model.online_backbone if hasattr(model, 'online_backbone') else model.backbone
    return bb, {k: v.clone() for k, v in bb.state_dict().items()}


@pytest.mark.parametrize('name', [
    'erfnet_rotation-waug_1xb128_cityscapes-extra.py', 'erfnet_otsu-waug_1xb20_cityscapes-extra.py',
    'erfnet_simclr_1xb128_cityscapes-extra.py'
])
@pytest.mark.parametrize('source', ['encoder', 'full', 'original'])
def test_the_imagenet_encoder_loads_into_the_encoder_only(name, source, mm, files, monkeypatch):
    """Rotation (PretextClassifier), Otsu (EncoderDecoder with a decoder) and SimCLR built from
    their configs and initialised: the encoder equals the file's, the decoder keeps its own
    initialisation even when the file carries one (``full``); the erfnet_pytorch layout loads too."""
    MODELS, _ = mm
    src = dict(files['enc'])
    if source == 'full':
        src = {k: v for k, v in torch.load(files['full'])['state_dict'].items() if k.startswith('encoder.')}
    cfg = load(os.path.join(PRETRAIN, name), monkeypatch, SEGSSL_IMAGENET_ENCODER=files[source])
    model = MODELS.build(cfg.model)
    bb, before = _encoder(model)
    model.init_weights()
    after = bb.state_dict()
    enc = [k for k in after if k.startswith('encoder.')]
    assert len(enc) == len(src) == len(files['enc'])
    assert all(torch.equal(after[k], src[k]) for k in enc)
    dec = [k for k in after if k.startswith('decoder.')]
    assert (len(dec) > 0) == (name.startswith('erfnet_otsu'))  # encoder-only models have none
    assert all(torch.equal(after[k], before[k]) for k in dec)


def test_a_file_without_the_whole_encoder_is_refused_by_name(mm, files):
    MODELS, _ = mm
    from mmengine.model.weight_init import initialize
    partial = {k: v for k, v in files['enc'].items() if not k.startswith('encoder.15.')}
    path = files['dir'] / 'partial.pth'
    torch.save({'state_dict': partial}, path)
    net = MODELS.build(dict(type='ERFNet'))
    with pytest.raises(ValueError, match=r'partial.pth: its ERFNet encoder does not fit the model: '
                       r"missing \['encoder.15."):
        initialize(net, dict(type='PretrainedERFNetEncoder', checkpoint=str(path)))


# ------------------------------------------------------------------------- Table 5.3 and 5.6
def _without_init(cfg):
    m = cfg.model.to_dict()
    m['backbone'].pop('init_cfg')
    return m


def test_table_5_3_imagenet_initialised_and_scratch_rotation_differ_only_in_the_start(mm, monkeypatch):
    MODELS, _ = mm
    imagenet = load(os.path.join(PRETRAIN, 'erfnet_rotation-waug_1xb128_cityscapes-extra.py'), monkeypatch)
    scratch = load(os.path.join(PRETRAIN, 'erfnet_rotation-waug-scratch_1xb128_cityscapes-extra.py'), monkeypatch)
    assert imagenet.model.backbone.init_cfg == dict(type='PretrainedERFNetEncoder', checkpoint=DEFAULT_ENCODER)
    assert scratch.model.backbone.init_cfg is None
    assert _without_init(imagenet) == _without_init(scratch)
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'train_pipeline'):
        assert imagenet[key] == scratch[key], key
    # both rows: Cityscapes extended set (~365), batch 128, Adam 5e-4, poly 0.9 per epoch
    assert scratch.train_dataloader.dataset.data_prefix.img_path == 'leftImg8bit/train_extra'
    assert scratch.train_dataloader.batch_size == 128
    assert scratch.optim_wrapper.optimizer.type == 'Adam' and scratch.optim_wrapper.optimizer.lr == 5e-4
    assert [(p.type, p.power, p.by_epoch) for p in scratch.param_scheduler] == [('PolyLR', 0.9, True)]
    model = MODELS.build(scratch.model)
    model.init_weights()  # nothing to load: random encoder
    assert model.task == 'rotation' and model.num_classes == 4


@pytest.mark.parametrize('name,augment', [('erfnet_rotation-waug_1xb128_imagenet-224.py', True),
                                          ('erfnet_rotation-noaug_1xb128_imagenet-224.py', False)])
def test_table_5_6_rotation_on_imagenet_with_and_without_augmentation(name, augment, mm, monkeypatch):
    MODELS, _ = mm
    from mmseg.registry import TRANSFORMS
    cfg = load(os.path.join(PRETRAIN, name), monkeypatch)
    ds = cfg.train_dataloader.dataset
    assert ds.data_root == 'data/imagenet/' and ds.data_prefix.img_path == 'train'
    assert cfg.train_dataloader.batch_size == 128 and cfg.augment == augment
    if augment:  # "random translation, cropping, and color jittering, along with normalization"
        assert cfg.train_pipeline[1:] == [
            dict(type='Resize', scale=(4096, 256), keep_ratio=True),
            dict(type='RandomCrop', crop_size=(224, 224)),
            dict(type='PhotoMetricDistortion'),
            dict(type='RotationPretext', num_rotations=4),
            dict(type='PackPretextInputs')
        ]
    else:  # "the image is just resized and randomly rotated"
        assert cfg.train_pipeline[1:] == [
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='RotationPretext', num_rotations=4),
            dict(type='PackPretextInputs')
        ]
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]  # the normalisation
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr) == ('Adam', 5e-4)
    np.random.seed(0)
    img = np.random.randint(0, 256, (300, 451, 3), np.uint8)  # any ImageNet size
    r = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_path='x.JPEG')
    for step in cfg.train_pipeline[1:]:
        r = TRANSFORMS.build(step)(r)
    assert tuple(r['inputs'].shape) == (3, 224, 224) and 0 <= r['data_samples'].pretext_label < 4
    model = MODELS.build(cfg.model)
    assert (model.task, model.num_classes) == ('rotation', 4)
    assert [tuple(l.weight.shape) for l in model.head if hasattr(l, 'weight')] == [(128, 128), (4, 128)]


# ------------------------------------------------------------------------------------ SimCLR
def nt_xent_by_hand(z, n, tau):
    """The ERFNet thesis Eq. (3.5), averaged over the 2N samples: sample i's positive is i +- N."""
    z = z.double()
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        sim = [float(F.cosine_similarity(z[i], z[k], dim=0)) / tau for k in range(2 * n)]
        denom = sum(np.exp(sim[k]) for k in range(2 * n) if k != i)
        total += -np.log(np.exp(sim[j]) / denom)
    return total / (2 * n)


def test_simclr_pretext_config_follows_seed_001_and_its_loss_is_eq_3_5(mm, monkeypatch):
    MODELS, _ = mm
    cfg = load(os.path.join(PRETRAIN, 'erfnet_simclr_1xb128_cityscapes-extra.py'), monkeypatch,
               SEGSSL_IMAGENET_ENCODER='scratch')
    m = cfg.model
    assert (m.type, m.temperature, m.pool, m.encoder_only) == ('SimCLR', 0.5, 'max', True)
    # 3.1.2's head: max-pool -> Linear 128 -> ReLU -> Linear (no BatchNorm)
    assert m.projector == dict(in_channels=128, hidden_channels=128, out_channels=128, batch_norm=False)
    assert m.backbone.type == 'ERFNet' and m.backbone.enc_downsample_channels == (16, 64, 128)
    assert cfg.train_dataloader.batch_size == 128  # encoder-only task
    assert cfg.train_dataloader.dataset.data_prefix.img_path == 'leftImg8bit/train_extra'
    assert (cfg.optim_wrapper.optimizer.type, cfg.optim_wrapper.optimizer.lr) == ('Adam', 5e-4)
    assert [(p.type, p.power, p.by_epoch) for p in cfg.param_scheduler] == [('PolyLR', 0.9, True)]
    steps = {t['type']: t for t in cfg.train_pipeline}
    # crop + resize, flip, colour jitter, grayscale, Gaussian blur (3.2.7)
    crop, color = steps['TwoViewCrop'], steps['ViewColorAugment']
    assert crop.flip_prob == 0.5 and crop.size == 512
    assert color.jitter_prob > 0 and color.grayscale_prob > 0 and color.blur_prob > 0 and color.solarize_prob == 0
    model = MODELS.build(m)
    model.init_weights()
    assert not any(k.startswith('online_backbone.decoder') for k in model.state_dict())
    layers = list(model.projector)
    assert [type(l) for l in layers] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [tuple(layers[i].weight.shape) for i in (0, 2)] == [(128, 128), (128, 128)]
    # the loss against a by-hand forward: encoder blocks, global max-pool, head, Eq. (3.5)
    model.eval()
    torch.manual_seed(0)
    inputs = torch.randn(3, 4, 3, 32, 32)
    with torch.no_grad():
        loss = model(inputs, mode='loss')['loss']
        x = inputs[:, :2].transpose(0, 1).flatten(0, 1)  # [v1 of all; v2 of all]
        for block in model.online_backbone.encoder:
            x = block(x)
        assert x.shape == (6, 128, 4, 4)  # 128 x H/8 x W/8
        h = x.flatten(2).max(dim=2).values
        z = layers[2](F.relu(layers[0](h)))
    assert float(loss) == pytest.approx(nt_xent_by_hand(z, 3, 0.5), rel=1e-5)


def test_simclr_model_options_are_checked(mm):
    MODELS, _ = mm
    with pytest.raises(ValueError, match="pool='sum', expected 'avg' or 'max'"):
        MODELS.build(dict(type='SimCLR', backbone=dict(type='ERFNet'), projector=dict(in_channels=128), pool='sum'))
    with pytest.raises(ValueError, match='encoder_only=True needs a backbone with a decoder'):
        MODELS.build(
            dict(type='SimCLR', backbone=dict(type='ResNet', depth=18), projector=dict(in_channels=512),
                 encoder_only=True))


@pytest.mark.parametrize('name', ['erfnet_simclr_1xb20_cityscapes-512x1024.py', 'erfnet_simclr_synthetic-128x256.py'])
def test_simclr_finetune_takes_the_simclr_encoder_and_a_random_decoder(name, mm, files, monkeypatch):
    MODELS, _ = mm
    cfg = load(os.path.join(FINETUNE, name), monkeypatch)
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='work_dirs/pretrained/erfnet_simclr.pth',
                                               prefix='online_backbone.')
    assert cfg.pretext_task == 'simclr' and cfg.optim_wrapper.optimizer.lr == 5e-4
    # a SimCLR checkpoint (as the pretraining run saves it) -> the fine-tuning segmentor
    simclr = MODELS.build(load(os.path.join(PRETRAIN, 'erfnet_simclr_synthetic.py'), monkeypatch).model)
    with torch.no_grad():
        for p in simclr.parameters():
            p.normal_(0, 0.1)
    ckpt = files['dir'] / f'simclr_{name}.pth'
    torch.save({'state_dict': simclr.state_dict()}, ckpt)
    cfg = load(os.path.join(FINETUNE, name), monkeypatch, SEGSSL_BACKBONE=str(ckpt),
               SEGSSL_CLASS_WEIGHTS=files['weights'])
    seg = MODELS.build(cfg.model)
    dec_before = {k: v.clone() for k, v in seg.backbone.state_dict().items() if k.startswith('decoder.')}
    seg.init_weights()
    state, src = seg.backbone.state_dict(), simclr.online_backbone.state_dict()
    assert sorted(k for k in state if k.startswith('encoder.')) == sorted(src)
    assert all(torch.equal(state[k], v) for k, v in src.items())
    assert dec_before and all(torch.equal(state[k], v) for k, v in dec_before.items())
    assert seg.decode_head.conv_seg.weight.shape == (16, 19, 2, 2)  # new last layer


# ---------------------------------------------------------------------------------- BN reset
def _fake_runner(model):
    return types.SimpleNamespace(model=model, iter=0, logger=logging.getLogger('erfnet'))


@pytest.mark.parametrize(
    'name', ['erfnet_rotation-bnreset_1xb20_cityscapes-512x1024.py', 'erfnet_rotation-bnreset_synthetic-128x256.py'])
def test_bnreset_resets_the_batchnorm_parameters_and_statistics(name, mm, files, monkeypatch):
    MODELS, HOOKS = mm
    cfg = load(os.path.join(FINETUNE, name), monkeypatch, SEGSSL_BACKBONE=files['full'],
               SEGSSL_CLASS_WEIGHTS=files['weights'])
    assert cfg.custom_hooks == [dict(type='ResetNormStatsHook', layers=(1, 16), affine=True)]
    seg = MODELS.build(cfg.model)
    seg.init_weights()  # the 'pretrained' encoder
    loaded = torch.load(files['full'])['state_dict']
    before = {k: v.clone() for k, v in seg.state_dict().items()}
    assert all(torch.equal(before['backbone.' + k], v) for k, v in loaded.items())
    HOOKS.build(cfg.custom_hooks[0]).before_train(_fake_runner(seg))
    after = seg.state_dict()
    bns = {n: m for n, m in seg.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    enc = [n for n in bns if n.startswith('backbone.encoder.')]
    assert len(enc) == 3 + 2 * 13  # 3 downsamplers, 13 non-bt-1D
    for n in enc:  # a fresh BatchNorm's values
        fresh = nn.BatchNorm2d(bns[n].num_features).state_dict()
        for leaf, v in fresh.items():
            assert torch.equal(after[f'{n}.{leaf}'], v), f'{n}.{leaf}'
        # the loaded values were not already the reset ones
        assert not torch.equal(before[f'{n}.weight'], fresh['weight'])
        assert not torch.equal(before[f'{n}.running_var'], fresh['running_var'])
    reset = {
        f'{n}.{leaf}'
        for n in enc
        for leaf in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
    }
    assert all(torch.equal(after[k], before[k]) for k in after if k not in reset)  # the rest as loaded


def test_bn_reset_hook_follows_the_seed_by_default_and_keeps_affine_when_asked(mm, files):
    MODELS, HOOKS = mm
    from segssl.mmseg import ResetNormStatsHook
    assert ResetNormStatsHook().affine is True
    net = MODELS.build(
        dict(type='EncoderDecoder', backbone=dict(type='ERFNet'), decode_head=dict(type='ERFNetOutputHead',
                                                                                   in_channels=16, num_classes=4)))
    net.backbone.load_state_dict(torch.load(files['full'])['state_dict'])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    HOOKS.build(dict(type='ResetNormStatsHook', layers=(1, 16), affine=False)).before_train(_fake_runner(net))
    after = net.state_dict()
    name = 'backbone.encoder.0.bn'
    assert torch.equal(after[f'{name}.weight'], before[f'{name}.weight'])
    assert torch.equal(after[f'{name}.bias'], before[f'{name}.bias'])
    assert torch.equal(after[f'{name}.running_mean'], torch.zeros(16))
    assert torch.equal(after[f'{name}.running_var'], torch.ones(16))
    assert int(after[f'{name}.num_batches_tracked']) == 0


def test_smoke_simclr_twin_trains_two_iterations_and_its_encoder_fine_tunes(mm, files, synthetic_root, tmp_path,
                                                                            monkeypatch):
    """2 iterations of erfnet_simclr_synthetic.py through mmseg's train script; the checkpoint holds
    only online_backbone.encoder.* and projector.*, and the fine-tune twin takes its encoder."""
    from conftest import run_tool
    MODELS, _ = mm
    work = tmp_path / 'simclr'
    r = run_tool([
        'tools/train.py',
        os.path.join(PRETRAIN, 'erfnet_simclr_synthetic.py'), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1'
    ], env={'SEGSSL_DATA_ROOT': synthetic_root}, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:]
    sd = load_ckpt(work / 'iter_2.pth')['state_dict']
    assert {k.split('.')[0] + '.' + k.split('.')[1] for k in sd if k.startswith('online_backbone.')} == \
        {'online_backbone.encoder'}
    assert {k.split('.')[0] for k in sd} == {'online_backbone', 'projector'}
    cfg = load(os.path.join(FINETUNE, 'erfnet_simclr_synthetic-128x256.py'), monkeypatch,
               SEGSSL_BACKBONE=str(work / 'iter_2.pth'), SEGSSL_CLASS_WEIGHTS=files['weights'])
    seg = MODELS.build(cfg.model)
    seg.init_weights()
    state = seg.backbone.state_dict()
    assert all(
        torch.equal(state[k[len('online_backbone.'):]], v) for k, v in sd.items() if k.startswith('online_backbone.'))

"""The ERFNet thesis's pretext tasks on the mmseg side: transforms against segssl.core, the classifier and
colorization head against hand computations, and the configs against the report's settings."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain')


@pytest.fixture(scope='module')
def registry():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS, TRANSFORMS
    init_default_scope('mmseg')
    return MODELS, TRANSFORMS


def small_erfnet():
    return dict(type='ERFNet', enc_downsample_channels=(4, 8, 16), enc_stage_non_bottlenecks=(1, 2),
                enc_non_bottleneck_dilations=(2, 4), enc_non_bottleneck_channels=(8, 16), dec_upsample_channels=(8, 4),
                dec_stages_non_bottleneck=(1, 1), dec_non_bottleneck_channels=(8, 4), dropout_ratio=0.0)


# -------------------------------------------------------------------------------- transforms
def test_rotation_and_pack(registry):
    _, T = registry
    np.random.seed(0)
    img = np.random.randint(0, 256, (8, 8, 3), np.uint8)
    rot, pack = T.build(dict(type='RotationPretext')), T.build(dict(type='PackPretextInputs'))
    seen = set()
    for _ in range(30):
        r = rot(dict(img=img.copy(), img_path='a.png'))
        seen.add(r['pretext_label'])
        assert np.array_equal(np.rot90(r['img'], -r['pretext_label'], axes=(0, 1)), img)
        out = pack(r)
        assert torch.equal(out['inputs'], torch.from_numpy(r['img'].transpose(2, 0, 1).copy()))
        assert out['data_samples'].pretext_label == r['pretext_label']
    assert seen == {0, 1, 2, 3}
    with pytest.raises(ValueError, match='a.png.*not square'):
        rot(dict(img=np.zeros((4, 6, 3), np.uint8), img_path='a.png'))


def test_jigsaw_and_relative_patch_transforms(registry):
    _, T = registry
    from segssl.core.pretext import NEIGHBOURS, hamming_permutation_set
    img = np.zeros((72, 72, 3), np.uint8)
    for r in range(3):
        for c in range(3):
            img[r * 24:(r + 1) * 24, c * 24:(c + 1) * 24] = 3 * r + c
    jig = T.build(dict(type='JigsawPretext', num_permutations=10, permutation_seed=1, cell=24, tile=16))
    rel = T.build(dict(type='RelativePatchPretext', cell=24, tile=16))
    perms = hamming_permutation_set(10, 9, 1)
    for _ in range(10):
        r = jig(dict(img=img))
        x = T.build(dict(type='PackPretextInputs'))(r)['inputs']
        assert x.shape == (9, 3, 16, 16)
        assert [int(t[0, 0, 0]) for t in x] == perms[r['pretext_label']].tolist()
        r = rel(dict(img=img))
        rr, cc = NEIGHBOURS[r['pretext_label']]
        assert r['tiles'].shape == (2, 16, 16, 3) and r['tiles'][0].max() == 4
        assert np.all(r['tiles'][1] == 3 * rr + cc)
    # the per-tile pipeline runs on each tile separately: brightness shifts differ between tiles
    np.random.seed(3)
    jit = T.build(
        dict(
            type='JigsawPretext', num_permutations=10, cell=24, tile=16, tile_pipeline=[
                dict(type='PhotoMetricDistortion', contrast_range=(1, 1), saturation_range=(1, 1), hue_delta=1)
            ]))
    flat = np.full((72, 72, 3), 100, np.uint8)
    tiles = jit(dict(img=flat))['tiles']
    assert all(len(np.unique(t)) == 1 for t in tiles) and len({int(t[0, 0, 0]) for t in tiles}) > 1


def test_otsu_and_colorization_transforms(registry):
    _, T = registry
    from segssl.core.lab import rgb_to_lab
    from segssl.core.otsu import otsu_labels
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 24, 3)).astype(np.uint8)  # BGR as mmcv loads
    r = T.build(dict(type='OtsuPretext', classes=4))(dict(img=img.copy()))
    gray = np.rint(img[..., 2] * 0.299 + img[..., 1] * 0.587 + img[..., 0] * 0.114).astype(np.uint8)
    assert np.array_equal(r['gt_seg_map'], otsu_labels(gray, 4)) and r['seg_fields'] == ['gt_seg_map']
    r = T.build(dict(type='RandomFlip', prob=1.0, direction='horizontal'))(r)  # labels move
    assert np.array_equal(r['gt_seg_map'], otsu_labels(gray, 4)[:, ::-1])
    r = T.build(dict(type='ColorizationPretext', ab_scale=128.0))(dict(img=img.copy()))
    lab = rgb_to_lab(img[..., ::-1] / 255.0)
    assert np.allclose(r['img'], np.repeat(lab[..., :1], 3, -1) * 2.55, atol=1e-3)
    assert np.allclose(r['gt_ab'], lab[..., 1:].transpose(2, 0, 1) / 128.0, atol=1e-5)
    packed = T.build(dict(type='PackColorizationInputs'))(dict(r, img_path='x', ori_shape=(16, 24)))
    assert packed['data_samples'].gt_ab.data.shape == (2, 16, 24)
    with pytest.raises(KeyError, match='ColorizationPretext'):
        T.build(dict(type='PackColorizationInputs'))(dict(img=img, img_path='y.png'))


# ------------------------------------------------------------------------------------ models
def test_preprocessor_converts_and_normalises(registry):
    M, _ = registry
    pre = M.build(dict(type='PretextDataPreProcessor', mean=(10., 20., 30.), std=(1., 2., 4.)))
    x = torch.tensor([[[[50]], [[60]], [[70]]]], dtype=torch.uint8)  # one BGR pixel
    out = pre(dict(inputs=[x[0]], data_samples=None))['inputs']
    assert out.flatten().tolist() == [(70 - 10) / 1, (60 - 20) / 2, (50 - 30) / 4]
    tiles = pre(dict(inputs=torch.zeros(2, 9, 3, 4, 4, dtype=torch.uint8)))['inputs']
    assert tiles.shape == (2, 9, 3, 4, 4)


def test_classifier_heads_equal_a_by_hand_forward(registry):
    M, _ = registry
    from mmengine.structures import BaseDataElement
    torch.manual_seed(0)
    rot = M.build(
        dict(type='PretextClassifier', backbone=small_erfnet(), task='rotation', num_classes=4, hidden_channels=128,
             feature_channels=16)).eval()
    assert len(rot.backbone.decoder) == 0
    assert all(k.startswith(('backbone.encoder.', 'head.')) for k in rot.state_dict())
    assert [tuple(m.weight.shape) for m in rot.head if hasattr(m, 'weight')] == [(128, 16), (4, 128)]
    x = torch.randn(3, 3, 16, 16)
    h = x
    for layer in rot.backbone.encoder:
        h = layer(h)
    ref = rot.head[2](F.relu(rot.head[0](h.amax(dim=(2, 3)))))
    assert torch.allclose(rot.logits(x), ref, atol=1e-6)
    samples = [BaseDataElement(metainfo=dict(pretext_label=k)) for k in (0, 3, 1)]
    losses = rot(x, samples, mode='loss')
    assert losses['loss_cls'].item() == pytest.approx(F.cross_entropy(ref, torch.tensor([0, 3, 1])).item(), rel=1e-5)
    assert losses['acc'].item() == pytest.approx((ref.argmax(1) == torch.tensor([0, 3, 1])).float().mean().item())

    jig = M.build(
        dict(type='PretextClassifier', backbone=small_erfnet(), task='jigsaw', num_classes=10, hidden_channels=32,
             feature_channels=16, num_tiles=9)).eval()
    tiles = torch.randn(2, 9, 3, 16, 16)
    feats = torch.stack([torch.cat([jig.features(tiles[n, t:t + 1])[0] for t in range(9)]) for n in range(2)])
    assert torch.allclose(jig.logits(tiles), jig.head(feats), atol=1e-6)  # tile order = concat order
    with pytest.raises(ValueError, match='expected \\(N, 9, 3'):
        jig.logits(torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match='num_tiles'):
        M.build(dict(type='PretextClassifier', backbone=small_erfnet(), task='rotation', num_tiles=9))


def test_colorization_head_loss_is_mse(registry):
    M, _ = registry
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    head = M.build(
        dict(type='ColorizationHead', in_channels=4, channels=8, num_convs=1, concat_input=False, loss_weight=0.5))
    assert head.conv_seg.out_channels == 2
    logits = torch.randn(2, 2, 6, 6)
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_ab = PixelData(data=torch.randn(2, 6, 6))
        samples.append(s)
    target = torch.stack([s.gt_ab.data for s in samples])
    assert head.loss_by_feat(logits,
                             samples)['loss_mse'].item() == pytest.approx(0.5 * ((logits - target)**2).mean().item(),
                                                                          rel=1e-6)


# ----------------------------------------------------------------------------------- configs
# config: (task, classes, hidden, tiles, batch, dataset folder, augmentation in the pipeline)
SEED_ROWS = {
    'erfnet_rotation-waug_1xb128_cityscapes-extra.py': ('rotation', 4, 128, 1, 128, 'leftImg8bit/train_extra', True),
    'erfnet_rotation-noaug_1xb128_cityscapes-extra.py': ('rotation', 4, 128, 1, 128, 'leftImg8bit/train_extra', False),
    'erfnet_jigsaw_1xb128_cityscapes-extra.py': ('jigsaw', 100, 4096, 9, 128, 'leftImg8bit/train_extra', True),
    'erfnet_relative-patch_1xb128_cityscapes-extra.py': ('relative_patch', 8, 4096, 2, 128, 'leftImg8bit/train_extra',
                                                         True),
    'erfnet_colorization_1xb20_cityscapes-extra.py': ('colorization', 2, None, None, 20, 'leftImg8bit/train_extra',
                                                      True),
    'erfnet_otsu-waug_1xb20_cityscapes-extra.py': ('otsu', 4, None, None, 20, 'leftImg8bit/train_extra', True),
    'erfnet_otsu-noaug_1xb20_imagenet-224.py': ('otsu', 4, None, None, 20, 'train', False),
    # Table 5.3's scratch row and Table 5.6's ImageNet rows (tests/test_erfnet_protocol.py too)
    'erfnet_rotation-waug-scratch_1xb128_cityscapes-extra.py': ('rotation', 4, 128, 1, 128, 'leftImg8bit/train_extra',
                                                                True),
    'erfnet_rotation-waug_1xb128_imagenet-224.py': ('rotation', 4, 128, 1, 128, 'train', True),
    'erfnet_rotation-noaug_1xb128_imagenet-224.py': ('rotation', 4, 128, 1, 128, 'train', False),
}
# SimCLR is not a PretextClassifier / EncoderDecoder: tests/test_erfnet_protocol.py
OTHER_ROWS = {'erfnet_simclr_1xb128_cityscapes-extra.py'}
AUGMENTATIONS = ('RandomCrop', 'RandomFlip', 'RandomResize', 'PhotoMetricDistortion')


def test_every_erfnet_pretext_config_is_a_listed_row():
    assert {f for f in os.listdir(PRETRAIN) if f.startswith('erfnet_') and not f.endswith('_synthetic.py')} == \
        set(SEED_ROWS) | OTHER_ROWS


@pytest.mark.parametrize('name', sorted(SEED_ROWS))
def test_pretext_config_matches_seed_001(name, registry):
    from mmengine.config import Config
    M, _ = registry
    task, classes, hidden, tiles, batch, folder, augment = SEED_ROWS[name]
    cfg = Config.fromfile(os.path.join(PRETRAIN, name))
    m = cfg.model
    assert m.backbone.type == 'ERFNet' and m.backbone.enc_downsample_channels == (16, 64, 128)
    assert m.backbone.enc_stage_non_bottlenecks == (5, 8) and m.backbone.enc_non_bottleneck_dilations == (2, 4, 8, 16)
    if hidden is None:  # encoder + decoder tasks
        assert m.type == 'EncoderDecoder' and m.decode_head.in_channels == 16
        assert m.decode_head.type == ('ColorizationHead' if task == 'colorization' else 'FCNHead')
        if task == 'otsu':
            assert m.decode_head.num_classes == 4 and cfg.train_pipeline[1] == dict(type='OtsuPretext', classes=4)
    else:
        assert (m.type, m.task, m.num_classes, m.hidden_channels, m.num_tiles) == ('PretextClassifier', task, classes,
                                                                                   hidden, tiles)
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.train_dataloader.dataset.data_prefix.img_path == folder
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'Adam' and opt.lr == 5e-4
    (poly, ) = cfg.param_scheduler
    assert poly.type == 'PolyLR' and poly.power == 0.9 and poly.by_epoch and poly.end == cfg.train_cfg.max_epochs
    steps = [t['type'] for t in cfg.train_pipeline]
    assert cfg.augment == augment and any(s in AUGMENTATIONS for s in steps) == augment
    if task == 'jigsaw':
        j = cfg.train_pipeline[-2]
        assert (j.grid, j.cell, j.tile, j.num_permutations) == (3, 75, 64, 100)
        assert j.tile_pipeline == [dict(type='PhotoMetricDistortion')]
        assert cfg.train_pipeline[-3] == dict(type='Resize', scale=(225, 225), keep_ratio=False)
    # the pipeline after loading, on a Cityscapes-sized (ImageNet: any) image
    from mmseg.registry import TRANSFORMS
    np.random.seed(0)
    img = np.random.randint(0, 256, (512, 1024, 3), np.uint8)
    r = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_path='x.png')
    for step in cfg.train_pipeline[1:]:
        r = TRANSFORMS.build(step)(r)
    expected = {
        'rotation': (3, cfg.get('crop'), cfg.get('crop')),
        'jigsaw': (9, 3, 64, 64),
        'relative_patch': (2, 3, 64, 64),
        'colorization': (3, 512, 1024),
        'otsu': (3, ) + tuple(cfg.get('crop_size', ()))
    }[task]
    assert tuple(r['inputs'].shape) == expected
    if task == 'otsu':
        assert set(r['data_samples'].gt_sem_seg.data.unique().tolist()) <= {0, 1, 2, 3}
    elif task == 'colorization':
        assert r['data_samples'].gt_ab.data.shape == (2, 512, 1024)
    else:
        assert 0 <= r['data_samples'].pretext_label < classes
    model = M.build(cfg.model)
    if hidden is not None:
        n_fc = [tuple(l.weight.shape) for l in model.head if hasattr(l, 'weight')]
        assert n_fc == [(hidden, 128 * tiles), (classes, hidden)]

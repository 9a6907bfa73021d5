"""Issue 20, the PixPro thesis / 002 / 003 items: each config resolved through its _base_ chain against
the report's value.

- the PixPro thesis (~558): FCN-16 fine-tuning augments with random scale 0.5-2, a 768 crop and a flip only;
- the PixPro thesis (~618, ~733): the rows "LocalPPM 5x5 + Momentum BN (48)" (69.60) and "fixed affine +
  Random Erasing Black" (71.46) have configs that build their models and run their pipelines;
- the Mask R-CNN thesis (~675): BYOL's encoder starts from (converted) ImageNet weights, loaded into both branches;
- the Mask R-CNN thesis (~777, ~908, Table 4.3): the ImageNet, BYOL and scratch Mask R-CNN rows share one
  protocol; detectron2's FrozenBN ImageNet recipe is a separate config;
- the SimCLR report (~50): pixel accuracy is taken on the 128 x 128 masks.
No real data or downloaded weights: the images, trimaps and checkpoints are written here."""
import json
import os
import textwrap

import numpy as np
import pytest
import torch
from conftest import ROOT, run_tool, skip_without_mmseg

skip_without_mmseg()
CONFIGS = os.path.join(ROOT, 'configs')
PRETRAIN = os.path.join(CONFIGS, 'pretrain')
FINETUNE = os.path.join(CONFIGS, 'finetune')
D2 = os.path.join(CONFIGS, 'detectron2')


def load(path):
    from mmengine.config import Config
    return Config.fromfile(path)


def run_pipeline(pipeline, results):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import TRANSFORMS
    init_default_scope('mmseg')
    for t in pipeline:
        results = TRANSFORMS.build(t)(results)
    return results


# ---------------------------------------------------------------- the PixPro thesis: FCN-16 augmentation
def test_fcn16_cityscapes_augments_as_seed_000(tmp_path, monkeypatch):
    from PIL import Image
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'r50.pth'))
    cfg = load(os.path.join(FINETUNE, 'fcn16_r50-d16_1xb7_cityscapes-768x768.py'))
    pipe = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipe
            ] == ['LoadImageFromFile', 'LoadAnnotations', 'RandomResize', 'RandomCrop', 'RandomFlip', 'PackSegInputs']
    assert pipe[2] == dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True)
    assert pipe[3] == dict(type='RandomCrop', crop_size=(768, 768), cat_max_ratio=1.0)
    assert pipe[4] == dict(type='RandomFlip', prob=0.5)
    assert cfg.crop_size == (768, 768) and cfg.model.data_preprocessor.size == (768, 768)
    val = cfg.val_dataloader.dataset.pipeline
    assert dict(type='Resize', scale=(2048, 1024), keep_ratio=True) in val
    assert cfg.test_dataloader.dataset.pipeline == val
    assert cfg.train_dataloader.batch_size == 7 and cfg.train_dataloader.dataset.type == 'CityscapesDataset'
    # a constant 2048x1024 frame stays constant (no photometric change) and the labels keep their
    # values; every crop is 768x768 and the scale factor lies in [0.5, 2]
    img = np.full((1024, 2048, 3), (10, 120, 230), np.uint8)
    Image.fromarray(img).save(tmp_path / 'x_leftImg8bit.png')
    seg = np.zeros((1024, 2048), np.uint8)
    seg[:, 1024:] = 7
    Image.fromarray(seg).save(tmp_path / 'x_gtFine_labelTrainIds.png')
    np.random.seed(0)
    factors = []
    for _ in range(6):
        r = run_pipeline(
            pipe,
            dict(img_path=str(tmp_path / 'x_leftImg8bit.png'),
                 seg_map_path=str(tmp_path / 'x_gtFine_labelTrainIds.png'), reduce_zero_label=False, seg_fields=[]))
        x, y = r['inputs'], r['data_samples'].gt_sem_seg.data
        assert tuple(x.shape) == (3, 768, 768) and tuple(y.shape) == (1, 768, 768)
        assert torch.equal(x, torch.tensor([230, 120, 10], dtype=x.dtype)[:, None, None].expand_as(x))  # BGR
        assert set(torch.unique(y).tolist()) <= {0, 7}
        factors.append(r['data_samples'].metainfo['scale_factor'][0])
    assert all(0.5 - 1e-3 <= f <= 2.0 + 1e-3 for f in factors) and len(set(factors)) > 1


# ----------------------------------------------------- the PixPro thesis: the two rows without a config
NEW_PIXPRO = {
    # file: (seed value, head, frame, Momentum BN, conv5 dilations, batch, lr)
    'pixpro_r50-d16_localppm5-mbn_3xb16-30ep_imagenet.py': ('69.60', 'local_ppm', 5, True, (1, 1, 1, 2), 48, 0.1875),
    'pixpro_r50_affine-fixed_erase-black_3xb21-30ep_imagenet.py': ('71.46', 'ppm', None, False, (1, 1, 1, 1), 64, 0.25),
}


@pytest.mark.parametrize('name', sorted(NEW_PIXPRO))
def test_new_pixpro_rows_resolve_build_and_run(name, tmp_path):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from PIL import Image
    value, head, frame, mbn, dilations, batch, lr = NEW_PIXPRO[name]
    path = os.path.join(PRETRAIN, name)
    header = ''.join(l for l in open(path) if l.startswith('#'))
    assert value in header  # the report's mIoU in the header, as the other rows
    cfg = load(path)
    m = cfg.model
    assert (m.type, m.backbone.depth, m.tau, m.projector.hidden_channels) == ('PixPro', 50, 0.7, 4096)
    assert m.head.type == head and m.head.get('frame') == frame and m.head.get('gamma') == 2.0
    assert (m.momentum_bn == dict(stat_momentum=0.9)) if mbn else m.momentum_bn is None
    assert tuple(m.backbone.get('dilations', (1, 1, 1, 1))) == dilations
    assert m.get('batch_affine') is None
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=batch)  # the row's global batch
    assert cfg.train_dataloader.batch_size == batch // 3  # on the thesis' 3 GPUs
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.momentum, opt.weight_decay) == ('LARS', 0.9, 4e-4) and opt.lr == pytest.approx(lr)
    assert opt.lr == pytest.approx(1.0 * batch / 256)
    assert cfg.train_cfg.max_epochs == 30 and cfg.param_scheduler[-1].end == 30
    assert cfg.custom_hooks[0] == dict(type='MomentumUpdateHook', base_momentum=0.99, final_momentum=1.0)
    pipe = cfg.train_dataloader.dataset.pipeline
    types = [t['type'] for t in pipe]
    if name.startswith('pixpro_r50_affine'):
        assert types == [
            'LoadImageFromFile', 'TwoViewCrop', 'ViewColorAugment', 'AffineView', 'OnlineRandomErasing',
            'PackPixelViews'
        ]
        assert pipe[3] == dict(type='AffineView', view=0, mode='fixed', degrees=30, translate=(10, 10), shear=(10, 10))
        assert pipe[4] == dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black')
    else:
        assert types == ['LoadImageFromFile', 'TwoViewCrop', 'ViewColorAugment', 'PackPixelViews']
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == {'ppm': 'PixelPropagation', 'local_ppm': 'LocalPixelPropagation'}[head]
    img = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / 'x.png')
    np.random.seed(0)
    r = run_pipeline(pipe[:-1], dict(img_path=str(tmp_path / 'x.png')))
    if name.startswith('pixpro_r50_affine'):
        # both online copies erased with black (p = 1), the target copies untouched
        assert r['online_erased'].tolist() == [True, True]
        for v in (0, 1):
            erased = (r['online_views'][v] != r['views'][v]).any(-1)
            assert erased.any() and (r['online_views'][v][erased] == 0).all()
        # view 1 carries the fixed affine (its inverse warp is recorded), view 2 none
        assert np.allclose(r['view_affine'][1], np.eye(2, 3)) and not np.allclose(r['view_affine'][0], np.eye(2, 3))
    x = run_pipeline(pipe[-1:], r)['inputs']  # [online v1, online v2, target v1, target v2]
    assert tuple(x.shape) == (4, 3, 224, 224)


# --------------------------------------------------------------- the Mask R-CNN thesis: BYOL from ImageNet
def test_byol_seed_rows_start_from_imagenet_weights(monkeypatch):
    monkeypatch.delenv('SEGSSL_BACKBONE', raising=False)
    for name in ('byol_r50-h4096_1xb64_coco2014-224.py', 'byol_r50-h2048_1xb64_coco2014-224.py'):
        cfg = load(os.path.join(PRETRAIN, name))
        assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                                   checkpoint='work_dirs/pretrained/torchvision_r50_mmseg.pth')
        assert cfg.model.backbone.depth == 50
    header = open(os.path.join(PRETRAIN, 'byol_r50-h4096_1xb64_coco2014-224.py')).read().split('_base_')[0]
    assert 'starts from ImageNet weights' in header and '002 line ~675' in header
    monkeypatch.setenv('SEGSSL_BACKBONE', '/some/where/r50.pth')
    assert load(os.path.join(
        PRETRAIN, 'byol_r50-h2048_1xb64_coco2014-224.py')).model.backbone.init_cfg.checkpoint == '/some/where/r50.pth'
    # the CPU twin has no ImageNet ResNet-18 to start from: random, as before
    assert load(os.path.join(PRETRAIN, 'byol_r18_synthetic-64px.py')).model.backbone.init_cfg is None
    # random init is one option away
    cfg = load(os.path.join(PRETRAIN, 'byol_r50-h4096_1xb64_coco2014-224.py'))
    cfg.merge_from_dict({'model.backbone.init_cfg': None})
    assert cfg.model.backbone.init_cfg is None


def test_byol_loads_a_converted_torchvision_resnet50_into_both_branches(tmp_path, monkeypatch):
    """A random torchvision ResNet-50 (random BN statistics) through convert_checkpoint --to mmseg,
    named by SEGSSL_BACKBONE: after init_weights the online encoder holds it exactly and the target
    is a copy (BN statistics included)."""
    import segssl.mmseg  # noqa: F401
    # isort: split
    import torchvision
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from segssl.convert.bridge import convert
    torch.manual_seed(0)
    net = torchvision.models.resnet50()
    for mod in net.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_()
            mod.running_var.uniform_(0.5, 2)
            mod.weight.data.uniform_(0.5, 1.5)
    torch.save(net.state_dict(), tmp_path / 'resnet50-fake.pth')
    convert(str(tmp_path / 'resnet50-fake.pth'), str(tmp_path / 'r50_mmseg.pth'), 'mmseg', fmt='torchvision')
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'r50_mmseg.pth'))
    cfg = load(os.path.join(PRETRAIN, 'byol_r50-h2048_1xb64_coco2014-224.py'))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    online, target = model.online_backbone.state_dict(), model.target_backbone.state_dict()
    ref = {k: v for k, v in net.state_dict().items() if not k.startswith('fc.')}
    assert set(ref) <= set(online)
    for k, v in ref.items():
        assert torch.equal(online[k], v), k
        assert torch.equal(target[k], v), k


# --------------------------------------------------- the Mask R-CNN thesis: one Mask R-CNN protocol, 3 rows
@pytest.fixture(scope='module')
def d2(tmp_path_factory):
    pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
    tmp = tmp_path_factory.mktemp('d2')
    fake = tmp / 'torchvision_r50.pkl'
    fake.write_bytes(b'not read: check_init only needs the file to exist')
    script = tmp / 'probe.py'
    script.write_text(
        textwrap.dedent(f'''
        import glob, json, os
        import segssl.detectron2
        from detectron2.config import get_cfg
        from detectron2.layers import FrozenBatchNorm2d
        from detectron2.modeling import build_model
        from segssl.detectron2 import add_segssl_config
        from segssl.detectron2.config import check_init, merge_config_file, resolve_sync_bn

        def load(path):
            cfg = get_cfg(); add_segssl_config(cfg); merge_config_file(cfg, path); return cfg

        out = {{}}
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join({D2!r}, '*imagenet*.yaml'))
                       + glob.glob(os.path.join({D2!r}, '*_ssl_coco-subset_*.yaml'))
                       + glob.glob(os.path.join({D2!r}, '*_scratch_coco-subset_*.yaml')))
        for name in names:
            c = load(os.path.join({D2!r}, name))
            row = dict(init=c.SEGSSL.INIT, weights=c.MODEL.WEIGHTS, norm=c.MODEL.RESNETS.NORM,
                       fpn_norm=c.MODEL.FPN.NORM, freeze_at=c.MODEL.BACKBONE.FREEZE_AT,
                       max_iter=c.SOLVER.MAX_ITER, steps=list(c.SOLVER.STEPS), lr=c.SOLVER.BASE_LR,
                       batch=c.SOLVER.IMS_PER_BATCH, out=c.OUTPUT_DIR)
            if name.startswith('mask_rcnn_R_50_FPN_imagenet') and name.endswith('_100k.yaml'):
                c.MODEL.WEIGHTS = {str(fake)!r}
                check_init(c)
                c.MODEL.DEVICE = 'cpu'
                resolve_sync_bn(c, 1)
                bottom_up = build_model(c).backbone.bottom_up
                stem = bottom_up.stem.conv1
                row['stem_norm'] = type(stem.norm).__name__
                row['trainable'] = {{n: all(p.requires_grad for p in getattr(bottom_up, n).parameters())
                                     for n in ('stem', 'res2', 'res3', 'res4', 'res5')}}
                row['frozen_bn'] = sum(isinstance(m, FrozenBatchNorm2d) for m in bottom_up.modules())
            out[name] = row
        print('JSON' + json.dumps(out))
    '''))
    r = run_tool([str(script)], timeout=600)
    assert r.returncode == 0, r.stdout[-4000:]
    return json.loads(r.stdout.split('JSON', 1)[1])


def test_mask_rcnn_rows_of_maskrcnn_share_one_protocol(d2):
    for s in ('100k', '50k'):
        rows = [d2[f'mask_rcnn_R_50_FPN_{i}_coco-subset_{s}.yaml'] for i in ('imagenet', 'ssl', 'scratch')]
        assert {(r['norm'], r['fpn_norm'], r['freeze_at']) for r in rows} == {('SyncBN', 'SyncBN', 0)}, s
        assert [r['init'] for r in rows] == ['imagenet', 'ssl', 'scratch']
        assert len({(r['lr'], r['batch'], r['max_iter'], tuple(r['steps'])) for r in rows}) == 1
    im = d2['mask_rcnn_R_50_FPN_imagenet_coco-subset_100k.yaml']
    assert im['weights'] == 'work_dirs/pretrained/torchvision_r50.pkl'
    # built: trainable BN in the stem (BN in one process), every stage trained, no FrozenBN
    assert im['stem_norm'] == 'BatchNorm2d' and im['frozen_bn'] == 0
    assert im['trainable'] == dict(stem=True, res2=True, res3=True, res4=True, res5=True)
    # the CPU twin follows the same protocol
    syn = d2['mask_rcnn_R_50_FPN_synthetic_imagenet.yaml']
    assert (syn['init'], syn['norm'], syn['fpn_norm'], syn['freeze_at']) == ('imagenet', 'SyncBN', 'SyncBN', 0)


@pytest.mark.parametrize('sched', ['100k', '50k'])
def test_detectron2_frozenbn_imagenet_recipe_is_its_own_config(d2, sched):
    f = d2[f'mask_rcnn_R_50_FPN_imagenet-frozenbn_coco-subset_{sched}.yaml']
    one = d2[f'mask_rcnn_R_50_FPN_imagenet_coco-subset_{sched}.yaml']
    assert (f['init'], f['norm'], f['fpn_norm'], f['freeze_at']) == ('imagenet', 'FrozenBN', '', 2)
    assert f['weights'] == one['weights']
    assert (f['max_iter'], f['steps']) == ((100000, [40000, 80000]) if sched == '100k' else (50000, [32000]))
    assert (f['lr'], f['batch']) == (0.03, 8) and f['out'].endswith(f'imagenet-frozenbn_coco-subset_{sched}')
    if sched == '100k':
        assert f['stem_norm'] == 'FrozenBatchNorm2d' and f['frozen_bn'] == 53  # every BN of R50
        assert f['trainable'] == dict(stem=False, res2=False, res3=True, res4=True, res5=True)


# ------------------------------------------------------------- the SimCLR report: accuracy at 128 x 128
def fake_pets(root):
    """One test photo of 256 x 384 whose trimap is made of uniform 2 x 3 blocks, so any nearest
    resize to 128 x 128 gives the block labels: rows 0-39 pet, 40-99 background, 100-127 border."""
    from PIL import Image
    pets = os.path.join(root, 'oxford-iiit-pet')
    for d in ('images', 'annotations/trimaps', 'splits'):
        os.makedirs(os.path.join(pets, d))
    blocks = np.full((128, 128), 1, np.uint8)
    blocks[:40], blocks[100:] = 0, 2
    trimap = np.repeat(np.repeat(blocks, 2, 0), 3, 1) + 1  # 1 pet, 2 background, 3 border
    Image.fromarray(trimap).save(os.path.join(pets, 'annotations', 'trimaps', 'Abyssinian_1.png'))
    img = np.random.default_rng(0).integers(0, 255, (256, 384, 3), dtype=np.uint8)
    Image.fromarray(img).save(os.path.join(pets, 'images', 'Abyssinian_1.jpg'))
    with open(os.path.join(pets, 'splits', 'test.txt'), 'w') as f:
        f.write('Abyssinian_1\n')
    return blocks


@pytest.mark.parametrize('fraction', ['1pct', '10pct', 'full'])
def test_pets_configs_evaluate_on_128x128_masks(fraction, tmp_path, monkeypatch):
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'r34.pth'))
    cfg = load(os.path.join(FINETUNE, f'twoblock_r34-os8_1xb32_pets-128x128_{fraction}.py'))
    for dl in (cfg.val_dataloader, cfg.test_dataloader):
        pipe = dl.dataset.pipeline
        assert [t['type']
                for t in pipe] == ['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'KeyMapper', 'PackSegInputs']
        assert pipe[2] == dict(type='Resize', scale=(128, 128), keep_ratio=False)
        assert pipe[3].mapping == dict(ori_shape='img_shape') and pipe[3].remapping == dict(ori_shape='ori_shape')
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])


def test_pets_pixel_accuracy_is_counted_on_the_128x128_masks(tmp_path, monkeypatch):
    """Through the real test pipeline, model and IoUMetric: the label reaches the metric at 128 x 128
    (the block labels), the prediction is the network's own 128 x 128 argmax, and a known
    prediction (all 'pet') scores 40 / 128 = 31.25 % over 16384 pixels."""
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmengine.structures import PixelData
    from mmseg.evaluation import IoUMetric
    from mmseg.registry import DATASETS, MODELS
    from mmseg.structures import SegDataSample
    blocks = fake_pets(str(tmp_path))
    monkeypatch.setenv('SEGSSL_DATA_ROOT', str(tmp_path))
    cfg = load(os.path.join(FINETUNE, 'twoblock_r34-os8_1xb32_pets-128x128_full.py'))
    init_default_scope('mmseg')
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(ds) == 1
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    assert torch.equal(gt[0], torch.from_numpy(blocks).to(gt.dtype))
    assert tuple(sample['data_samples'].ori_shape) == (128, 128)

    def accuracy(pred):
        metric = IoUMetric(iou_metrics=['mIoU'])
        metric.dataset_meta = ds.metainfo
        s = SegDataSample(gt_sem_seg=PixelData(data=gt), pred_sem_seg=PixelData(data=pred))
        metric.process({}, [s.to_dict()])
        assert int(metric.results[0][2].sum()) == 128 * 128  # area_label: pixels counted
        return metric.compute_metrics(metric.results)['aAcc']

    assert accuracy(torch.zeros(1, 128, 128, dtype=torch.long)) == 31.25  # all 'pet'
    assert accuracy(torch.from_numpy(blocks)[None].long()) == 100.0
    shifted = torch.from_numpy(np.roll(blocks, 8, axis=0))[None].long()  # 3 x 8 rows wrong of 128
    assert accuracy(shifted) == pytest.approx(100 * (128 - 24) / 128, abs=0.005)
    # the model's prediction stays at 128 x 128 and is its logits' argmax, not an upsampled copy
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model.test_step(pseudo_collate([sample]))[0]
        data = model.data_preprocessor(pseudo_collate([sample]), False)
        logits = model(data['inputs'], mode='tensor')
    assert tuple(out.pred_sem_seg.data.shape) == (1, 128, 128)
    assert torch.allclose(out.seg_logits.data, logits[0], atol=1e-5)
    assert torch.equal(out.pred_sem_seg.data[0], logits[0].argmax(0))
    expected = round(100 * float((logits[0].argmax(0) == gt[0]).double().mean()), 2)
    assert accuracy(out.pred_sem_seg.data) == pytest.approx(expected, abs=0.005)

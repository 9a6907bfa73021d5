"""The ERFNet thesis's ERFNet fine-tuning configs: every Cityscapes config against the report (512x1024,
Adam 5e-4, poly 0.9 per epoch, batch 20, ENet-weighted CE, one transfer option each), their
synthetic twins, a model built from a twin, and a 2-iteration run with a hook active."""
import glob
import importlib.util
import os

import pytest
import torch
from conftest import ROOT, load_ckpt, run_tool, skip_without_mmseg

skip_without_mmseg()
pytestmark = pytest.mark.usefixtures('fast_mmseg_base_lookup')  # mmseg:: bases, fast (conftest)
DIR = os.path.join(ROOT, 'configs', 'finetune', 'erfnet')
PRETEXTS = ('rotation', 'jigsaw', 'relpatch', 'colorization', 'otsu', 'simclr')
# table row -> the hook the report's row needs (the ERFNet thesis Tables 5.1, 5.4, 5.7, 5.8)
OPTIONS = {
    'reset8-16': dict(type='ReinitLayersHook', layers=(8, 16), seed=0),
    'reset13-16': dict(type='ReinitLayersHook', layers=(13, 16), seed=0),
    'bnreset': dict(type='ResetNormStatsHook', layers=(1, 16), affine=True),
    'layer1-12-otsu13-16': dict(type='SpliceLayersHook', checkpoint='OTSU', layers=(13, 16)),
    'energy0.75-kaiming0.25': dict(type='FilterEnergyReinitHook', keep_ratio=0.75, layers=(1, 16),
                                   donor_checkpoint=None, seed=0),
    'energy0.9-imagenet0.1': dict(type='FilterEnergyReinitHook', keep_ratio=0.9, layers=(1, 16),
                                  donor_checkpoint='IMAGENET', seed=0),
    'lotto0.5': dict(type='MagnitudePruneHook', ratio=0.5, layers=(1, 16)),
    'lotto0.75': dict(type='MagnitudePruneHook', ratio=0.25, layers=(1, 16)),
    'pruned0.8': dict(type='MagnitudePruneHook', ratio=0.8, layers=(1, 16)),
    'staged40+150': dict(type='StagedFineTuneHook', frozen=40, by_epoch=True, frozen_prefixes=('backbone.encoder.', ),
                         freeze_norm_stats=True),
}
ENV = dict(SEGSSL_BACKBONE='ENC', SEGSSL_CLASS_WEIGHTS='W.json', SEGSSL_SPLICE_FROM='OTSU', SEGSSL_DONOR='IMAGENET')

_LOADED = {}


def load(name, monkeypatch, env=ENV):
    """The config with exactly the variables ``env`` set (each file parsed once per env)."""
    from mmengine.config import Config
    key = (name, tuple(sorted(env.items())))
    if key not in _LOADED:
        for k in ENV:
            monkeypatch.delenv(k, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        _LOADED[key] = Config.fromfile(os.path.join(DIR, name))
    return _LOADED[key]


def test_every_row_has_a_cityscapes_config_and_a_twin():
    rows = [f'erfnet_{t}' for t in PRETEXTS] + [f'erfnet_rotation-{o}' for o in OPTIONS]
    expected = sorted(f'{r}_{k}.py' for r in rows for k in ('1xb20_cityscapes-512x1024', 'synthetic-128x256'))
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(DIR, '*.py'))) == expected


@pytest.mark.parametrize('row', [f'erfnet_{t}' for t in PRETEXTS] + [f'erfnet_rotation-{o}' for o in OPTIONS])
def test_cityscapes_config_follows_seed_001(row, monkeypatch):
    cfg = load(f'{row}_1xb20_cityscapes-512x1024.py', monkeypatch)
    m = cfg.model
    # SimCLR's encoder is read from its own checkpoint (online_backbone.encoder.*)
    prefix = dict(prefix='online_backbone.') if row == 'erfnet_simclr' else {}
    assert m.backbone.type == 'ERFNet' and m.backbone.init_cfg == dict(type='Pretrained', checkpoint='ENC', **prefix)
    assert (m.backbone.enc_downsample_channels, m.backbone.enc_stage_non_bottlenecks,
            m.backbone.enc_non_bottleneck_dilations) == ((16, 64, 128), (5, 8), (2, 4, 8, 16))
    assert m.decode_head == dict(
        type='ERFNetOutputHead', in_channels=16, num_classes=19, align_corners=False,
        loss_decode=dict(type='ClassWeightedCrossEntropyLoss', class_weight='W.json', loss_weight=1.0))
    assert m.data_preprocessor.size == (512, 1024)
    assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.optim_wrapper.optimizer.lr == 5e-4
    staged = 'staged' in row
    epochs = 190 if staged else 150
    assert cfg.param_scheduler == [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=epochs)]
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size == 20
    for pipe in (cfg.train_dataloader.dataset.pipeline, cfg.val_dataloader.dataset.pipeline):
        assert dict(type='Resize', scale=(1024, 512), keep_ratio=True) in pipe
        assert not any(t['type'] in ('RandomCrop', 'RandomResize') for t in pipe)
    option = row.split('-', 1)[1] if '-' in row else None
    assert cfg.get('custom_hooks') == ([OPTIONS[option]] if option else None)
    if not option:
        assert cfg.pretext_task == row.split('_')[1]
        default = load(f'{row}_1xb20_cityscapes-512x1024.py', monkeypatch, env={}).model.backbone.init_cfg.checkpoint
        assert default == ('work_dirs/pretrained/erfnet_simclr.pth'
                           if prefix else f'work_dirs/pretrained/erfnet_{cfg.pretext_task}_mmseg.pth')


@pytest.mark.parametrize('row', [f'erfnet_{t}' for t in PRETEXTS] + [f'erfnet_rotation-{o}' for o in OPTIONS])
def test_synthetic_twin_differs_only_in_data_and_length(row, monkeypatch):
    city = load(f'{row}_1xb20_cityscapes-512x1024.py', monkeypatch)
    twin = load(f'{row}_synthetic-128x256.py', monkeypatch)
    assert twin.model.backbone == city.model.backbone and twin.model.decode_head == city.model.decode_head
    assert twin.optim_wrapper == city.optim_wrapper
    hooks = [dict(h, by_epoch=False) if 'by_epoch' in h else h for h in city.get('custom_hooks') or []]
    assert (twin.get('custom_hooks') or []) == hooks
    assert twin.train_cfg.type == 'IterBasedTrainLoop' and twin.param_scheduler[0].power == 0.9
    assert twin.train_dataloader.dataset.data_root.endswith('synthetic/cityscapes/')


@pytest.fixture(scope='module')
def erfnet_file(tmp_path_factory):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    sd = MODELS.build(dict(type='ERFNet')).state_dict()
    for k, v in sd.items():
        if v.dtype.is_floating_point:
            v.normal_(0, 0.1) if not k.endswith('running_var') else v.uniform_(0.5, 2)
    path = tmp_path_factory.mktemp('erf') / 'erfnet_rotation_mmseg.pth'
    torch.save({'state_dict': sd}, path)
    return sd, str(path)


@pytest.fixture(scope='module')
def class_weights(synthetic_root, tmp_path_factory):
    spec = importlib.util.spec_from_file_location('ccw', os.path.join(ROOT, 'tools', 'compute_class_weights.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path_factory.mktemp('cw') / 'synthetic_enet')
    assert tool.main(
        [os.path.join(synthetic_root, 'cityscapes', 'gtFine', 'train'), '--num-classes', '19', '--out', out]) == 0
    return out + '.json'


def test_twin_builds_with_the_transferred_backbone_and_weighted_loss(erfnet_file, class_weights, monkeypatch):
    import json

    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    sd, path = erfnet_file
    cfg = load('erfnet_rotation_synthetic-128x256.py', monkeypatch, env=dict(SEGSSL_BACKBONE=path,
                                                                             SEGSSL_CLASS_WEIGHTS=class_weights))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.backbone.state_dict()
    assert all(torch.equal(state[k], v) for k, v in sd.items())
    assert model.decode_head.loss_decode.class_weight == json.load(open(class_weights))
    # the loss is torch's weighted-mean CE, ignored pixels (255) excluded
    logits, label = torch.randn(2, 19, 8, 8), torch.randint(0, 19, (2, 8, 8))
    label[0, :3] = 255
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(json.load(open(class_weights))), ignore_index=255)
    assert torch.allclose(model.decode_head.loss_decode(logits, label), ref(logits, label), atol=1e-6)
    logits = model.eval()(torch.randn(1, 3, 128, 128), mode='tensor')
    assert logits.shape == (1, 19, 128, 128)  # layer 23 restores full resolution
    conv = model.decode_head.conv_seg
    assert isinstance(conv, torch.nn.ConvTranspose2d) and conv.weight.shape == (16, 19, 2, 2) and conv.stride == (2, 2)


def test_smoke_two_iterations_of_the_pruned_twin_through_mmseg_train(erfnet_file, class_weights, synthetic_root,
                                                                     tmp_path):
    sd, path = erfnet_file
    work = tmp_path / 'lotto'
    r = run_tool([
        'tools/train.py',
        os.path.join(DIR, 'erfnet_rotation-lotto0.5_synthetic-128x256.py'), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False'
    ], env={
        'SEGSSL_DATA_ROOT': synthetic_root,
        'SEGSSL_BACKBONE': path,
        'SEGSSL_CLASS_WEIGHTS': class_weights
    })
    assert r.returncode == 0, r.stdout[-4000:]
    weights = [k for k, v in sd.items() if k.startswith('encoder.') and v.dim() >= 2]
    pruned = sum(round(0.5 * sd[k].numel()) for k in weights)
    assert f'MagnitudePruneHook: pruned {pruned} weights (50% per layer): {len(weights)} tensors' in r.stdout
    saved = load_ckpt(work / 'iter_2.pth')['state_dict']
    zeros = sum(int((saved['backbone.' + k] == 0).sum()) for k in weights)
    assert zeros == pruned  # still exactly the mask after 2 Adam steps
    assert 'mIoU' in r.stdout

"""Fine-tuning configs that take a converted SSL backbone by path (FCN-16 of the PixPro thesis,
DeepLab-v2 of the ClassMix/DACS thesis), and segssl's DeepLab-v2 head."""
import os

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, run_tool, skip_without_mmseg

from segssl.runs import mmengine_scalars

skip_without_mmseg()
FINETUNE = os.path.join(ROOT, 'configs', 'finetune')


def brute_force_dilated_conv(x, weight, bias, d):
    """3x3 conv with dilation d and zero padding d, one kernel tap at a time."""
    N, C, H, W = x.shape
    xp = F.pad(x, (d, d, d, d))
    out = bias[None, :, None, None].expand(N, -1, H, W).clone()
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, :, ky * d:ky * d + H, kx * d:kx * d + W]  # (N, C, H, W)
            out += torch.einsum('nchw,kc->nkhw', patch, weight[:, :, ky, kx])
    return out


def test_deeplabv2_head_sums_four_dilated_convs():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    head = MODELS.build(dict(type='DeepLabV2Head', in_channels=6, num_classes=4, in_index=0, dilations=(1, 2, 3, 4)))
    head.init_weights()
    assert head.conv_seg is None and head.dropout is None and len(head.aspp) == 4
    assert all(abs(b.weight.std().item() - 0.01) < 0.004 and b.bias.abs().max() == 0 for b in head.aspp)
    x = torch.randn(2, 6, 9, 7, dtype=torch.float64)
    head = head.double()
    ref = sum(brute_force_dilated_conv(x, b.weight, b.bias, d) for b, d in zip(head.aspp, (1, 2, 3, 4)))
    assert torch.allclose(head([x]), ref, atol=1e-12)
    with pytest.raises(ValueError, match='dilations'):
        MODELS.build(dict(type='DeepLabV2Head', in_channels=6, num_classes=4, dilations=()))


@pytest.fixture(scope='module')
def converted_r18(tmp_path_factory):
    """A random torchvision ResNet-18 (with random BN statistics) converted to an mmseg file."""
    import torchvision

    from segssl.convert.bridge import convert
    torch.manual_seed(1)
    net = torchvision.models.resnet18()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
    d = tmp_path_factory.mktemp('ckpt')
    torch.save(net.state_dict(), d / 'tv.pth')
    convert(str(d / 'tv.pth'), str(d / 'r18_mmseg.pth'), 'mmseg')
    return net.state_dict(), str(d / 'r18_mmseg.pth')


def build_from_config(name, monkeypatch, backbone):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    monkeypatch.setenv('SEGSSL_BACKBONE', backbone)
    cfg = Config.fromfile(os.path.join(FINETUNE, name))
    assert cfg.model.backbone.init_cfg.checkpoint == backbone
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model.eval()


@pytest.mark.parametrize('name, stride', [('fcn16_r18-d16_synthetic-128x256.py', 16),
                                          ('deeplabv2_r18-d8_synthetic-128x256.py', 8)])
def test_synthetic_twins_load_the_converted_backbone(name, stride, converted_r18, monkeypatch):
    tv_state, path = converted_r18
    cfg, model = build_from_config(name, monkeypatch, path)
    state = model.backbone.state_dict()
    for k, v in tv_state.items():
        if not k.startswith('fc.'):
            assert torch.equal(state[k], v), k
    feats = model.backbone(torch.randn(1, 3, 128, 128))
    assert feats[-1].shape[-2:] == (128 // stride, 128 // stride)
    if name.startswith('fcn16'):
        convs = model.decode_head.convs
        assert len(convs) == 2 and not model.decode_head.concat_input
        assert all(c.conv.kernel_size == (3, 3) and c.conv.dilation == (
            6, 6) and c.conv.out_channels == 256 and c.bn is not None and c.activate is not None for c in convs)
        assert model.decode_head.conv_seg.kernel_size == (1, 1)
    else:
        assert [b.dilation for b in model.decode_head.aspp] == [(6, 6), (12, 12), (18, 18), (24, 24)]


def test_cityscapes_configs_follow_the_seeds(monkeypatch, tmp_path):
    from mmengine.config import Config
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'x.pth'))
    fcn = Config.fromfile(os.path.join(FINETUNE, 'fcn16_r50-d16_1xb7_cityscapes-768x768.py'))
    assert (fcn.model.backbone.depth, fcn.model.backbone.style, fcn.model.backbone.dilations) == (50, 'pytorch', (1, 1,
                                                                                                                  1, 2))
    assert fcn.optim_wrapper.optimizer == dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
    assert fcn.train_dataloader.batch_size == 7 and fcn.crop_size == (768, 768)
    dl = Config.fromfile(os.path.join(FINETUNE, 'deeplabv2_r101-d8_1xb2_cityscapes-512x1024.py'))
    assert (dl.model.backbone.depth, dl.model.backbone.dilations) == (101, (1, 1, 2, 4))
    assert dl.optim_wrapper.optimizer.lr == 2.5e-4 and dl.optim_wrapper.optimizer.weight_decay == 5e-4
    assert dl.optim_wrapper.paramwise_cfg.custom_keys['decode_head']['lr_mult'] == 10.0
    assert dl.max_iters == 40000 and dl.train_dataloader.batch_size == 2


def test_fine_tune_two_iterations_from_a_converted_backbone(converted_r18, synthetic_root, tmp_path):
    _, path = converted_r18
    work = tmp_path / 'fcn16'
    r = run_tool([
        'tools/train.py',
        os.path.join(FINETUNE, 'fcn16_r18-d16_synthetic-128x256.py'), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.persistent_workers=False'
    ], env={
        'SEGSSL_DATA_ROOT': synthetic_root,
        'SEGSSL_BACKBONE': path
    })
    assert r.returncode == 0, r.stdout[-4000:]
    assert f'Loads checkpoint by local backend from path: {path}' in r.stdout
    assert 'do not match exactly' not in r.stdout  # no missing / unexpected keys
    records = mmengine_scalars(str(work))
    assert any('mIoU' in rec for rec in records)

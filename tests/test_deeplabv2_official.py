"""The official DeepLab-v2 start of the ClassMix/DACS report (issue 20, part 1).

A reference network is written here from the description of the reference code's DeepLab-v2
(caffe-style ResNet-101: the stride in each block's first 1x1 conv; stages 3-4 stride 1,
dilation 2 and 4; a downsample on every first block; a ceil-mode stem max-pool; BN; a classifier
of four dilated 3x3 convs from 2048 channels to the classes). Its random weights and random BN
statistics are saved as the official init file is laid out (``Scale.`` + torchvision names, no
``num_batches_tracked``), converted by the checkpoint bridge, and loaded by
``configs/_base_/models/deeplabv2-caffe_r101-d8.py``; both networks then give the same logits.
"""
import os

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import ROOT, run_tool, skip_without_mmseg

from segssl.convert import ConversionError, convert

skip_without_mmseg()

CAFFE_MODEL = os.path.join(ROOT, 'configs', '_base_', 'models', 'deeplabv2-caffe_r101-d8.py')
BGR_MEAN = (104.00698793, 116.66876762, 122.67891434)
CITYSCAPES_MEAN = (73.15835921, 82.90891754, 72.39239876)
RATES = (6, 12, 18, 24)


class RefBlock(nn.Module):
    """Caffe-style bottleneck: 1x1 (stride s) -> 3x3 (dilation d) -> 1x1, + projection."""

    def __init__(self, cin, planes, stride, dilation, project):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, planes *
                                                   4, 1, stride, bias=False), nn.BatchNorm2d(planes *
                                                                                             4)) if project else None)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class RefClassifier(nn.Module):

    def __init__(self, classes, first_two):
        super().__init__()
        self.conv2d_list = nn.ModuleList(nn.Conv2d(2048, classes, 3, 1, r, r, bias=True) for r in RATES)
        self.first_two = first_two

    def forward(self, x):
        branches = self.conv2d_list[:2] if self.first_two else self.conv2d_list
        return sum(conv(x) for conv in branches)


class RefDeepLabV2(nn.Module):

    def __init__(self, classes=21, first_two=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        cin = 64
        for i, (n, planes, stride, dilation) in enumerate([(3, 64, 1, 1), (4, 128, 2, 1), (23, 256, 1, 2),
                                                           (3, 512, 1, 4)], start=1):
            blocks = []
            for b in range(n):
                blocks.append(RefBlock(cin, planes, stride if b == 0 else 1, dilation, b == 0))
                cin = planes * 4
            setattr(self, f'layer{i}', nn.Sequential(*blocks))
        self.layer5 = RefClassifier(classes, first_two)

    def features(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        return self.layer5(self.features(x))


def random_reference(classes=21, first_two=False, seed=0):
    """The reference network with random weights and BN statistics (activations kept O(1))."""
    torch.manual_seed(seed)
    net = RefDeepLabV2(classes, first_two)
    g = torch.Generator().manual_seed(seed + 1)
    for name, m in net.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            gain = 0.2 if name.endswith('bn3') else 1.0
            m.weight.data = (torch.rand(n, generator=g) + 0.5) * gain
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
    return net


def save_official(net, path, prefix='Scale.'):
    """The official init's layout: a plain state dict, prefixed, without num_batches_tracked."""
    torch.save({
        prefix + k: v.clone()
        for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')
    }, path)


def build_caffe_model(monkeypatch, weights, **head):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import segssl.mmseg  # noqa: F401
    monkeypatch.setenv('SEGSSL_BACKBONE', str(weights))
    cfg = Config.fromfile(CAFFE_MODEL)
    cfg.model.decode_head.update(head)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """(reference network, its official-layout file, the converted mmseg file)."""
    d = tmp_path_factory.mktemp('deeplabv2')
    net = random_reference().double().eval()
    src, dst = d / 'DeepLab_resnet_pretrained_init.pth', d / 'deeplabv2_init_mmseg.pth'
    save_official(net, src)
    report = convert(str(src), str(dst), 'mmseg')
    return net, src, dst, report


def test_bridge_reads_the_official_layout(converted):
    net, src, dst, report = converted
    assert report.source.format == 'deeplabv2' and report.encoder.style == 'caffe'
    assert report.encoder.depth == 101
    assert report.encoder.provenance['filled_num_batches_tracked'] == 104  # every BN of ResNet-101
    out = torch.load(dst, map_location='cpu')
    meta = out['meta']['segssl_convert']
    assert meta['backbone_type'] == 'DeepLabV2ResNet' and meta['style'] == 'caffe'
    sd = out['state_dict']
    head = {k for k in sd if k.startswith('decode_head.')}
    assert head == {f'decode_head.aspp.{i}.{t}' for i in range(4) for t in ('weight', 'bias')}
    ref = net.state_dict()
    for k, v in sd.items():
        name = k.replace('decode_head.aspp.', 'layer5.conv2d_list.')
        if not k.endswith('num_batches_tracked'):
            assert torch.equal(v, ref[name]), k
    assert not report.source.dropped  # nothing of the file is left behind
    assert any('kept the classifier (4 branches, 21 classes)' in line for line in report.lines())


def test_converted_model_equals_the_reference_network(converted, monkeypatch, float64_default):
    net, _, dst, _ = converted
    model = build_caffe_model(monkeypatch, dst, num_classes=21, init_cfg=dict(type='Pretrained', checkpoint=str(dst),
                                                                              prefix='decode_head.')).eval()
    g = torch.Generator().manual_seed(5)
    bgr = torch.randint(0, 256, (2, 3, 67, 91), generator=g).double()  # odd: ceil mode counts
    x = model.data_preprocessor(dict(inputs=list(bgr)), training=False)['inputs']
    expected_x = bgr - torch.tensor(BGR_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    assert torch.allclose(x, expected_x, atol=1e-9)  # BGR 0-255 minus the mean, no std
    with torch.no_grad():
        ref = net(expected_x)
        got = model.decode_head(model.backbone(x))
    assert got.shape == ref.shape == (2, 21, 9, 12)
    assert torch.allclose(got, ref, rtol=1e-9, atol=1e-9 * ref.abs().max().item())


def test_ceil_mode_changes_the_grid(converted, monkeypatch, float64_default):
    """At 67x91 the stem gives 34x46; the ceil-mode max-pool 18x24, a floor-mode one 17x23."""
    _, _, dst, _ = converted
    model = build_caffe_model(monkeypatch, dst, num_classes=21).eval()
    x = torch.zeros(1, 3, 67, 91, dtype=torch.float64)
    stem = model.backbone.maxpool(model.backbone.relu(model.backbone.norm1(model.backbone.conv1(x))))
    assert tuple(stem.shape[2:]) == (18, 24)
    assert tuple(F.max_pool2d(torch.zeros(1, 1, 34, 46), 3, 2, 1).shape[2:]) == (17, 23)


def test_train_mode_bn_statistics_update_and_affine_is_frozen(converted, monkeypatch, float64_default):
    net, _, dst, _ = converted
    ref = random_reference().double()
    ref.load_state_dict(net.state_dict())
    model = build_caffe_model(monkeypatch, dst, num_classes=21, init_cfg=dict(type='Pretrained', checkpoint=str(dst),
                                                                              prefix='decode_head.'))
    ref.train(), model.train()
    x = torch.randn(2, 3, 41, 57, generator=torch.Generator().manual_seed(2)) * 50
    got, want = model.decode_head(model.backbone(x)), ref(x)
    assert torch.allclose(got, want, rtol=1e-8, atol=1e-8 * want.abs().max().item())
    # running statistics moved the same way in both
    assert torch.allclose(model.backbone.layer3[7].bn2.running_var, ref.layer3[7].bn2.running_var)
    assert not torch.equal(model.backbone.layer3[7].bn2.running_var, net.layer3[7].bn2.running_var)
    bn = [p for m in model.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) for p in m.parameters()]
    conv = [m.weight for m in model.backbone.modules() if isinstance(m, nn.Conv2d)]
    assert len(bn) == 2 * 104 and not any(p.requires_grad for p in bn)
    assert len(conv) == 104 and all(p.requires_grad for p in conv)
    assert model.backbone.layer2[0].conv1.stride == (2, 2)  # caffe: stride in the 1x1
    assert model.backbone.layer2[0].conv2.stride == (1, 1)


def test_sum_first_two_matches_the_public_code(tmp_path, monkeypatch, float64_default):
    net = random_reference(first_two=True, seed=3).double().eval()
    src, dst = tmp_path / 'init.pth', tmp_path / 'out.pth'
    save_official(net, src, prefix='')  # also read without the Scale. wrapper
    assert convert(str(src), str(dst), 'mmseg').source.format == 'deeplabv2'
    model = build_caffe_model(monkeypatch, dst, num_classes=21, sum_first_two=True,
                              init_cfg=dict(type='Pretrained', checkpoint=str(dst), prefix='decode_head.')).eval()
    x = torch.randn(1, 3, 33, 47, generator=torch.Generator().manual_seed(1)) * 40
    with torch.no_grad():
        want, got = net(x), model.decode_head(model.backbone(x))
        all_four = sum(b(net.features(x)) for b in net.layer5.conv2d_list)
    assert torch.allclose(got, want, rtol=1e-9, atol=1e-9 * want.abs().max().item())
    assert not torch.allclose(got, all_four, atol=1e-3 * want.abs().max().item())
    assert [p.requires_grad for p in model.decode_head.parameters()] == [True] * 4 + [False] * 4


def test_class_count_and_target_checks(converted, tmp_path):
    _, src, _, _ = converted
    report = convert(str(src), str(tmp_path / 'c19.pth'), 'mmseg', num_classes=19)
    sd = torch.load(tmp_path / 'c19.pth', map_location='cpu')['state_dict']
    assert not any(k.startswith('decode_head.') for k in sd)
    assert any('dropped the classifier (4 branches, 21 classes): --num-classes 19 differs' in line
               for line in report.lines())
    for to, out in (('detectron2', 'x.pkl'), ('torchvision', 'x.pth')):
        with pytest.raises(ConversionError, match='caffe-style ResNet'):
            convert(str(src), str(tmp_path / out), to)
        assert not (tmp_path / out).exists()
    bad = torch.load(src)
    bad['Scale.layer5.conv2d_list.2.weight'] = bad['Scale.layer5.conv2d_list.2.weight'][:19]
    torch.save(bad, tmp_path / 'bad.pth')
    with pytest.raises(ConversionError, match='classifier branch 2'):
        convert(str(tmp_path / 'bad.pth'), str(tmp_path / 'bad_out.pth'), 'mmseg')
    assert not (tmp_path / 'bad_out.pth').exists()


def test_cli_reports_the_start(converted, tmp_path):
    _, src, _, _ = converted
    r = run_tool(['tools/convert_checkpoint.py', str(src), str(tmp_path / 'o.pth'), '--to', 'mmseg'])
    assert r.returncode == 0, r.stdout
    assert 'format deeplabv2' in r.stdout and 'caffe style' in r.stdout
    assert 'deeplabv2-caffe_r101-d8.py' in r.stdout


def _resolve(name, monkeypatch, start=None):
    from mmengine.config import Config
    if start:
        monkeypatch.setenv('SEGSSL_DEEPLABV2_START', start)
    else:
        monkeypatch.delenv('SEGSSL_DEEPLABV2_START', raising=False)
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', name))
    return cfg.model.get('segmentor', cfg.model)


@pytest.mark.parametrize('name, mean, classes, head_init', [
    ('semi/classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py', CITYSCAPES_MEAN, 19, None),
    ('semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-30_512x1024_40k.py', CITYSCAPES_MEAN, 19, None),
    ('semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py', BGR_MEAN, 21, 'Pretrained'),
    ('semi/supervised_deeplabv2_r101-d8_1xb10_voc-aug-full_321x321_40k.py', BGR_MEAN, 21, 'Pretrained'),
    ('uda/dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py', BGR_MEAN, 19, None),
    ('uda/source-only_deeplabv2_r101-d8_1xb2_synthia-to-cityscapes-512x512_250k.py', BGR_MEAN, 19, None),
])
def test_report_configs_start_from_the_official_network(name, mean, classes, head_init, monkeypatch):
    m = _resolve(name, monkeypatch)
    assert m.backbone.type == 'DeepLabV2ResNet' and m.backbone.style == 'caffe'
    assert m.backbone.norm_cfg.requires_grad is False and m.backbone.norm_eval is False
    assert m.backbone.init_cfg.checkpoint == 'work_dirs/pretrained/deeplabv2_init_mmseg.pth'
    assert tuple(m.data_preprocessor.mean) == mean
    assert tuple(m.data_preprocessor.std) == (1.0, 1.0, 1.0)
    assert m.data_preprocessor.bgr_to_rgb is False
    assert m.decode_head.num_classes == classes and m.decode_head.align_corners is True
    assert (m.decode_head.get('init_cfg') or {}).get('type') == head_init
    if head_init:
        assert m.decode_head.init_cfg.prefix == 'decode_head.'


def test_torchvision_start_is_one_variable_away(monkeypatch):
    m = _resolve('semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py', monkeypatch, 'torchvision')
    assert m.backbone.type == 'ResNet' and m.backbone.style == 'pytorch'
    assert m.data_preprocessor.bgr_to_rgb is True and m.data_preprocessor.size == (321, 321)
    assert tuple(m.data_preprocessor.std) == (58.395, 57.12, 57.375)
    assert m.decode_head.num_classes == 21 and 'init_cfg' not in m.decode_head
    c = _resolve('semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py', monkeypatch, 'torchvision')
    assert tuple(c.data_preprocessor.mean) == (123.675, 116.28, 103.53)
    assert c.backbone.init_cfg.checkpoint == 'work_dirs/pretrained/r101_mmseg.pth'


def test_torchvision_layout_fine_tune_follows_the_report_protocol(monkeypatch):
    """finetune/deeplabv2_r101-d8_1xb2_cityscapes-512x1024.py: the report's data (resize to 512x1024,
    nothing else) and schedule, for a torchvision-layout (SSL) backbone, on all of train."""
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'finetune', 'deeplabv2_r101-d8_1xb2_cityscapes-512x1024.py'))
    assert cfg.model.backbone.type == 'ResNet' and cfg.model.backbone.style == 'pytorch'
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'CityscapesDataset' and 'ann_file' not in ds  # all 2975 images
    assert [t['type'] for t in ds.pipeline] == ['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'PackSegInputs']
    assert ds.pipeline[2]['scale'] == (1024, 512) and cfg.train_dataloader.batch_size == 2
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
    assert cfg.train_cfg.max_iters == 40000

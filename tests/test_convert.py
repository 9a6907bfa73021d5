"""Checkpoint bridge (segssl.convert): random-weight ResNets written in every SSL checkpoint
format are read into the canonical (torchvision) state dict bit-exactly, and the converted
mmseg / detectron2 files give the torchvision model's stage outputs (max abs diff <= 1e-4)
with zero missing and zero unexpected backbone keys."""
import logging
import os
import pickle
from collections import OrderedDict

import pytest
import torch
import torchvision
from conftest import ROOT, run_tool

import segssl.detectron2  # noqa: F401  (before detectron2.modeling: placeholder for detectron2._C)
from segssl.convert import ConversionError, convert, read_resnet
from segssl.convert.detectron2_names import torchvision_name

FORMATS = ('segssl', 'pixpro', 'moco', 'byol', 'byol_sequential', 'mmpretrain', 'torchvision')
TOL = 1e-4
SEQ_INDEX = {'conv1': '0', 'bn1': '1', 'layer1': '4', 'layer2': '5', 'layer3': '6', 'layer4': '7'}


def random_resnet(depth, seed=0, stem='7x7'):
    """torchvision ResNet-``depth`` (eval) with random weights and random BN running stats.

    The last BN of each residual branch gets a small gain so that activations stay O(1..100)
    through ResNet-101 and 1e-4 stays a meaningful bound.
    """
    torch.manual_seed(seed)
    model = getattr(torchvision.models, f'resnet{depth}')()
    if stem == '3x3':  # the SimCLR report's ResNet-34 variant: conv1 3x3 stride 1, no max-pool
        model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    g = torch.Generator().manual_seed(seed + 1)
    last_bn = {
        f'{n}.bn{3 if depth >= 50 else 2}'
        for n, m in model.named_modules()
        if isinstance(m, (torchvision.models.resnet.Bottleneck, torchvision.models.resnet.BasicBlock))
    }
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            gain = 0.2 if name in last_bn else 1.0
            m.weight.data = (torch.rand(n, generator=g) + 0.5) * gain
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1, ), generator=g)))
    return model.eval()


def encoder_state(model):
    """The canonical expectation: the model's state dict without fc."""
    return OrderedDict((k, v) for k, v in model.state_dict().items() if not k.startswith('fc.'))


def perturbed(sd):
    """A different network of the same layout (stands in for a target/momentum encoder)."""
    return OrderedDict((k, v + 1 if v.is_floating_point() else v) for k, v in sd.items())


def head(prefix, *shapes):
    return {f'{prefix}{i}.weight': torch.randn(*s) for i, s in enumerate(shapes)}


def make_checkpoint(fmt, model):
    """The checkpoint object ``fmt`` would save for an SSL model whose online encoder is
    ``model`` (key layouts as documented in segssl/convert/sources.py)."""
    full = model.state_dict()  # with fc.
    enc = encoder_state(model)
    tgt = perturbed(enc)
    if fmt == 'segssl':
        sd = {
            **{
                'online_backbone.' + k: v
                for k, v in enc.items()
            },
            **{
                'target_backbone.' + k: v
                for k, v in tgt.items()
            },
            **head('online_neck.proj.', (256, 2048, 1, 1)),
            **head('target_neck.proj.', (8, 8)),
            **head('propagation.transform.', (256, 256, 1, 1))
        }
        return {
            'meta': {
                'epoch': 3,
                'iter': 300,
                'mmengine_version': '0.10.7'
            },
            'state_dict': sd,
            'message_hub': {},
            'optimizer': {
                'state': {},
                'param_groups': []
            }
        }
    if fmt == 'pixpro':
        sd = {
            **{
                'module.encoder.' + k: v
                for k, v in enc.items()
            },
            **{
                'module.encoder_k.' + k: v
                for k, v in tgt.items()
            },
            **head('module.projector.linear', (4096, 2048), (256, 4096)),
            **head('module.projector_k.linear', (4096, 2048), (256, 4096)),
            **head('module.value_transform.conv', (256, 256, 1, 1))
        }
        return {'opt': {'arch': 'resnet50'}, 'model': sd, 'optimizer': {}, 'epoch': 100}
    if fmt == 'moco':
        sd = {
            **{
                'module.encoder_q.' + k: v
                for k, v in enc.items()
            },
            **head('module.encoder_q.fc.', (2048, 2048), (128, 2048)),
            **{
                'module.encoder_k.' + k: v
                for k, v in tgt.items()
            }, 'module.queue': torch.randn(128, 16),
            'module.queue_ptr': torch.zeros(1)
        }
        return {'epoch': 200, 'arch': 'resnet50', 'state_dict': sd, 'optimizer': {}}
    if fmt == 'byol':  # PyTorch Lightning (pl_bolts BYOL): online_network.encoder = resnet
        sd = {
            **{
                'online_network.encoder.' + k: v
                for k, v in full.items()
            },
            **head('online_network.projector.model.', (4096, 2048), (256, 4096)),
            **head('online_network.predictor.model.', (4096, 256), (256, 4096)),
            **{
                'target_network.encoder.' + k: v
                for k, v in perturbed(full).items()
            }
        }
        return {
            'epoch': 10,
            'global_step': 100,
            'pytorch-lightning_version': '1.9.0',
            'state_dict': sd,
            'optimizer_states': []
        }
    if fmt == 'byol_sequential':  # encoder = nn.Sequential(*list(resnet.children())[:-1])

        def seq(d):
            return {'encoder.' + SEQ_INDEX[k.split('.')[0]] + k[len(k.split('.')[0]):]: v for k, v in d.items()}

        online = {**seq(enc), **head('projetion.net.', (512, 2048), (128, 512))}
        target = {**seq(tgt), **head('projetion.net.', (512, 2048), (128, 512))}
        return {'online_network_state_dict': online, 'target_network_state_dict': target, 'optimizer_state_dict': {}}
    if fmt == 'mmpretrain':
        sd = {
            **{
                'backbone.' + k: v
                for k, v in enc.items()
            },
            **head('neck.mlp.', (2048, 2048)),
            **head('head.fc.', (1000, 2048))
        }
        return {'meta': {'dataset_meta': {}}, 'state_dict': sd}
    if fmt == 'torchvision':
        return full
    raise KeyError(fmt)


DETECTED_AS = {'byol_sequential': 'byol'}


def stage_outputs(model, x):
    """torchvision ResNet's layer1..layer4 outputs, ``[(N, C_s, H/4/2^s, W/4/2^s)]``."""
    with torch.no_grad():
        y = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        outs = []
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            y = layer(y)
            outs.append(y)
    return outs


def save(obj, path):
    torch.save(obj, path)
    return str(path)


@pytest.fixture(scope='module')
def resnet50():
    return random_resnet(50, seed=50)


@pytest.mark.parametrize('fmt', FORMATS)
def test_every_format_reads_the_online_encoder_bit_exactly(fmt, resnet50, tmp_path):
    src = save(make_checkpoint(fmt, resnet50), tmp_path / f'{fmt}.pth')
    source, encoder = read_resnet(src)
    assert source.format == DETECTED_AS.get(fmt, fmt)
    assert encoder.depth == 50 and encoder.stem == '7x7'
    expected = encoder_state(resnet50)
    assert list(encoder.state_dict) == list(expected)
    assert all(torch.equal(encoder.state_dict[k], v) for k, v in expected.items())
    dropped = {prefix: (n, why) for prefix, n, why in source.dropped}
    n_enc = len(expected)
    if fmt in ('segssl', 'pixpro', 'moco'):  # the target encoder is dropped, whole
        target = {'segssl': 'target_backbone.', 'pixpro': 'encoder_k.', 'moco': 'encoder_k.'}[fmt]
        assert dropped[target] == (n_enc, 'target network')
    if fmt == 'moco':
        assert dropped['encoder_q.fc.'] == (2, 'head or other')
    if fmt == 'byol':
        assert dropped['target_network.'] == (n_enc + 2, 'target network')
        assert dropped['online_network.encoder.'] == (2, 'head or other')  # fc
    if fmt == 'byol_sequential':
        assert dropped['target_network_state_dict'] == (n_enc + 2, 'target network')
    if fmt == 'torchvision':
        assert dropped == {'fc.': (2, 'head or other')}


def test_format_can_be_named_and_a_wrong_name_is_an_error(resnet50, tmp_path):
    src = save(make_checkpoint('moco', resnet50), tmp_path / 'moco.pth')
    assert read_resnet(src, fmt='moco')[0].format == 'moco'
    with pytest.raises(ConversionError, match=r"moco.pth: no online encoder: format segssl"):
        read_resnet(src, fmt='segssl')


def mmseg_backbone(depth, checkpoint):
    """mmseg's ResNet initialised through init_cfg=Pretrained; returns (model, warnings)."""
    from mmengine.logging import MMLogger
    from mmseg.models.backbones import ResNet
    records = []

    class Keep(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING)  # skip the per-parameter INFO lines of init_weights
    try:
        model = ResNet(depth, style='pytorch', out_indices=(0, 1, 2, 3),
                       init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
        model.init_weights()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    model.eval()  # mmseg ResNet.train() returns None
    return model, records


def detectron2_cfg(depth, norm):
    from detectron2.config import get_cfg
    cfg = get_cfg()
    cfg.MODEL.RESNETS.DEPTH = depth
    cfg.MODEL.RESNETS.NORM = norm
    cfg.MODEL.RESNETS.STRIDE_IN_1X1 = False
    cfg.MODEL.RESNETS.OUT_FEATURES = ['res2', 'res3', 'res4', 'res5']
    cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64 if depth < 50 else 256
    cfg.MODEL.BACKBONE.FREEZE_AT = 0
    cfg.MODEL.DEVICE = 'cpu'
    return cfg


def max_diffs(outs, ref):
    return [float((a - b).abs().max()) for a, b in zip(outs, ref)]


# Every format once (bit-exact reading of all of them at R50 is tested above): R101, R50, R34
# and R18 (small depths keep the file fast on 2 cores; R101 again through Mask R-CNN below).
CASES = [('segssl', 101), ('pixpro', 50), ('moco', 50), ('byol', 18), ('mmpretrain', 18), ('torchvision', 18),
         ('byol_sequential', 34)]


@pytest.mark.parametrize('fmt,depth', CASES)
def test_mmseg_and_detectron2_give_torchvision_outputs(fmt, depth, tmp_path):
    from detectron2.layers import ShapeSpec
    from detectron2.modeling.backbone import build_resnet_backbone
    model = random_resnet(depth, seed=depth)
    src = save(make_checkpoint(fmt, model), tmp_path / 'src.pth')
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    ref = stage_outputs(model, x)
    assert 1.0 < max(float(r.abs().max()) for r in ref) < 1e3  # a meaningful 1e-4

    # mmseg: init_cfg Pretrained, zero missing / unexpected keys, every tensor loaded
    mm_file = str(tmp_path / 'mmseg.pth')
    convert(src, mm_file, 'mmseg', depth=depth)
    mm, warnings = mmseg_backbone(depth, mm_file)
    assert not [w for w in warnings if 'missing' in w or 'unexpected' in w], warnings
    stored = torch.load(mm_file, map_location='cpu')['state_dict']
    model_sd = mm.state_dict()
    assert set(stored) == set(model_sd)  # 0 missing, 0 unexpected
    assert all(torch.equal(model_sd[k], v) for k, v in stored.items())
    with torch.no_grad():
        mm_out = mm(x)
    diff_mm = max_diffs(mm_out, ref)
    assert max(diff_mm) <= TOL, diff_mm

    # detectron2: bare backbone, strict load of the un-prefixed keys, BN and FrozenBN
    d2_file = str(tmp_path / 'd2.pkl')
    convert(src, d2_file, 'detectron2', depth=depth, prefix='')
    with open(d2_file, 'rb') as f:
        data = pickle.load(f)
    assert data['__author__'] == 'segssl' and data['matching_heuristics'] is False
    weights = {k: torch.from_numpy(v) for k, v in data['model'].items()}
    for norm in ('BN', 'FrozenBN'):
        bb = build_resnet_backbone(detectron2_cfg(depth, norm), ShapeSpec(channels=3)).eval()
        result = bb.load_state_dict(dict(weights), strict=True)
        assert result.missing_keys == [] and result.unexpected_keys == []
        with torch.no_grad():
            out = bb(x)
        diff_d2 = max_diffs([out[f'res{i}'] for i in range(2, 6)], ref)
        assert max(diff_d2) <= TOL, (norm, diff_d2)


@pytest.mark.parametrize('depth', [50, 101])
def test_detectron2_checkpointer_loads_mask_rcnn_backbone_exactly(depth, tmp_path):
    """Through DetectionCheckpointer into a full Mask R-CNN FPN (FrozenBN, the zoo default)."""
    from detectron2 import model_zoo
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.config import get_cfg
    from detectron2.modeling import build_model
    model = random_resnet(depth, seed=depth + 1)
    src = save(make_checkpoint('pixpro', model), tmp_path / 'pixpro.pth')
    dst = str(tmp_path / f'r{depth}.pkl')
    report = convert(src, dst, 'detectron2')
    assert report.outputs == [dst, str(tmp_path / f'r{depth}.yaml')]
    cfg = get_cfg()
    cfg.merge_from_file(model_zoo.get_config_file(f'COCO-InstanceSegmentation/mask_rcnn_R_{depth}_FPN_3x.yaml'))
    cfg.merge_from_file(str(tmp_path / f'r{depth}.yaml'))  # the YAML written beside it
    assert cfg.MODEL.WEIGHTS == os.path.abspath(dst)
    assert (cfg.MODEL.RESNETS.DEPTH, cfg.MODEL.RESNETS.STRIDE_IN_1X1, cfg.INPUT.FORMAT) == \
        (depth, False, 'RGB')
    assert cfg.MODEL.PIXEL_MEAN == [123.675, 116.28, 103.53]
    assert cfg.MODEL.PIXEL_STD == [58.395, 57.12, 57.375]
    cfg.MODEL.DEVICE = 'cpu'
    net = build_model(cfg).eval()
    ckpt = DetectionCheckpointer(net)
    incompatible = ckpt._load_model(ckpt._load_file(cfg.MODEL.WEIGHTS))  # what .load() does
    bottom_up = 'backbone.bottom_up.'
    assert [k for k in incompatible.missing_keys if k.startswith(bottom_up)] == []
    assert incompatible.unexpected_keys == [] and incompatible.incorrect_shapes == []
    n_loaded = sum(1 for k in net.state_dict() if k.startswith(bottom_up))
    assert n_loaded == len(pickle.load(open(dst, 'rb'))['model'])
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = net.backbone.bottom_up(x)
    diffs = max_diffs([out[f'res{i}'] for i in range(2, 6)], stage_outputs(model, x))
    assert max(diffs) <= TOL, diffs


def test_detectron2_names_are_detectron2s_own(tmp_path):
    model = random_resnet(18, seed=3)
    src = save(model.state_dict(), tmp_path / 'tv.pth')
    convert(src, str(tmp_path / 'r18.pkl'), 'detectron2')
    names = pickle.load(open(tmp_path / 'r18.pkl', 'rb'))['model']
    assert {
        'backbone.bottom_up.stem.conv1.weight', 'backbone.bottom_up.stem.conv1.norm.running_var',
        'backbone.bottom_up.res2.0.conv1.weight', 'backbone.bottom_up.res3.0.shortcut.weight',
        'backbone.bottom_up.res3.0.shortcut.norm.bias'
    } <= set(names)
    assert not [k for k in names if 'num_batches_tracked' in k]
    assert len(names) == len(encoder_state(model)) - 20  # 20 BNs in R18: no counters
    assert 'RES2_OUT_CHANNELS: 64' in open(tmp_path / 'r18.yaml').read()
    expected = encoder_state(model)
    for k, v in names.items():
        assert torch.equal(torch.from_numpy(v), expected[torchvision_name(k[19:])])


def test_round_trip_torchvision_mmseg_torchvision_is_bit_exact(tmp_path):
    model = random_resnet(101, seed=7)
    src = save(model.state_dict(), tmp_path / 'tv.pth')
    convert(src, str(tmp_path / 'mm.pth'), 'mmseg')
    convert(str(tmp_path / 'mm.pth'), str(tmp_path / 'back.pth'), 'torchvision')
    back = torch.load(tmp_path / 'back.pth', map_location='cpu')
    expected = encoder_state(model)
    assert list(back) == list(expected)
    assert all(torch.equal(back[k], v) and back[k].dtype == v.dtype for k, v in expected.items())
    fresh = torchvision.models.resnet101()
    result = fresh.load_state_dict(back, strict=False)
    assert result.missing_keys == ['fc.weight', 'fc.bias'] and result.unexpected_keys == []


def test_3x3_stem_resnet34_converts_to_torchvision_and_not_detectron2(tmp_path):
    """(--to mmseg for this stem: tests/test_resnet_3x3_stem.py)"""
    model = random_resnet(34, seed=34, stem='3x3')
    src = save(make_checkpoint('segssl', model), tmp_path / 'simclr.pth')
    report = convert(src, str(tmp_path / 'tv.pth'), 'torchvision', depth=34)
    assert (report.encoder.depth, report.encoder.stem) == (34, '3x3')
    back = torch.load(tmp_path / 'tv.pth')
    assert tuple(back['conv1.weight'].shape) == (64, 3, 3, 3)
    assert all(torch.equal(back[k], v) for k, v in encoder_state(model).items())
    with pytest.raises(ConversionError, match=r'3x3 stem .* 7x7 stride-2 stem'):
        convert(src, str(tmp_path / 'd2.pkl'), 'detectron2')
    assert sorted(os.listdir(tmp_path)) == ['simclr.pth', 'tv.pth']


def test_cli_prints_converted_and_dropped(tmp_path):
    model = random_resnet(50, seed=5)
    src = save(make_checkpoint('segssl', model), tmp_path / 'ssl.pth')
    r = run_tool(['tools/convert_checkpoint.py', src,
                  str(tmp_path / 'out.pkl'), '--to', 'detectron2', '--depth', '50'], timeout=300)
    assert r.returncode == 0, r.stdout
    n = len(encoder_state(model))
    params = sum(p.numel() for k, p in model.named_parameters() if not k.startswith('fc.'))
    assert 'format segssl' in r.stdout
    assert f'converted ResNet-50 (7x7 stem): {n} tensors, {params:,} parameters' in r.stdout
    assert 'target_backbone.' in r.stdout and f'{n} tensors  (target network)' in r.stdout
    assert 'online_neck.' in r.stdout and 'ignored non-weight entries: meta' in r.stdout
    assert os.path.isfile(tmp_path / 'out.pkl') and os.path.isfile(tmp_path / 'out.yaml')
    assert os.path.isfile(os.path.join(ROOT, 'tools', 'convert_checkpoint.py'))

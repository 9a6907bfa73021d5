"""The SimCLR report's 3x3-stem ResNet as an mmseg backbone (ResNet3x3Stem), and the bridge writing a
3x3-stem SSL encoder for it: the converted mmseg backbone gives the source network's stage
outputs with zero missing / unexpected keys."""
import logging

import pytest
import torch
from conftest import skip_without_mmseg
from test_convert import encoder_state, make_checkpoint, random_resnet, save

skip_without_mmseg()


def stage_outputs_3x3(model, x):
    """A torchvision ResNet with conv1 3x3 stride 1 and maxpool = Identity, stage by stage."""
    with torch.no_grad():
        y = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        outs = []
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            y = layer(y)
            outs.append(y)
    return outs


def test_backbone_has_the_3x3_stride1_stem_and_no_maxpool():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmseg.registry import MODELS
    net = MODELS.build(dict(type='ResNet3x3Stem', depth=18, out_indices=(0, 1, 2, 3)))
    net.eval()  # mmseg's ResNet.train() returns None
    assert (net.conv1.kernel_size, net.conv1.stride, net.conv1.padding) == ((3, 3), (1, 1), (1, 1))
    assert isinstance(net.maxpool, torch.nn.Identity)
    with torch.no_grad():
        outs = net(torch.randn(1, 3, 32, 32))
    assert [tuple(o.shape[-2:]) for o in outs] == [(32, 32), (16, 16), (8, 8), (4, 4)]  # strides 1, 2, 4, 8
    with pytest.raises(ValueError, match='deep_stem'):
        MODELS.build(dict(type='ResNet3x3Stem', depth=18, deep_stem=True))


def test_3x3_stem_resnet34_converts_to_mmseg_with_equal_outputs(tmp_path):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS

    from segssl.convert import convert
    model = random_resnet(34, seed=34, stem='3x3')
    src = save(make_checkpoint('segssl', model), tmp_path / 'simclr.pth')
    dst = str(tmp_path / 'r34_3x3_mmseg.pth')
    report = convert(src, dst, 'mmseg', depth=34)
    assert (report.encoder.depth, report.encoder.stem) == (34, '3x3')
    assert any("type='ResNet3x3Stem'" in line for line in report.lines())
    stored = torch.load(dst, map_location='cpu')
    assert stored['meta']['segssl_convert']['backbone_type'] == 'ResNet3x3Stem'
    records = []

    class Keep(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        mm = MODELS.build(
            dict(type='ResNet3x3Stem', depth=34, style='pytorch', out_indices=(0, 1, 2, 3),
                 init_cfg=dict(type='Pretrained', checkpoint=dst)))
        mm.init_weights()
    finally:
        logger.removeHandler(handler)
    assert not [w for w in records if 'missing' in w or 'unexpected' in w], records
    mm_sd = mm.state_dict()
    assert set(mm_sd) == set(stored['state_dict'])  # 0 missing, 0 unexpected
    assert all(torch.equal(mm_sd[k], v) for k, v in encoder_state(model).items())
    mm.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    ref = stage_outputs_3x3(model, x)
    assert ref[0].shape[-2:] == (32, 32) and 1.0 < max(float(r.abs().max()) for r in ref) < 1e3
    with torch.no_grad():
        out = mm(x)
    diffs = [float((a - b).abs().max()) for a, b in zip(out, ref)]
    assert max(diffs) <= 1e-4, diffs

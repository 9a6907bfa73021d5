"""ERFNet bridge: an erfnet_pytorch-layout network (a reference written here, after the
original paper's Net) converted to mmseg's ERFNet gives the same decoder features, and the
transfer takes the encoder from one checkpoint, the decoder from another, and a new last layer."""
import os

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import run_tool

from segssl.convert import ConversionError
from segssl.convert.erfnet import expected_erfnet_shapes, transfer_erfnet


class Down(nn.Module):

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout - cin, 3, stride=2, padding=1, bias=True)
        self.pool = nn.MaxPool2d(2, stride=2)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x):
        return F.relu(self.bn(torch.cat([self.conv(x), self.pool(x)], 1)))


class NonBt1d(nn.Module):

    def __init__(self, c, dil):
        super().__init__()
        self.conv3x1_1 = nn.Conv2d(c, c, (3, 1), padding=(1, 0), bias=True)
        self.conv1x3_1 = nn.Conv2d(c, c, (1, 3), padding=(0, 1), bias=True)
        self.bn1 = nn.BatchNorm2d(c, eps=1e-3)
        self.conv3x1_2 = nn.Conv2d(c, c, (3, 1), padding=(dil, 0), dilation=(dil, 1), bias=True)
        self.conv1x3_2 = nn.Conv2d(c, c, (1, 3), padding=(0, dil), dilation=(1, dil), bias=True)
        self.bn2 = nn.BatchNorm2d(c, eps=1e-3)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1x3_1(F.relu(self.conv3x1_1(x)))))
        y = self.bn2(self.conv1x3_2(F.relu(self.conv3x1_2(y))))
        return F.relu(y + x)


class Up(nn.Module):

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Encoder(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.initial_block = Down(3, 16)
        self.layers = nn.ModuleList([Down(16, 64)] + [NonBt1d(64, 1) for _ in range(5)] + [Down(64, 128)] +
                                    [NonBt1d(128, d) for _ in range(2) for d in (2, 4, 8, 16)])
        self.output_conv = nn.Conv2d(128, num_classes, 1, bias=True)

    def forward(self, x):
        x = self.initial_block(x)
        for layer in self.layers:
            x = layer(x)
        return x


class Decoder(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.layers = nn.ModuleList(
            [Up(128, 64), NonBt1d(64, 1),
             NonBt1d(64, 1), Up(64, 16),
             NonBt1d(16, 1), NonBt1d(16, 1)])
        self.output_conv = nn.ConvTranspose2d(16, num_classes, 2, stride=2)

    def features(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Net(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.encoder = Encoder(num_classes)
        self.decoder = Decoder(num_classes)

    def features(self, x):
        """(N, 16, H/2, W/2): input of decoder.output_conv = mmseg ERFNet's output."""
        return self.decoder.features(self.encoder(x))


def random_net(num_classes, seed):
    torch.manual_seed(seed)
    net = Net(num_classes)
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) * 0.5 + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
    return net.eval()


def test_erfnet_original_to_mmseg_gives_equal_features(tmp_path):
    from mmseg.models.backbones import ERFNet
    net = random_net(20, seed=0)
    src = tmp_path / 'erfnet_cityscapes.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in net.state_dict().items()}}, src)
    dst = tmp_path / 'erfnet_mmseg.pth'
    r = run_tool(['tools/convert_checkpoint.py', str(src), str(dst), '--arch', 'erfnet', '--to', 'mmseg'], timeout=300)
    assert r.returncode == 0, r.stdout
    assert "kept last layer decoder.output_conv (16, 20, 2, 2) (not written" in r.stdout
    mm = ERFNet(init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    mm.init_weights()
    mm.eval()
    stored = torch.load(dst)['state_dict']
    assert list(stored) == list(expected_erfnet_shapes())
    assert set(stored) == set(mm.state_dict())  # 0 missing, 0 unexpected
    assert all(torch.equal(mm.state_dict()[k], v) for k, v in stored.items())
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = net.features(x)
        out = mm(x)[0]
    assert out.shape == ref.shape == (1, 16, 32, 32)
    assert 0.1 < float(ref.abs().max()) < 1e3
    assert float((out - ref).abs().max()) <= 1e-4


def test_erfnet_transfer_encoder_and_decoder_from_two_checkpoints(tmp_path):
    imagenet = random_net(1000, seed=1)  # encoder pretrained (with its classifier)
    cityscapes = random_net(20, seed=2)  # decoder trained for 20 classes
    enc_src, dec_src = tmp_path / 'enc.pth', tmp_path / 'dec.pth'
    torch.save({'model': {k: v for k, v in imagenet.state_dict().items() if k.startswith('encoder.')}}, enc_src)
    torch.save(cityscapes.state_dict(), dec_src)
    dst = tmp_path / 'erfnet_5cls.pth'
    r = run_tool([
        'tools/convert_checkpoint.py',
        str(enc_src),
        str(dst), '--arch', 'erfnet', '--decoder-from',
        str(dec_src), '--num-classes', '5', '--to', 'erfnet_pytorch'
    ], timeout=300)
    assert r.returncode == 0, r.stdout
    assert 'new last layer decoder.output_conv (16, 5, 2, 2)' in r.stdout
    out = torch.load(dst)
    fresh = Net(5)
    result = fresh.load_state_dict(out, strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys == ['encoder.output_conv.weight', 'encoder.output_conv.bias']
    for k, v in imagenet.state_dict().items():
        if k.startswith('encoder.') and 'output_conv' not in k:
            assert torch.equal(out[k], v), k
    for k, v in cityscapes.state_dict().items():
        if k.startswith('decoder.layers.'):
            assert torch.equal(out[k], v), k
    assert out['decoder.output_conv.weight'].shape == (16, 5, 2, 2)
    assert out['decoder.output_conv.bias'].shape == (5, )
    # the same seed gives the same new layer; the decoder's old one (20 classes) is gone
    _, last = transfer_erfnet(str(enc_src), str(dec_src), 5, seed=0)
    assert torch.equal(last['output_conv.weight'], out['decoder.output_conv.weight'])


def test_erfnet_transfer_errors_name_the_file(tmp_path):
    net = random_net(20, seed=0)
    enc_only = tmp_path / 'enc.pth'
    torch.save({k: v for k, v in net.state_dict().items() if k.startswith('encoder.')}, enc_only)
    with pytest.raises(ConversionError, match=r'enc.pth: no ERFNet decoder in this checkpoint'):
        transfer_erfnet(str(enc_only), str(enc_only), 5)
    resnet_like = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7)}, resnet_like)
    with pytest.raises(ConversionError, match=r'resnet.pth: unknown key layout for ERFNet'):
        transfer_erfnet(str(resnet_like), str(enc_only), 5)
    assert sorted(os.listdir(tmp_path)) == ['enc.pth', 'resnet.pth']


def test_imagenet_classifier_layout_converts_to_an_encoder_only_file(tmp_path):
    """erfnet_pytorch's ImageNet classifier keeps its encoder under features.encoder. and has no
    decoder: --to mmseg writes the encoder alone, which PretrainedERFNetEncoder (the pretext
    configs' default start) and mmseg's ERFNet load with equal encoder outputs."""
    from mmengine.registry import init_default_scope
    from mmseg.models.backbones import ERFNet

    import segssl.mmseg  # noqa: F401  (registers PretrainedERFNetEncoder in mmseg's scope)
    init_default_scope('mmseg')
    net = random_net(1000, seed=4)
    sd = {'module.features.' + k: v for k, v in net.state_dict().items() if k.startswith('encoder.')}
    sd['module.classifier.linear.weight'] = torch.zeros(1000, 128)
    src, dst = tmp_path / 'erfnet_imagenet.pth', tmp_path / 'erfnet_imagenet_mmseg.pth'
    torch.save({'state_dict': sd}, src)
    r = run_tool(['tools/convert_checkpoint.py', str(src), str(dst), '--arch', 'erfnet', '--to', 'mmseg'], timeout=300)
    assert r.returncode == 0, r.stdout
    assert 'it has no decoder: encoder only' in r.stdout and "(classifier.linear, encoder.output_conv)" in r.stdout
    stored = torch.load(dst)['state_dict']
    assert set(stored) == {k for k in expected_erfnet_shapes() if k.startswith('encoder.')}
    mm = ERFNet(init_cfg=dict(type='PretrainedERFNetEncoder', checkpoint=str(dst)))
    mm.init_weights()
    mm.eval()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = net.encoder(x)
        out = x
        for layer in mm.encoder:
            out = layer(out)
    assert out.shape == ref.shape == (1, 128, 8, 8)
    assert float((out - ref).abs().max()) <= 1e-4 * float(ref.abs().max())

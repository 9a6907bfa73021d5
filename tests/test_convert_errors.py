"""Bad input to the checkpoint bridge: each stops with an error naming the file and what was
found vs expected, and the destination folder is left exactly as it was (no DST, no temp). The
command line prints it as one line, ``convert_checkpoint: error: ...``, on stderr, exit code 2."""
import os
import pickle
import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from test_convert import encoder_state, make_checkpoint, random_resnet

from segssl.convert import ConversionError, convert
from segssl.convert.erfnet import convert_erfnet


@pytest.fixture(scope='module')
def resnet18():
    return random_resnet(18, seed=18)


@pytest.fixture(scope='module')
def resnet50():
    return random_resnet(50, seed=50)


def assert_nothing_written(folder, inputs):
    assert sorted(os.listdir(folder)) == sorted(inputs), os.listdir(folder)


def fail(src, tmp_path, to, match, **kwargs):
    """Run convert, expect ConversionError matching ``match`` and naming ``src`` or DST."""
    dst = str(tmp_path / ('out.pkl' if to == 'detectron2' else 'out.pth'))
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ConversionError, match=match) as info:
        convert(str(src), dst, to, **kwargs)
    assert str(info.value).startswith(str(src) + ': ') and info.value.path == str(src)
    assert_nothing_written(tmp_path, before)
    return str(info.value)


@pytest.mark.parametrize('to', ['mmseg', 'detectron2', 'torchvision'])
def test_truncated_file(to, resnet18, tmp_path):
    src = tmp_path / 'ckpt.pth'
    torch.save(make_checkpoint('segssl', resnet18), src)
    data = src.read_bytes()
    src.write_bytes(data[:len(data) // 2])
    msg = fail(src, tmp_path, to, r'cannot load: a zip archive .* truncated or corrupt')
    assert f'size {len(data) // 2} bytes' in msg and 'expected a file written by torch.save' in msg


def test_truncated_legacy_pickle(resnet18, tmp_path):
    src = tmp_path / 'old.pkl'
    src.write_bytes(pickle.dumps(dict(resnet18.state_dict()), protocol=2)[:5000])
    fail(src, tmp_path, 'mmseg', r'cannot load: a pickle that ends early: truncated or corrupt')


def test_non_checkpoint_file(tmp_path):
    src = tmp_path / 'notes.txt'
    src.write_text('these are not weights\n')
    fail(src, tmp_path, 'mmseg', r"cannot load: not a checkpoint \(starts with b'these ar'\)")
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    fail(empty, tmp_path, 'torchvision', r'the file is empty \(0 bytes\)')
    listed = tmp_path / 'list.pth'
    torch.save([1, 2, 3], listed)
    fail(listed, tmp_path, 'mmseg', r'holds a list, not a checkpoint dict')


def test_unknown_key_layout(tmp_path):
    src = tmp_path / 'vit.pth'
    torch.save(
        {
            'state_dict': {
                'patch_embed.proj.weight': torch.zeros(8, 3, 16, 16),
                'blocks.0.attn.qkv.weight': torch.zeros(24, 8)
            }
        }, src)
    msg = fail(src, tmp_path, 'mmseg', r'unknown key layout: no known SSL checkpoint format')
    assert 'state_dict: patch_embed. (1), blocks. (1)' in msg  # found
    assert 'segssl (online_backbone.)' in msg and 'pixpro (encoder.)' in msg  # expected
    assert '--from FORMAT' in msg


def test_ambiguous_layout_asks_for_from(resnet18, tmp_path):
    src = tmp_path / 'momentum_only.pth'  # PixPro and MoCo both call the target encoder_k
    torch.save({'state_dict': {'module.encoder_k.' + k: v for k, v in resnet18.state_dict().items()}}, src)
    msg = fail(
        src, tmp_path, 'mmseg', r"ambiguous key layout: it matches formats "
        r"\['pixpro', 'moco'\] \(found state_dict: encoder_k. \(122\)\)")
    assert 'name the format with --from FORMAT' in msg
    fail(src, tmp_path, 'mmseg', r"no online encoder: format moco, state_dict has no key "
         r"starting with 'encoder_q.'", fmt='moco')


def test_depth_mismatch(resnet50, tmp_path):
    src = tmp_path / 'r50.pth'
    torch.save(make_checkpoint('moco', resnet50), src)
    fail(
        src, tmp_path, 'detectron2', r'depth mismatch: found ResNet-50 \(Bottleneck, blocks \[3, 4, 6, 3\]\); expected '
        r'ResNet-101 \(ResNet-101 \(Bottleneck, blocks \[3, 4, 23, 3\]\)\)', depth=101)
    fail(src, tmp_path, 'mmseg', r'expected ResNet-42, which is not one of', depth=42)


def test_checkpoint_with_no_encoder(resnet18, tmp_path):
    ckpt = make_checkpoint('segssl', resnet18)
    ckpt['state_dict'] = {k: v for k, v in ckpt['state_dict'].items() if not k.startswith('online_backbone.')}
    src = tmp_path / 'target_only.pth'
    torch.save(ckpt, src)
    msg = fail(
        src, tmp_path, 'mmseg', r"no online encoder: format segssl, state_dict has no key starting with "
        r"'online_backbone.'; found target_backbone. \(")
    assert 'a target network is never converted' in msg
    heads = tmp_path / 'heads_only.pth'
    torch.save({'state_dict': {'neck.mlp.0.weight': torch.zeros(4, 4), 'head.fc.weight': torch.zeros(2, 4)}}, heads)
    fail(heads, tmp_path, 'torchvision', r"format mmpretrain, state_dict has no key starting "
         r"with 'backbone.'; found neck. \(1\), head. \(1\)", fmt='mmpretrain')
    proj = tmp_path / 'projector_only.pth'
    torch.save({'state_dict': {'online_network.projector.0.weight': torch.zeros(4, 4)}}, proj)
    fail(
        proj, tmp_path, 'mmseg', r"no encoder: format byol, state_dict, prefix "
        r"'online_network.' holds no ResNet .* found 1 tensors: projector.0.")


def test_incomplete_or_misshaped_encoder(resnet50, tmp_path):
    sd = dict(resnet50.state_dict())
    del sd['layer3.2.bn1.weight']
    sd['layer4.0.conv2.weight'] = torch.zeros(512, 512, 1, 1)
    sd['layer2.0.extra.weight'] = torch.zeros(1)
    src = tmp_path / 'broken.pth'
    torch.save(sd, src)
    msg = fail(src, tmp_path, 'mmseg', r'does not match the 7x7-stem ResNet-50')
    assert '1 missing: layer3.2.bn1.weight' in msg
    assert '1 unexpected: layer2.0.extra.weight' in msg
    assert '1 wrong shape: layer4.0.conv2.weight (512, 512, 1, 1) (expected (512, 512, 3, 3))' in msg


def test_existing_destination_survives_a_failed_conversion(tmp_path):
    src = tmp_path / 'bad.pth'
    src.write_text('garbage')
    dst = tmp_path / 'out.pth'
    dst.write_bytes(b'previous good file')
    with pytest.raises(ConversionError):
        convert(str(src), str(dst), 'mmseg')
    assert dst.read_bytes() == b'previous good file'
    assert sorted(os.listdir(tmp_path)) == ['bad.pth', 'out.pth']


def test_failure_while_writing_leaves_no_partial_file(resnet18, tmp_path, monkeypatch):
    """A crash half-way through writing the .pkl leaves neither the .pkl, the .yaml nor temps."""
    src = tmp_path / 'tv.pth'
    torch.save(resnet18.state_dict(), src)
    import segssl.convert.writers as writers

    def crash(obj, f, protocol=None):
        f.write(b'\x80\x04partial')
        raise OSError('disk full (simulated)')

    monkeypatch.setattr(writers.pickle, 'dump', crash)
    with pytest.raises(OSError, match='disk full'):
        convert(str(src), str(tmp_path / 'out.pkl'), 'detectron2')
    assert_nothing_written(tmp_path, ['tv.pth'])


def test_cli_reports_bad_input_and_writes_nothing(resnet50, tmp_path):
    src = tmp_path / 'r50.pth'
    torch.save(encoder_state(resnet50), src)
    rc, out, err = run_cli([src, tmp_path / 'o.pth', '--to', 'mmseg', '--depth', '18'])
    assert (rc, out) == (2, '')
    assert err == (f'convert_checkpoint: error: {src}: depth mismatch: found ResNet-50 '
                   '(Bottleneck, blocks [3, 4, 6, 3]); expected ResNet-18 (ResNet-18 (BasicBlock, '
                   'blocks [2, 2, 2, 2]))\n')
    assert_nothing_written(tmp_path, ['r50.pth'])


SUPPORTED = 'segssl, pixpro, moco, byol, mmpretrain, torchvision, deeplabv2'
READABLE = "the top level or under 'state_dict', 'model' or 'online_network_state_dict'"


def deep_stem_state(model, stem):
    """``model``'s state dict with its conv1/bn1 replaced by ResNetV1c's three-conv deep stem:
    ``stem='stem.'`` (mmseg/mmpretrain ResNetV1c: stem.{0,3,6} convs, stem.{1,4,7} BNs) or
    ``stem='conv1.'`` (timm resnet*d: conv1.{0,3,6} convs, conv1.{1,4} and bn1 BNs)."""
    sd = {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith(('conv1.', 'fc.') if stem == 'conv1.' else ('conv1.', 'bn1.', 'fc.'))
    }
    for i, (cout, cin) in zip((0, 3, 6), ((32, 3), (32, 32), (64, 32))):
        sd[f'{stem}{i}.weight'] = torch.zeros(cout, cin, 3, 3)
        if stem == 'stem.' or i < 6:
            for t in ('weight', 'bias', 'running_mean', 'running_var'):
                sd[f'{stem}{i + 1}.{t}'] = torch.zeros(cout)
    return sd


DEEP_STEM = ('deep-stem (ResNetV1c) checkpoints are not supported: {where} has a stem of 3 convs '
             '({s}0.weight (32, 3, 3, 3), {s}3.weight (32, 32, 3, 3), {s}6.weight (64, 32, 3, 3)) '
             'where a ResNet has one conv1.weight; this tool converts ResNet-18/34/50/101/152 with '
             f'one conv1 (7x7 stride 2, or 3x3 stride 1) in the formats {SUPPORTED}')


@pytest.mark.parametrize('layout, stem, where', [
    ('mmpretrain', 'stem.', "format mmpretrain, state_dict, prefix 'backbone.'"),
    ('mmseg_bare', 'stem.', 'format torchvision, top level'),
    ('timm', 'conv1.', 'format torchvision, top level'),
])
def test_deep_stem_checkpoint_is_refused_by_name(layout, stem, where, resnet50, tmp_path):
    sd = deep_stem_state(resnet50, stem)
    obj = {'meta': {}, 'state_dict': {'backbone.' + k: v for k, v in sd.items()}} \
        if layout == 'mmpretrain' else sd
    src = tmp_path / 'v1c.pth'
    torch.save(obj, src)
    msg = fail(src, tmp_path, 'mmseg', 'deep-stem')
    assert msg == f'{src}: ' + DEEP_STEM.format(where=where, s=stem)


def test_a_stem_module_beside_conv1_is_not_a_deep_stem(resnet18, tmp_path):
    """A ResNet with its own conv1 and some other module named stem.* converts (stem dropped)."""
    sd = dict(resnet18.state_dict(), **{'stem.0.weight': torch.zeros(8, 3, 3, 3)})
    src = tmp_path / 'r18_and_stem.pth'
    torch.save(sd, src)
    report = convert(str(src), str(tmp_path / 'out.pth'), 'torchvision')
    assert report.encoder.depth == 18
    assert ('stem.', 1, 'head or other') in report.source.dropped


def vgg_like_state():
    """32 tensors named as torchvision's VGG: features.{0,2,...,30}.{weight,bias}."""
    sd = {}
    for i in range(0, 32, 2):
        sd[f'features.{i}.weight'] = torch.zeros(4, 4, 3, 3)
        sd[f'features.{i}.bias'] = torch.zeros(4)
    return sd


def test_tensors_nested_under_an_unknown_key_are_counted(resnet18, tmp_path):
    src = tmp_path / 'vgg.pth'
    torch.save({'net': vgg_like_state(), 'epoch': 3}, src)
    msg = fail(src, tmp_path, 'mmseg', 'found 32 tensors')
    assert msg == (f"{src}: found 32 tensors under 'net' (keys like features.0.weight, "
                   'features.0.bias, features.2.weight), none of them a ResNet/ERFNet layout this '
                   f'tool converts; expected a ResNet state dict at {READABLE}, in one of the '
                   f'formats {SUPPORTED}')
    deep = tmp_path / 'deep.pth'  # any depth: a ResNet two levels down, an optimizer's state
    torch.save(
        {
            'ckpt': {
                'net': dict(resnet18.state_dict())
            },
            'optimizer': {
                'state': {
                    0: {
                        'momentum_buffer': torch.zeros(2)
                    }
                }
            }
        }, deep)
    msg = fail(deep, tmp_path, 'torchvision', 'found 122 tensors')
    assert msg == (f"{deep}: found 122 tensors under 'ckpt' (keys like net.conv1.weight, "
                   "net.bn1.weight, net.bn1.bias), 1 tensor under 'optimizer' (keys like "
                   "state.0.momentum_buffer): a ResNet under 'ckpt', a key this tool does not "
                   f"read; expected the weights at {READABLE} (re-save the state dict, e.g. "
                   "torch.save(ckpt['ckpt'], FILE))")
    empty = tmp_path / 'meta_only.pth'
    torch.save({'meta': {'epoch': 1}, 'note': 'x'}, empty)
    msg = fail(empty, tmp_path, 'mmseg', 'found no tensors')
    assert msg == (f"{empty}: found no tensors at any depth (top-level keys: 'meta', 'note'); "
                   f'expected a ResNet state dict at {READABLE}')
    with pytest.raises(ConversionError) as info:  # the same count for --arch erfnet
        convert_erfnet(str(src), str(tmp_path / 'e.pth'), 'mmseg')
    assert str(info.value) == (f"{src}: found 32 tensors under 'net' (keys like features.0.weight, features.0.bias, "
                               'features.2.weight), none of them at the top level or under state_dict/model, where an '
                               'ERFNet checkpoint (erfnet_pytorch or mmseg ERFNet naming) holds its weights')
    assert_nothing_written(tmp_path, ['vgg.pth', 'deep.pth', 'meta_only.pth'])


SUFFIX_ERRORS = {
    ('mmseg', 'OUT.pkl'): 'output suffix .pkl does not fit --to mmseg, which writes an mmengine '
    'checkpoint (torch.save): expected .pth or .pt (.pkl is for --to '
    'detectron2); nothing was written',
    ('torchvision', 'OUT.pkl'): 'output suffix .pkl does not fit --to torchvision, which writes a '
    'torch.save state dict: expected .pth or .pt (.pkl is for --to '
    'detectron2); nothing was written',
    ('detectron2', 'OUT.pth'): 'output suffix .pth does not fit --to detectron2, which writes a '
    'detectron2 model-zoo pickle (DetectionCheckpointer unpickles only '
    'a .pkl file): expected .pkl (.pth is for --to mmseg or '
    'torchvision); nothing was written',
    ('detectron2', 'OUT.yaml'): 'output suffix .yaml does not fit --to detectron2, which writes a '
    'detectron2 model-zoo pickle (DetectionCheckpointer unpickles '
    'only a .pkl file): expected .pkl; nothing was written',
    ('mmseg', 'OUT'): 'an output name without a suffix does not fit --to mmseg, which writes an '
    'mmengine checkpoint (torch.save): expected .pth or .pt; nothing was written',
}


@pytest.mark.parametrize('to, name', list(SUFFIX_ERRORS))
def test_output_suffix_must_fit_the_target_before_the_source_is_read(to, name, tmp_path):
    """The source does not even exist: the suffix is checked first."""
    dst = tmp_path / name
    with pytest.raises(ConversionError) as info:
        convert(str(tmp_path / 'missing.pth'), str(dst), to)
    assert str(info.value) == f'{dst}: {SUFFIX_ERRORS[to, name]}' and info.value.path == str(dst)
    assert os.listdir(tmp_path) == []


def test_erfnet_output_suffix_is_checked_first(tmp_path):
    dst = tmp_path / 'erfnet.pkl'
    with pytest.raises(ConversionError) as info:
        convert_erfnet(str(tmp_path / 'missing.pth'), str(dst), 'erfnet_pytorch')
    assert str(info.value) == (f'{dst}: output suffix .pkl does not fit --to erfnet_pytorch, '
                               'which writes a torch.save state dict: expected .pth or .pt; '
                               'nothing was written')
    with pytest.raises(ConversionError) as info:
        convert_erfnet(str(tmp_path / 'missing.pth'), str(tmp_path / 'e.pkl'), 'detectron2')
    assert str(info.value) == (f'{tmp_path / "e.pkl"}: ERFNet converts --to mmseg or '
                               'erfnet_pytorch, not detectron2')
    assert os.listdir(tmp_path) == []


def run_cli(args):
    """``tools/convert_checkpoint.py ARGS``: (exit code, stdout, stderr), stderr kept apart."""
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='2')
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'convert_checkpoint.py')] + [str(a) for a in args],
                       cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def test_cli_refuses_a_suffix_of_another_target_in_one_line(resnet18, tmp_path):
    src = tmp_path / 'r18.pth'
    torch.save(encoder_state(resnet18), src)
    rc, out, err = run_cli([src, tmp_path / 'OUT.pkl', '--to', 'mmseg'])
    assert (rc, out) == (2, '')
    assert err == (f'convert_checkpoint: error: {tmp_path / "OUT.pkl"}: '
                   f'{SUFFIX_ERRORS["mmseg", "OUT.pkl"]}\n')
    assert_nothing_written(tmp_path, ['r18.pth'])

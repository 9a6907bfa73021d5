"""Bad input to the checkpoint bridge: each stops with an error naming the file and what was
found vs expected, and the destination folder is left exactly as it was (no DST, no temp)."""
import os
import pickle

import pytest
import torch

from conftest import run_tool
from segssl.convert import ConversionError, convert
from test_convert import encoder_state, make_checkpoint, random_resnet


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
    torch.save({'state_dict': {'patch_embed.proj.weight': torch.zeros(8, 3, 16, 16),
                               'blocks.0.attn.qkv.weight': torch.zeros(24, 8)}}, src)
    msg = fail(src, tmp_path, 'mmseg', r'unknown key layout: no known SSL checkpoint format')
    assert 'state_dict: patch_embed. (1), blocks. (1)' in msg        # found
    assert 'segssl (online_backbone.)' in msg and 'pixpro (encoder.)' in msg  # expected
    assert '--from FORMAT' in msg


def test_ambiguous_layout_asks_for_from(resnet18, tmp_path):
    src = tmp_path / 'momentum_only.pth'   # PixPro and MoCo both call the target encoder_k
    torch.save({'state_dict': {'module.encoder_k.' + k: v
                               for k, v in resnet18.state_dict().items()}}, src)
    msg = fail(src, tmp_path, 'mmseg', r"ambiguous key layout: it matches formats "
               r"\['pixpro', 'moco'\] \(found state_dict: encoder_k. \(122\)\)")
    assert 'name the format with --from FORMAT' in msg
    fail(src, tmp_path, 'mmseg', r"no online encoder: format moco, state_dict has no key "
         r"starting with 'encoder_q.'", fmt='moco')


def test_depth_mismatch(resnet50, tmp_path):
    src = tmp_path / 'r50.pth'
    torch.save(make_checkpoint('moco', resnet50), src)
    fail(src, tmp_path, 'detectron2',
         r'depth mismatch: found ResNet-50 \(Bottleneck, blocks \[3, 4, 6, 3\]\); expected '
         r'ResNet-101 \(ResNet-101 \(Bottleneck, blocks \[3, 4, 23, 3\]\)\)', depth=101)
    fail(src, tmp_path, 'mmseg', r'expected ResNet-42, which is not one of', depth=42)


def test_checkpoint_with_no_encoder(resnet18, tmp_path):
    ckpt = make_checkpoint('segssl', resnet18)
    ckpt['state_dict'] = {k: v for k, v in ckpt['state_dict'].items()
                          if not k.startswith('online_backbone.')}
    src = tmp_path / 'target_only.pth'
    torch.save(ckpt, src)
    msg = fail(src, tmp_path, 'mmseg',
               r"no online encoder: format segssl, state_dict has no key starting with "
               r"'online_backbone.'; found target_backbone. \(")
    assert 'a target network is never converted' in msg
    heads = tmp_path / 'heads_only.pth'
    torch.save({'state_dict': {'neck.mlp.0.weight': torch.zeros(4, 4),
                               'head.fc.weight': torch.zeros(2, 4)}}, heads)
    fail(heads, tmp_path, 'torchvision', r"format mmpretrain, state_dict has no key starting "
         r"with 'backbone.'; found neck. \(1\), head. \(1\)", fmt='mmpretrain')
    proj = tmp_path / 'projector_only.pth'
    torch.save({'state_dict': {'online_network.projector.0.weight': torch.zeros(4, 4)}}, proj)
    fail(proj, tmp_path, 'mmseg', r"no encoder: format byol, state_dict, prefix "
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
    r = run_tool(['tools/convert_checkpoint.py', str(src), str(tmp_path / 'o.pth'),
                  '--to', 'mmseg', '--depth', '18'], timeout=300)
    assert r.returncode == 2
    assert f'error: {src}: depth mismatch: found ResNet-50' in r.stdout
    assert_nothing_written(tmp_path, ['r50.pth'])

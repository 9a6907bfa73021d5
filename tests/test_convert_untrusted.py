"""A downloaded checkpoint is data, not code (issue 21): the bridge's loader never runs what a
pickle says. Poisoned files stop with one line naming the file and the refused global, the
marker their payload would write never appears, and nothing is written; every real format
still converts with the default loader, with the non-tensor contents its official code saves;
``--trust-pickle`` is the explicit opt-in; segssl's own outputs load with
``torch.load(weights_only=True)``."""
import argparse
import datetime
import io
import os
import pickle
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch
from conftest import run_tool
from test_convert import encoder_state, make_checkpoint, random_resnet
from test_convert_erfnet import random_net

from segssl.convert import ConversionError, convert
from segssl.convert.erfnet import convert_erfnet
from segssl.convert.loading import load_checkpoint_file

CONVERT = os.path.join('tools', 'convert_checkpoint.py')


@pytest.fixture(scope='module')
def resnet18():
    return random_resnet(18, seed=18)


class Payload:
    """Unpickling this object runs ``os.system('echo pwned > MARKER')`` (pickled as posix.system)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'echo pwned > {self.marker}', )


class NestedPayload:
    """A tensor storage as plain ``pickle`` stores one (``torch.storage._load_from_bytes`` of
    ``torch.save`` bytes), with the payload inside those bytes."""

    def __init__(self, marker):
        buf = io.BytesIO()
        torch.save({'storage': Payload(marker)}, buf)
        self.data = buf.getvalue()

    def __reduce__(self):
        return torch.storage._load_from_bytes, (self.data, )


def _poisoned(kind, resnet18, tmp_path, marker):
    state = dict(resnet18.state_dict())
    if kind == 'zip':
        path = tmp_path / 'poisoned.pth'
        torch.save({'state_dict': state, 'meta': {'note': Payload(marker)}}, path)
    elif kind == 'legacy':
        path = tmp_path / 'poisoned_legacy.pth'
        torch.save({'state_dict': state, 'meta': {'note': Payload(marker)}}, path, _use_new_zipfile_serialization=False)
    elif kind == 'pkl':
        path = tmp_path / 'poisoned.pkl'
        with open(path, 'wb') as f:
            pickle.dump({
                'model': {
                    k: v.numpy()
                    for k, v in state.items()
                },
                '__author__': Payload(marker)
            }, f, protocol=2)
    else:  # 'nested': a plain pickle of tensors whose storage bytes carry the payload
        path = tmp_path / 'poisoned_nested.pkl'
        with open(path, 'wb') as f:
            pickle.dump({'model': state, 'extra': NestedPayload(marker)}, f, protocol=2)
    return path


@pytest.mark.parametrize('kind', ['zip', 'legacy', 'pkl', 'nested'])
def test_a_poisoned_checkpoint_is_refused_naming_the_global(kind, resnet18, tmp_path):
    marker = tmp_path / 'marker'
    src = _poisoned(kind, resnet18, tmp_path, marker)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ConversionError) as info:
        convert(str(src), str(tmp_path / 'out.pth'), 'mmseg')
    message = str(info.value)
    assert message.startswith(f'{src}: refused to load: its pickle imports posix.system,'), message
    assert '--trust-pickle' in message and '\n' not in message
    assert not marker.exists()
    assert sorted(os.listdir(tmp_path)) == before  # nothing written
    load_checkpoint_file(str(src), trust_pickle=True)  # the payload is live: fully unpickled,
    assert marker.read_text() == 'pwned\n'  # it runs


@pytest.mark.parametrize('kind', ['zip', 'pkl'])
def test_cli_refuses_a_poisoned_file_with_exit_code_2_and_one_line(kind, resnet18, tmp_path):
    marker = tmp_path / 'marker'
    src = _poisoned(kind, resnet18, tmp_path, marker)
    for to, dst in (('mmseg', 'out.pth'), ('detectron2', 'out.pkl')):
        r = run_tool([CONVERT, str(src), str(tmp_path / dst), '--to', to])
        assert r.returncode == 2, r.stdout
        assert r.stdout.strip().splitlines() == [
            f'convert_checkpoint: error: {src}: refused to load: its pickle imports posix.system, '
            'which is not checkpoint '
            'data (tensors, arrays, numbers, strings, containers, argparse.Namespace) and could run code '
            'on this machine; nothing was written. If you trust this file, pass --trust-pickle'
        ]
        assert not marker.exists() and not (tmp_path / dst).exists()


def test_getattr_reaches_only_history_buffer_statistics(tmp_path):
    """mmengine checkpoints name HistoryBuffer's methods through getattr; any other use of
    getattr (the way to any function through __globals__) is refused."""

    class Reach:

        def __reduce__(self):
            return getattr, (Counter, '__init__')

    path = tmp_path / 'getattr.pth'
    torch.save({'x': Reach()}, path)
    with pytest.raises(ConversionError, match=r"imports builtins.getattr\(Counter, '__init__'\)"):
        load_checkpoint_file(str(path))


# ---- every real format, with what its official code saves besides the weights ----------------


def _sgd_state(model):
    """A real SGD state dict (momentum buffers), taken on a copy: the fixture stays as it is."""
    import copy
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model(torch.randn(1, 3, 32, 32)).sum().backward()
    opt.step()
    model.zero_grad()
    return opt.state_dict()


def _history_buffers():
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_convert_untrusted')
    for v in (1.5, np.float64(1.25), 1.0):
        hub.update_scalar('train/loss', v)
    hub.update_info('best_mIoU', np.float32(17.5))
    return hub.state_dict()


def real_checkpoint(fmt, model):
    ckpt = make_checkpoint(fmt, model)
    if fmt == 'pixpro':  # zdaxie/PixPro main_pretrain.py: opt is the argparse Namespace
        ckpt['opt'] = argparse.Namespace(arch='resnet50', batch_size=128, base_lr=1.0, lr_decay_epochs=[120, 160],
                                         amp_opt_level='O1', zip=True, pixpro_p=2.0, pixpro_pos_ratio=0.7)
        ckpt['optimizer'] = _sgd_state(model)
        ckpt['scheduler'] = {
            'multiplier': 1,
            'total_epoch': 5,
            'finished': True,
            'after_scheduler': {
                'milestones': Counter({
                    120: 1,
                    160: 1
                }),
                'gamma': 0.1,
                'base_lrs': [1.0],
                'last_epoch': 100
            }
        }
        ckpt['amp'] = OrderedDict(loss_scaler0={'loss_scale': 65536.0, 'unskipped': 12})
    if fmt == 'moco':  # facebookresearch/moco main_moco.py
        ckpt['optimizer'] = _sgd_state(model)
    if fmt == 'segssl':  # an mmengine checkpoint of segssl's own PixPro runs
        ckpt['meta'].update(seed=np.int64(0), cfg='model = dict(...)', dataset_meta=dict(classes=('a', 'b')))
        ckpt['message_hub'] = _history_buffers()
        ckpt['param_schedulers'] = [{
            'by_epoch': False,
            'begin': 0,
            'end': 300,
            'last_step': 300,
            'base_values': [0.5],
            '_last_value': [0.01]
        }]
    if fmt == 'mmpretrain':  # a published mmpretrain checkpoint
        ckpt['meta'] = {'mmpretrain_version': '1.0.0', 'dataset_meta': {'classes': ('cat', 'dog')}}
    return ckpt


@pytest.mark.parametrize('fmt', ['segssl', 'pixpro', 'moco', 'byol', 'byol_sequential', 'mmpretrain', 'torchvision'])
@pytest.mark.parametrize('container', ['zip', 'legacy'])
def test_every_real_format_converts_with_the_default_loader(fmt, container, resnet18, tmp_path):
    src = tmp_path / f'{fmt}.pth'
    torch.save(real_checkpoint(fmt, resnet18), src, _use_new_zipfile_serialization=container == 'zip')
    report = convert(str(src), str(tmp_path / 'out.pth'), 'mmseg')
    expected = encoder_state(resnet18)
    assert all(torch.equal(report.encoder.state_dict[k], v) for k, v in expected.items())


@pytest.mark.parametrize('values', ['numpy', 'tensors'])
def test_detectron2_style_pkl_converts(values, resnet18, tmp_path):
    """Detectron / detectron2 model-zoo .pkl: a protocol-2 pickle of float ndarrays (read with
    latin-1), bytes through _codecs.encode; or of tensors pickled by plain pickle (each storage
    as nested torch.save bytes, read through the restricted loader too)."""
    src = tmp_path / 'R-18.pkl'
    convert_value = (lambda v: v.numpy()) if values == 'numpy' else (lambda v: v)
    with open(src, 'wb') as f:
        pickle.dump(
            {
                'model': {
                    k: convert_value(v)
                    for k, v in resnet18.state_dict().items()
                },
                '__author__': 'Detectron',
                'matching_heuristics': True
            }, f, protocol=2)
    report = convert(str(src), str(tmp_path / 'out.pth'), 'torchvision')
    assert all(torch.equal(report.encoder.state_dict[k], v) for k, v in encoder_state(resnet18).items())


def test_erfnet_pytorch_training_checkpoint_converts(tmp_path):
    """erfnet_pytorch's main.py saves {'epoch', 'arch': str(model), 'state_dict', 'best_acc',
    'optimizer'}."""
    net = random_net(20, seed=0)
    opt = torch.optim.Adam(net.parameters(), 5e-4)
    src = tmp_path / 'erfnet.pth'
    torch.save(
        {
            'epoch': 150,
            'arch': str(net),
            'state_dict': net.state_dict(),
            'best_acc': 0.71,
            'optimizer': opt.state_dict()
        }, src)
    lines = convert_erfnet(str(src), str(tmp_path / 'out.pth'), 'mmseg')
    assert lines and (tmp_path / 'out.pth').exists()


def test_official_deeplabv2_init_layout_loads(tmp_path):
    """DeepLab_resnet_pretrained_init: a legacy-format plain state dict, keys ``Scale.*`` (its
    conversion is issue 20; here: the default loader reads the container)."""
    sd = OrderedDict([('Scale.conv1.weight', torch.randn(64, 3, 7, 7)), ('Scale.bn1.running_mean', torch.randn(64)),
                      ('Scale.layer5.conv2d_list.0.bias', torch.randn(21))])
    src = tmp_path / 'DeepLab_resnet_pretrained_init.pth'
    torch.save(sd, src, _use_new_zipfile_serialization=False)
    loaded = load_checkpoint_file(str(src))
    assert list(loaded) == list(sd) and all(torch.equal(loaded[k], v) for k, v in sd.items())


# ---- the explicit opt-in -------------------------------------------------------------------


def test_trust_pickle_loads_a_file_with_a_class_outside_the_allowlist(resnet18, tmp_path):
    src = tmp_path / 'stamped.pth'
    torch.save({'state_dict': dict(resnet18.state_dict()), 'saved_at': datetime.datetime(2024, 5, 1, 12, 0)}, src)
    r = run_tool([CONVERT, str(src), str(tmp_path / 'refused.pth'), '--to', 'mmseg'])
    assert r.returncode == 2 and 'refused to load: its pickle imports datetime.datetime,' in r.stdout
    assert not (tmp_path / 'refused.pth').exists()
    r = run_tool([CONVERT, str(src), str(tmp_path / 'out.pth'), '--to', 'mmseg', '--trust-pickle'])
    assert r.returncode == 0, r.stdout
    assert (f'warning: --trust-pickle: {src} is fully unpickled, so any code it contains runs with your '
            'permissions') in r.stdout
    assert f'wrote {tmp_path / "out.pth"}' in r.stdout
    assert load_checkpoint_file(str(src), trust_pickle=True)['saved_at'].year == 2024


# ---- what segssl writes reads back as data -------------------------------------------------


class _ArraysOnly(pickle.Unpickler):
    """What a detectron2 .pkl written by segssl may import: numpy's array reconstruction and
    OrderedDict, nothing else."""

    def find_class(self, module, name):
        if module.split('.')[0] != 'numpy' and (module, name) != ('collections', 'OrderedDict'):
            raise pickle.UnpicklingError(f'{module}.{name}')
        return super().find_class(module, name)


def test_converted_files_load_with_torch_weights_only(resnet18, tmp_path):
    src = tmp_path / 'pixpro.pth'
    torch.save(real_checkpoint('pixpro', resnet18), src)
    for to in ('mmseg', 'torchvision'):
        convert(str(src), str(tmp_path / f'{to}.pth'), to)
        out = torch.load(tmp_path / f'{to}.pth', weights_only=True)
        sd = out.get('state_dict', out)
        assert all(torch.equal(sd[k], v) for k, v in encoder_state(resnet18).items())
    convert(str(src), str(tmp_path / 'd2.pkl'), 'detectron2')
    with open(tmp_path / 'd2.pkl', 'rb') as f:
        assert len(_ArraysOnly(f).load()['model']) > 0
    erf = tmp_path / 'erfnet.pth'
    torch.save(random_net(20, seed=0).state_dict(), erf)
    for to in ('mmseg', 'erfnet_pytorch'):
        convert_erfnet(str(erf), str(tmp_path / f'erf_{to}.pth'), to)
        assert torch.load(tmp_path / f'erf_{to}.pth', weights_only=True)


def test_segssl_parts_of_training_checkpoints_are_data(tmp_path):
    """RandomStateHook's RNG states and ClassMix's generator state: tensors and numbers."""
    from segssl.mmseg.random_state import RandomStateHook, _numpy_state
    checkpoint = {}
    np.random.seed(3)
    RandomStateHook().before_save_checkpoint(None, checkpoint)
    torch.save(checkpoint['segssl_rng_state'], tmp_path / 'rng.pt')
    state = torch.load(tmp_path / 'rng.pt', weights_only=True)
    np.random.seed(3)
    expected = np.random.get_state()
    restored = _numpy_state(state['numpy'])
    assert restored[0] == expected[0] and np.array_equal(restored[1], expected[1])
    assert restored[1].dtype == np.uint32 and restored[2:] == expected[2:]
    np.random.set_state(restored)
    first = np.random.rand()
    np.random.set_state(expected)
    assert np.random.rand() == first
    generator_state = torch.Generator().manual_seed(0).get_state()  # ClassMix's get_extra_state
    torch.save({'_extra_state': generator_state}, tmp_path / 'extra.pt')
    assert torch.equal(torch.load(tmp_path / 'extra.pt', weights_only=True)['_extra_state'], generator_state)

"""ERFNet: the original erfnet_pytorch layout -> mmseg's ``ERFNet`` naming (canonical), and
the transfer of an encoder from one checkpoint with a decoder from another.

Original layout (Romera et al., erfnet_pytorch ``Net``; keys may start with ``module.``)::

    encoder.initial_block.{conv,bn}.*          DownsamplerBlock(3, 16)
    encoder.layers.N.*   N = 0..13             Downsampler(16,64), 5 x non_bt_1d(64),
                                               Downsampler(64,128), 8 x non_bt_1d(128, dil 2,4,8,16)
    encoder.output_conv.{weight,bias}          Conv2d(128, C, 1): encoder-only classifier (dropped)
    decoder.layers.N.*   N = 0..5              Upsampler(128,64), 2 x non_bt_1d(64),
                                               Upsampler(64,16), 2 x non_bt_1d(16)
    decoder.output_conv.{weight,bias}          ConvTranspose2d(16, C, 2, stride 2): (16, C, 2, 2)

mmseg ``ERFNet`` (defaults) naming, the canonical one here::

    encoder.0.*            <- encoder.initial_block.*
    encoder.{N+1}.*        <- encoder.layers.N.*
    decoder.N.*            <- decoder.layers.N.*
    Down/UpsamplerBlock:   conv.*, bn.*  (same names)
    non_bottleneck_1d:     conv3x1_1 -> convs_layers.0, conv1x3_1 -> convs_layers.2,
                           bn1 -> convs_layers.3, conv3x1_2 -> convs_layers.5,
                           conv1x3_2 -> convs_layers.7, bn2 -> convs_layers.8

mmseg's ERFNet backbone ends at the 16-channel decoder features; the last layer
(``decoder.output_conv``) has no place there: in mmseg the decode head's ``conv_seg`` (built
for the config's ``num_classes``) takes its role. Sources already in mmseg naming (keys
``encoder.0.conv.weight``, optionally under ``backbone.``) are accepted too, and so is
erfnet_pytorch's ImageNet classifier, whose encoder sits under ``features.encoder.`` (its
``features.*`` rest and ``classifier.*`` are dropped). A source without a decoder (an ImageNet or
encoder-only pretext encoder) converts ``--to mmseg`` as an encoder-only file, which
``PretrainedERFNetEncoder`` and mmengine's ``Pretrained`` init (missing decoder keys) load.
"""
import re
from collections import OrderedDict

import torch

from .errors import ConversionError
from .loading import load_checkpoint_file
from .sources import describe_nested, nested_tensors
from .writers import check_output_suffix

NON_BT_NAMES = {
    'conv3x1_1': 'convs_layers.0',
    'conv1x3_1': 'convs_layers.2',
    'bn1': 'convs_layers.3',
    'conv3x1_2': 'convs_layers.5',
    'conv1x3_2': 'convs_layers.7',
    'bn2': 'convs_layers.8'
}
LAST_LAYER = 'output_conv'
ERFNET_TARGETS = ('mmseg', 'erfnet_pytorch')
_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _bn(prefix, c):
    return [(f'{prefix}.{t}', () if t == 'num_batches_tracked' else (c, )) for t in _BN]


def _non_bt(prefix, c):
    out = []
    for idx, k in ((0, (3, 1)), (2, (1, 3)), (5, (3, 1)), (7, (1, 3))):
        out += [(f'{prefix}.convs_layers.{idx}.weight', (c, c) + k), (f'{prefix}.convs_layers.{idx}.bias', (c, ))]
        if idx in (2, 7):
            out += _bn(f'{prefix}.convs_layers.{idx + 1}', c)
    return out


def expected_erfnet_shapes(in_channels=3):
    """``OrderedDict(name -> shape)`` of mmseg's default ``ERFNet`` backbone."""
    shapes, i = [], 0
    for cin, cout, n_bt in ((in_channels, 16, 0), (16, 64, 5), (64, 128, 8)):
        shapes += [(f'encoder.{i}.conv.weight', (cout - cin, cin, 3, 3)),
                   (f'encoder.{i}.conv.bias', (cout - cin, ))] + _bn(f'encoder.{i}.bn', cout)
        i += 1
        for _ in range(n_bt):
            shapes += _non_bt(f'encoder.{i}', cout)
            i += 1
    j = 0
    for cin, cout in ((128, 64), (64, 16)):
        shapes += [(f'decoder.{j}.conv.weight', (cin, cout, 3, 3)),
                   (f'decoder.{j}.conv.bias', (cout, ))] + _bn(f'decoder.{j}.bn', cout)
        j += 1
        for _ in range(2):
            shapes += _non_bt(f'decoder.{j}', cout)
            j += 1
    return OrderedDict(shapes)


def mmseg_erfnet_name(key):
    """mmseg name of an original-layout key (``module.`` removed), ``'output_conv.*'`` for the
    decoder's last layer, or None for the encoder-only classifier."""
    if key.startswith('encoder.output_conv.'):
        return None
    if key.startswith('decoder.output_conv.'):
        return LAST_LAYER + key[len('decoder.output_conv'):]
    m = re.match(r'^encoder\.initial_block\.(.+)$', key)
    if m:
        return 'encoder.0.' + m.group(1)
    m = re.match(r'^(encoder|decoder)\.layers\.(\d+)\.(\w+)\.(\w+)$', key)
    if not m:
        raise KeyError(key)
    part, n, module, tensor = m.groups()
    n = int(n) + (1 if part == 'encoder' else 0)
    return f'{part}.{n}.{NON_BT_NAMES.get(module, module)}.{tensor}'


def original_erfnet_name(key):
    """Inverse of :func:`mmseg_erfnet_name` (for writing the original layout)."""
    if key.startswith(LAST_LAYER + '.'):
        return 'decoder.output_conv' + key[len(LAST_LAYER):]
    part, n, rest = key.split('.', 2)
    inverse = {v: k for k, v in NON_BT_NAMES.items()}
    m = re.match(r'^(convs_layers\.\d+)\.(\w+)$', rest)
    if m:
        rest = f'{inverse[m.group(1)]}.{m.group(2)}'
    if part == 'encoder':
        return ('encoder.initial_block.' if n == '0' else f'encoder.layers.{int(n) - 1}.') + rest
    return f'decoder.layers.{n}.{rest}'


def read_erfnet(path, trust_pickle=False):
    """Read an ERFNet checkpoint into mmseg naming.

    Returns:
        dict: ``{'encoder': OrderedDict, 'decoder': OrderedDict, 'last': OrderedDict,
        'dropped': [keys]}``: ``encoder.*`` / ``decoder.*`` tensors in mmseg naming, the
        decoder's last layer as ``output_conv.{weight,bias}`` (empty if absent).

    Raises:
        ConversionError: unreadable file, or keys of neither ERFNet layout.
    """
    obj = load_checkpoint_file(path, trust_pickle)
    if not isinstance(obj, dict):
        raise ConversionError(f'the file holds a {type(obj).__name__}, not a checkpoint dict', path)
    for wrapper in ('state_dict', 'model', None):
        sd = obj if wrapper is None else obj.get(wrapper)
        if isinstance(sd, dict) and any(isinstance(v, torch.Tensor) for v in sd.values()):
            break
    else:
        found = describe_nested(nested_tensors(obj))
        raise ConversionError((f'found {found}, none of them at the top level or under state_dict/model'
                               if found else 'found no tensors at any depth') +
                              ', where an ERFNet checkpoint (erfnet_pytorch or mmseg ERFNet naming) holds its '
                              'weights', path)
    sd = OrderedDict((k[7:] if k.startswith('module.') else k, v) for k, v in sd.items() if isinstance(v, torch.Tensor))
    if any(k.startswith('backbone.encoder.') for k in sd):  # an mmseg segmentor checkpoint
        sd = OrderedDict((k[9:], v) for k, v in sd.items() if k.startswith('backbone.'))
    if any(k.startswith('features.encoder.') for k in sd):  # erfnet_pytorch's ImageNet model
        dropped = [k for k in sd if not k.startswith('features.encoder.')]
        sd = OrderedDict((k[len('features.'):], v) for k, v in sd.items() if k.startswith('features.encoder.'))
    else:
        dropped = []
    out = {'encoder': OrderedDict(), 'decoder': OrderedDict(), 'last': OrderedDict(), 'dropped': dropped}
    original = any(k.startswith(('encoder.initial_block.', 'encoder.layers.', 'decoder.layers.')) for k in sd)
    if not original and not any(re.match(r'^(encoder|decoder)\.\d+\.', k) for k in sd):
        raise ConversionError(
            'unknown key layout for ERFNet: expected encoder.initial_block.* / '
            'encoder.layers.N.* / decoder.layers.N.* (erfnet_pytorch) or encoder.N.* / '
            f'decoder.N.* (mmseg ERFNet); found {sorted(sd)[:6]}', path)
    for k, v in sd.items():
        try:
            name = mmseg_erfnet_name(k) if original else k
        except KeyError:
            name = None
        if name is None or not name.startswith(('encoder.', 'decoder.', LAST_LAYER + '.')):
            out['dropped'].append(k)
            continue
        out[name.split('.')[0] if not name.startswith(LAST_LAYER) else 'last'][name] = v
    return out


def _check(part, tensors, path):
    expected = OrderedDict((k, s) for k, s in expected_erfnet_shapes().items() if k.startswith(part + '.'))
    filled = {k for k in expected if k.endswith('num_batches_tracked') and k not in tensors}
    missing = [k for k in expected if k not in tensors and k not in filled]
    unexpected = [k for k in tensors if k not in expected]
    wrong = [
        f'{k} {tuple(tensors[k].shape)} (expected {expected[k]})' for k in expected
        if k in tensors and tuple(tensors[k].shape) != expected[k]
    ]
    if not tensors:
        raise ConversionError(f'no ERFNet {part} in this checkpoint (expected {len(expected)} '
                              f'tensors {part}.*)', path)
    if missing or unexpected or wrong:
        raise ConversionError(
            f'the ERFNet {part} does not match mmseg ERFNet defaults: missing {missing[:6]}, '
            f'unexpected {unexpected[:6]}, wrong shape {wrong[:6]}', path)
    return OrderedDict((k, tensors[k] if k in tensors else torch.tensor(0)) for k in expected)


def transfer_erfnet(encoder_path, decoder_path, num_classes, seed=0, trust_pickle=False):
    """Encoder from ``encoder_path``, decoder from ``decoder_path``, new last layer.

    Args:
        encoder_path (str): checkpoint providing ``encoder.*`` (e.g. SSL/ImageNet pretrained).
        decoder_path (str): checkpoint providing ``decoder.*`` (e.g. trained on Cityscapes).
        num_classes (int): classes of the new last layer.
        seed (int): seed of the new last layer's initialisation (PyTorch's default init of
            ``ConvTranspose2d(16, num_classes, 2, stride=2)``).

    Returns:
        tuple: ``(backbone, last)``: mmseg-named ``encoder.*`` + ``decoder.*`` tensors in
        :func:`expected_erfnet_shapes` order, and ``output_conv.{weight (16, C, 2, 2), bias (C,)}``.
    """
    enc = _check('encoder', read_erfnet(encoder_path, trust_pickle)['encoder'], encoder_path)
    dec = _check('decoder', read_erfnet(decoder_path, trust_pickle)['decoder'], decoder_path)
    torch.manual_seed(seed)
    last = torch.nn.ConvTranspose2d(16, int(num_classes), 2, stride=2, padding=0, output_padding=0, bias=True)
    return (OrderedDict(list(enc.items()) + list(dec.items())),
            OrderedDict([(LAST_LAYER + '.weight', last.weight.detach().clone()),
                         (LAST_LAYER + '.bias', last.bias.detach().clone())]))


def write_erfnet_mmseg(backbone, dst, provenance=None):
    """mmengine checkpoint ``{'meta', 'state_dict': backbone}`` for mmseg's ``ERFNet``
    (``init_cfg=dict(type='Pretrained', checkpoint=dst)`` on the backbone)."""
    from segssl.io.atomic import atomic_outputs
    with atomic_outputs(dst) as (tmp, ):
        torch.save(
            {
                'meta': {
                    'segssl_convert': dict(provenance or {}, target='mmseg ERFNet')
                },
                'state_dict': OrderedDict(backbone)
            }, tmp)
    return [dst]


def write_erfnet_original(backbone, last, dst):
    """Plain state dict of erfnet_pytorch's ``Net`` (original names, new ``output_conv``)."""
    from segssl.io.atomic import atomic_outputs
    sd = OrderedDict((original_erfnet_name(k), v) for k, v in list(backbone.items()) + list(last.items()))
    with atomic_outputs(dst) as (tmp, ):
        torch.save(sd, tmp)
    return [dst]


def convert_erfnet(src, dst, to, decoder_src=None, num_classes=None, seed=0, trust_pickle=False):
    """ERFNet conversion behind the CLI: encoder from ``src``, decoder from ``decoder_src``
    (default ``src``), last layer new for ``num_classes`` (default: ``decoder_src``'s own last
    layer kept). ``to``: ``'mmseg'`` (backbone only; the last layer is reported as not
    written) or ``'erfnet_pytorch'``. A ``src`` without a decoder and no ``decoder_src``
    converts ``--to mmseg`` as the encoder alone. Returns report lines.

    Raises:
        ConversionError: bad input, ``to`` not an ERFNet target or a ``dst`` suffix that does not
            fit it (checked first, before any file is read); nothing was written.
    """
    if to not in ERFNET_TARGETS:
        raise ConversionError(f'ERFNet converts --to {" or ".join(ERFNET_TARGETS)}, not {to}', dst)
    check_output_suffix(dst, to, ERFNET_TARGETS)
    if decoder_src is None and to == 'mmseg':
        source = read_erfnet(src, trust_pickle)
        if not source['decoder']:
            enc = _check('encoder', source['encoder'], src)
            outputs = write_erfnet_mmseg(enc, dst, {'encoder': src, 'decoder': None})
            params = sum(v.numel() for k, v in enc.items()
                         if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
            return ([
                f'ERFNet: encoder from {src}; it has no decoder: encoder only (the '
                'config\'s decoder starts from its own init)',
                f'converted {len(enc)} tensors, {params:,} parameters (mmseg ERFNet naming)'
            ] + ([
                f'dropped {len(source["dropped"])} tensors of other parts '
                f'({", ".join(sorted({".".join(k.split(".")[:2]) for k in source["dropped"]}))})'
            ] if source['dropped'] else []) + [f'wrote {p} ({to})' for p in outputs])
    decoder_src = decoder_src or src
    if num_classes is None:
        last = read_erfnet(decoder_src, trust_pickle)['last']
        if not last and to != 'mmseg':
            raise ConversionError(
                'no decoder.output_conv in this checkpoint; give '
                '--num-classes to create the last layer', decoder_src)
        backbone, _ = transfer_erfnet(src, decoder_src, 1, seed, trust_pickle)
    else:
        backbone, last = transfer_erfnet(src, decoder_src, num_classes, seed, trust_pickle)
    if to == 'mmseg':
        outputs = write_erfnet_mmseg(backbone, dst, {'encoder': src, 'decoder': decoder_src})
    else:
        outputs = write_erfnet_original(backbone, last, dst)
    params = sum(v.numel() for k, v in backbone.items()
                 if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    lines = [
        f'ERFNet: encoder from {src}, decoder from {decoder_src}',
        f'converted {len(backbone)} tensors, {params:,} parameters (mmseg ERFNet naming)'
    ]
    if last:
        shape = tuple(last[LAST_LAYER + '.weight'].shape)
        lines.append(('new' if num_classes is not None else 'kept') + f' last layer '
                     f'decoder.output_conv {shape}' + (' (not written: mmseg\'s decode head '
                                                       'conv_seg replaces it)' if to == 'mmseg' else ''))
    return lines + [f'wrote {p} ({to})' for p in outputs]

"""The canonical encoder layout: a torchvision ResNet state dict without ``fc``.

Canonical key layout (torchvision ``resnet{18,34,50,101,152}``; equal to mmseg's/mmpretrain's
``ResNet(style='pytorch')`` naming), shapes for ResNet-50::

    conv1.weight                          (64, 3, 7, 7)    stem conv, stride 2 (+ max-pool)
    bn1.{weight,bias,running_mean,running_var} (64,)   bn1.num_batches_tracked ()
    layer{s}.{b}.conv{k}.weight           k = 1, 2 (BasicBlock) or 1, 2, 3 (Bottleneck)
    layer{s}.{b}.bn{k}.*                  s = 1..4, b = 0..blocks[s]-1
    layer{s}.0.downsample.0.weight        1x1 projection (first block of a stage when needed)
    layer{s}.0.downsample.1.*             its BN

Depths: 18 = BasicBlock [2, 2, 2, 2], 34 = BasicBlock [3, 4, 6, 3], 50 = Bottleneck
[3, 4, 6, 3], 101 = Bottleneck [3, 4, 23, 3], 152 = Bottleneck [3, 8, 36, 3].

Stems: ``'7x7'`` (standard: conv1 7x7 stride 2 then 3x3 max-pool) and ``'3x3'`` (the variant
of the SimCLR report: conv1 3x3 stride 1 and no max-pool; same key names, ``conv1.weight`` is
``(64, 3, 3, 3)``). The stem cannot be told from the weights beyond the kernel size; the
stride/max-pool part is the convention that goes with a 3x3 ``conv1``.
"""
import re
from collections import OrderedDict

import torch

from .errors import ConversionError

BLOCKS_PER_DEPTH = {
    18: ('BasicBlock', (2, 2, 2, 2)),
    34: ('BasicBlock', (3, 4, 6, 3)),
    50: ('Bottleneck', (3, 4, 6, 3)),
    101: ('Bottleneck', (3, 4, 23, 3)),
    152: ('Bottleneck', (3, 8, 36, 3)),
}
STEM_KERNEL = {'7x7': 7, '3x3': 3}
BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
_BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.')


def _bn_shapes(prefix, channels):
    return [(f'{prefix}.{t}', () if t == 'num_batches_tracked' else (channels, )) for t in BN_TENSORS]


def expected_resnet_shapes(depth, stem='7x7', in_channels=3):
    """Return ``OrderedDict(name -> shape)`` of the canonical ResNet-``depth`` encoder.

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        stem (str): ``'7x7'`` or ``'3x3'`` (kernel of ``conv1``).
        in_channels (int): input channels of ``conv1`` (3 for RGB).
    """
    block, counts = BLOCKS_PER_DEPTH[depth]
    k = STEM_KERNEL[stem]
    shapes = [('conv1.weight', (64, in_channels, k, k))] + _bn_shapes('bn1', 64)
    expansion = 4 if block == 'Bottleneck' else 1
    inplanes = 64
    for s, n in enumerate(counts, start=1):
        planes = 64 * 2**(s - 1)
        for b in range(n):
            p = f'layer{s}.{b}'
            if block == 'Bottleneck':
                convs = [(planes, inplanes, 1), (planes, planes, 3), (planes * expansion, planes, 1)]
            else:
                convs = [(planes, inplanes, 3), (planes, planes, 3)]
            for i, (cout, cin, kk) in enumerate(convs, start=1):
                shapes.append((f'{p}.conv{i}.weight', (cout, cin, kk, kk)))
                shapes += _bn_shapes(f'{p}.bn{i}', cout)
            if b == 0 and (s > 1 or inplanes != planes * expansion):
                shapes.append((f'{p}.downsample.0.weight', (planes * expansion, inplanes, 1, 1)))
                shapes += _bn_shapes(f'{p}.downsample.1', planes * expansion)
            inplanes = planes * expansion
    return OrderedDict(shapes)


def infer_resnet_depth(state_dict, path=None):
    """Return ``(depth, block, counts)`` from the block keys of a canonical-named state dict.

    Raises:
        ConversionError: no ``layer1..4`` blocks, or block counts of no known depth.
    """
    counts = [0, 0, 0, 0]
    for key in state_dict:
        m = _BLOCK_KEY.match(key)
        if m:
            s, b = int(m.group(1)), int(m.group(2))
            counts[s - 1] = max(counts[s - 1], b + 1)
    block = 'Bottleneck' if 'layer1.0.conv3.weight' in state_dict else 'BasicBlock'
    if not any(counts):
        raise ConversionError(
            'no ResNet encoder found: no key like layer1.0.conv1.weight among '
            f'{len(state_dict)} encoder tensors (first keys: {sorted(state_dict)[:5]})', path)
    for depth, (blk, cnt) in BLOCKS_PER_DEPTH.items():
        if blk == block and tuple(counts) == cnt:
            return depth, block, tuple(counts)
    raise ConversionError(
        f'unknown ResNet layout: {block} with blocks per stage {counts}; expected one of ' +
        ', '.join(f'ResNet-{d} ({b} {list(c)})' for d, (b, c) in BLOCKS_PER_DEPTH.items()), path)


def infer_stem(state_dict, path=None):
    """Return ``'7x7'`` or ``'3x3'`` from the kernel of ``conv1.weight``."""
    w = state_dict.get('conv1.weight')
    if w is None:
        raise ConversionError('no ResNet stem: key conv1.weight is missing from the encoder', path)
    for stem, k in STEM_KERNEL.items():
        if tuple(w.shape[2:]) == (k, k):
            return stem
    raise ConversionError(
        f'conv1.weight has shape {tuple(w.shape)}; expected a 7x7 or 3x3 '
        'kernel (64, 3, 7, 7) / (64, 3, 3, 3)', path)


def _describe(depth, block, counts):
    return f'ResNet-{depth} ({block}, blocks {list(counts)})'


def canonical_resnet(state_dict, expected_depth=None, path=None):
    """Check a torchvision-named encoder and return it in canonical order.

    Args:
        state_dict (dict[str, Tensor]): encoder tensors in torchvision naming (no ``fc``).
        expected_depth (int | None): if given, the detected depth must equal it.
        path (str | None): file name for error messages.

    Returns:
        tuple: ``(OrderedDict canonical, depth, stem, filled)``; ``filled`` lists the
        ``num_batches_tracked`` buffers that were absent and set to 0.

    Raises:
        ConversionError: depth mismatch, missing or unexpected keys, or wrong shapes; the
            message lists (up to 8 of) each.
    """
    depth, block, counts = infer_resnet_depth(state_dict, path)
    if expected_depth is not None and int(expected_depth) != depth:
        raise ConversionError(
            f'depth mismatch: found {_describe(depth, block, counts)}; expected '
            f'ResNet-{expected_depth} ({_describe(expected_depth, *BLOCKS_PER_DEPTH[expected_depth])})'
            if expected_depth in BLOCKS_PER_DEPTH else
            f'depth mismatch: found {_describe(depth, block, counts)}; expected ResNet-'
            f'{expected_depth}, which is not one of {sorted(BLOCKS_PER_DEPTH)}', path)
    stem = infer_stem(state_dict, path)
    in_channels = state_dict['conv1.weight'].shape[1]
    expected = expected_resnet_shapes(depth, stem, in_channels)
    filled = [k for k in expected if k.endswith('num_batches_tracked') and k not in state_dict]
    missing = [k for k in expected if k not in state_dict and k not in filled]
    unexpected = [k for k in state_dict if k not in expected]
    wrong = [
        f'{k} {tuple(state_dict[k].shape)} (expected {expected[k]})' for k in expected
        if k in state_dict and tuple(state_dict[k].shape) != expected[k]
    ]
    problems = []
    for what, items in (('missing', missing), ('unexpected', unexpected), ('wrong shape', wrong)):
        if items:
            more = f' ... and {len(items) - 8} more' if len(items) > 8 else ''
            problems.append(f'{len(items)} {what}: {", ".join(items[:8])}{more}')
    if problems:
        raise ConversionError(
            f'the encoder does not match the {stem}-stem {_describe(depth, block, counts)} '
            'layout (torchvision naming): ' + '; '.join(problems), path)
    out = OrderedDict()
    for k in expected:
        out[k] = (state_dict[k] if k in state_dict else torch.tensor(0, dtype=torch.long))
    return out, depth, stem, filled


def count_parameters(state_dict):
    """Return ``(learnable_numel, buffer_numel)`` of a canonical ResNet state dict."""
    buffers = ('running_mean', 'running_var', 'num_batches_tracked')
    params = sum(v.numel() for k, v in state_dict.items() if not k.endswith(buffers))
    bufs = sum(v.numel() for k, v in state_dict.items() if k.endswith(buffers))
    return params, bufs


class CanonicalResNet:
    """A checked canonical encoder: what every writer takes.

    Attributes:
        state_dict (OrderedDict[str, Tensor]): canonical keys (see the module docstring),
            in :func:`expected_resnet_shapes` order.
        depth (int): 18, 34, 50, 101 or 152.
        stem (str): ``'7x7'`` or ``'3x3'``.
        provenance (dict): where it came from (``source``, ``format``), stored in outputs.
        style (str): ``'pytorch'`` (torchvision: a block's stride in its 3x3 conv) or
            ``'caffe'`` (the stride in its first 1x1 conv, as in the DeepLab-v2 init). The
            weights have the same names and shapes either way; the style is where they came
            from, and a caffe-style encoder is written only for mmseg's ``style='caffe'``.
    """

    def __init__(self, state_dict, depth, stem, provenance=None, style='pytorch'):
        self.state_dict = state_dict
        self.depth = depth
        self.stem = stem
        self.provenance = dict(provenance or {})
        self.style = style

    @classmethod
    def from_state_dict(cls, state_dict, expected_depth=None, path=None, provenance=None, style='pytorch'):
        """Check ``state_dict`` (torchvision naming) with :func:`canonical_resnet`."""
        sd, depth, stem, filled = canonical_resnet(state_dict, expected_depth, path)
        prov = dict(provenance or {})
        prov['filled_num_batches_tracked'] = len(filled)
        return cls(sd, depth, stem, prov, style)

"""Readers: find the online encoder in each SSL checkpoint format, in torchvision naming.

A checkpoint is a dict; its weights sit at the top level or under a *wrapper* key. Keys of
``torch.nn.DataParallel`` models start with ``module.``; that prefix is removed first. The
formats (``--from NAME``), with the wrapper(s), the online encoder's prefix (kept) and the
target/momentum encoder's prefix (dropped, never converted):

===========  =================================  ============================  =================
name         wrapper                            online encoder (kept)         target (dropped)
===========  =================================  ============================  =================
segssl       ``state_dict`` (mmengine: + meta)  ``online_backbone.``          ``target_backbone.``
pixpro       ``model`` or ``state_dict``        ``module.encoder.``           ``module.encoder_k.``
moco         ``state_dict`` (v1/v2)             ``module.encoder_q.`` (-fc.)  ``module.encoder_k.``
byol         ``state_dict`` (Lightning)         ``online_network.encoder.``   ``target_network.``
byol         ``online_network_state_dict``      ``encoder.N.`` (Sequential)   ``target_network_state_dict``
mmpretrain   ``state_dict`` (mmpretrain /       ``backbone.``                 neck., head.,
             mmselfsup)                                                       momentum/target nets
torchvision  none, ``state_dict`` or ``model``  (root) ``conv1.weight`` ...   ``fc.`` (head)
deeplabv2    none or ``state_dict``             ``Scale.`` (or the root)      none
===========  =================================  ============================  =================

``deeplabv2`` is the official DeepLab-v2 initialisation of the ClassMix/DACS report's reference
code (``DeepLab_resnet_pretrained_init-f81d91e8.pth``: ImageNet + MSCOCO): a caffe-style
ResNet-101 (the stride in each block's first 1x1 conv) under ``Scale.`` with torchvision's names,
plus its classifier ``layer5.conv2d_list.{0..3}.{weight,bias}`` (four dilated 3x3 convs). The
encoder is read like the others; the classifier is kept in :attr:`EncoderSource.classifier`,
and the result carries ``style='caffe'`` (:data:`CAFFE_FORMATS`).

segssl's own convention (an mmengine checkpoint ``{'meta': ..., 'state_dict': ...}`` of an
SSL model): the online encoder is stored under ``online_backbone.`` and the target/momentum
encoder under ``target_backbone.``, both in mmseg ``ResNet(style='pytorch')`` naming (which is
torchvision's); projector/predictor/propagation heads sit under other prefixes.

Inside the online encoder the ResNet is found either with torchvision names at its root
(``conv1.weight``, ``layer1.0.conv1.weight``) or under ``encoder.``/``backbone.``; an
``nn.Sequential(*list(resnet.children())[:-2 or -1])`` body (``encoder.0.weight``) is mapped by
index: 0 conv1, 1 bn1, (2 relu, 3 max-pool: no weights), 4..7 layer1..layer4.

Not converted, each with its own one-line error naming what was found: a deep-stem ResNet
(mmseg/mmpretrain ``ResNetV1c``/``ResNetV1d``: three 3x3 convs ``stem.{0,3,6}.weight``; timm's
``resnet*d``: ``conv1.{0,3,6}.weight``), whose stem has no place in a ResNet with one ``conv1``;
and weights stored under a key none of the formats reads (e.g. ``{'net': state_dict}``): the
error counts the tensors nested there, at any depth, and shows some of their keys.
"""
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import ConversionError
from .loading import load_checkpoint_file

WRAPPERS = ('state_dict', 'model', 'online_network_state_dict')
DEEPLABV2_CLASSIFIER = 'layer5.conv2d_list.'
CAFFE_FORMATS = ('deeplabv2', )  # formats whose ResNet strides in the 1x1 conv
SEQUENTIAL_INDEX = {'0': 'conv1', '1': 'bn1', '4': 'layer1', '5': 'layer2', '6': 'layer3', '7': 'layer4'}
RESNET_ROOTS = ('conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.', 'layer4.')
DEEP_STEMS = ('stem.', 'conv1.')  # ResNetV1c/V1d (mmseg, mmpretrain), timm resnet*d: <stem>0.weight
MAX_NESTING = 16  # how deep nested containers are searched for tensors


@dataclass(frozen=True)
class SourceFormat:
    """One checkpoint format: where its online and target encoders live."""
    name: str
    wrappers: tuple  # wrapper keys to look in, in order; None = the top level
    online: str  # prefix of the online encoder (after removing 'module.')
    targets: tuple  # prefixes of target/momentum encoders (dropped)
    signature: tuple  # detection: any of these prefixes present (under a wrapper)
    excludes: tuple = ()  # detection: none of these prefixes present


FORMATS = OrderedDict((f.name, f) for f in [
    SourceFormat('segssl', ('state_dict', ), 'online_backbone.', ('target_backbone.', ), ('online_backbone.',
                                                                                          'target_backbone.')),
    SourceFormat('pixpro', ('model',
                            'state_dict'), 'encoder.', ('encoder_k.', ), ('encoder_k.', ), excludes=('encoder_q.', )),
    SourceFormat('moco', ('state_dict', ), 'encoder_q.', ('encoder_k.', ), ('encoder_q.',
                                                                            'encoder_k.'), excludes=('encoder.', )),
    SourceFormat('byol', ('state_dict',
                          'online_network_state_dict'), 'online_network.', ('target_network.', ), ('online_network.',
                                                                                                   'target_network.')),
    SourceFormat('mmpretrain', ('state_dict', ), 'backbone.', ('momentum_encoder.', 'target_net.', 'teacher.',
                                                               'ema_'), ('backbone.', ), excludes=('online_backbone.',
                                                                                                   'target_backbone.')),
    SourceFormat(
        'torchvision', (None, 'state_dict', 'model'), '', (), ('conv1.weight', 'layer1.0.conv1.weight'), excludes=(
            'online_backbone.', 'backbone.', 'encoder_q.', 'encoder_k.', 'online_network.', DEEPLABV2_CLASSIFIER)),
    SourceFormat('deeplabv2', (None, 'state_dict'), 'Scale.', (), ('Scale.conv1.weight', DEEPLABV2_CLASSIFIER,
                                                                   'Scale.' + DEEPLABV2_CLASSIFIER)),
])


@dataclass
class EncoderSource:
    """What a reader found: the online encoder in torchvision naming, and what it dropped.

    Attributes:
        path (str): the checkpoint file.
        format (str): a key of :data:`FORMATS`.
        wrapper (str | None): the top-level key that held the weights.
        encoder (OrderedDict[str, Tensor]): online encoder, torchvision naming, no ``fc``.
        dropped (list[tuple[str, int, str]]): ``(prefix, tensor count, why)`` per group.
        other_entries (list[str]): top-level keys that are not weights (optimizer, meta ...).
        classifier (OrderedDict[str, Tensor]): ``deeplabv2`` only: the classifier branches,
            ``{i}.weight`` / ``{i}.bias`` for ``i`` in 0..3 (empty for every other format).
        style (str): ``'pytorch'`` (stride in the 3x3 conv) or ``'caffe'`` (in the 1x1 conv).
    """
    path: str
    format: str
    wrapper: object
    encoder: OrderedDict
    dropped: list = field(default_factory=list)
    other_entries: list = field(default_factory=list)
    classifier: OrderedDict = field(default_factory=OrderedDict)
    style: str = 'pytorch'


def _as_tensor(value):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return value


def _weights(mapping):
    """Tensor entries of ``mapping`` with a leading ``module.`` removed."""
    out = OrderedDict()
    for k, v in mapping.items():
        v = _as_tensor(v)
        if isinstance(k, str) and isinstance(v, torch.Tensor):
            out[k[len('module.'):] if k.startswith('module.') else k] = v
    return out


def _views(obj):
    """``{wrapper: weights}`` for the top level (None) and every wrapper holding tensors."""
    views = OrderedDict()
    top = _weights(obj)
    if top:
        views[None] = top
    for w in WRAPPERS:
        if isinstance(obj.get(w), dict):
            weights = _weights(obj[w])
            if weights:
                views[w] = weights
    return views


def _has_prefix(keys, prefixes):
    return any(k == p or k.startswith(p) for k in keys for p in prefixes)


def _matches(fmt, wrapper, keys):
    if wrapper not in fmt.wrappers:
        return False
    if fmt.name == 'byol' and wrapper == 'online_network_state_dict':
        return True
    return _has_prefix(keys, fmt.signature) and not _has_prefix(keys, fmt.excludes)


def _prefix_summary(keys, depth=1, limit=12):
    counts = Counter('.'.join(k.split('.')[:depth]) + ('.' if k.count('.') >= depth else '') for k in keys)
    items = [f'{p} ({n})' for p, n in counts.most_common(limit)]
    return ', '.join(items) + (f', ... {len(counts) - limit} more' if len(counts) > limit else '')


def _group(keys, why, online=''):
    """``[(prefix, count, why)]``: keys grouped by their first name (after ``online``)."""

    def name(k):
        base = online if online and k.startswith(online) else ''
        first, dot, _ = k[len(base):].partition('.')
        return base + first + dot

    counts = Counter(name(k) for k in keys)
    return [(p, n, why) for p, n in sorted(counts.items())]


def _supported_formats():
    return ', '.join(FORMATS)


def _check_not_deep_stem(sub, root, path, where):
    """Refuse a deep-stem ResNet (three 3x3 convs where a ResNet has one ``conv1``)."""
    if root + 'conv1.weight' in sub:
        return
    for stem in DEEP_STEMS:
        if root + stem + '0.weight' not in sub:
            continue
        convs = [
            f'{k[len(root):]} {tuple(v.shape)}' for k, v in sub.items()
            if k.startswith(root + stem) and k.endswith('.weight') and v.dim() == 4
        ]
        raise ConversionError(
            'deep-stem (ResNetV1c) checkpoints are not supported: '
            f'{where}{f", under {root!r}" if root else ""} has a stem of {len(convs)} convs '
            f'({", ".join(convs)}) where a ResNet has one conv1.weight; this tool converts '
            'ResNet-18/34/50/101/152 with one conv1 (7x7 stride 2, or 3x3 stride 1) in the '
            f'formats {_supported_formats()}', path)


def _find_resnet_body(sub, path, where):
    """Return ``(body in torchvision naming, its root prefix, keys used)`` inside ``sub``."""
    for root in ('', 'encoder.', 'backbone.', 'net.', 'model.'):
        _check_not_deep_stem(sub, root, path, where)
        if root + 'conv1.weight' in sub or root + 'layer1.0.conv1.weight' in sub:
            body = OrderedDict((k[len(root):], v) for k, v in sub.items()
                               if k.startswith(root) and k[len(root):].startswith(RESNET_ROOTS))
            return body, root, {root + k for k in body}
        if root + '4.0.conv1.weight' in sub:
            body, used = OrderedDict(), set()
            for k, v in sub.items():
                if not k.startswith(root):
                    continue
                idx, _, rest = k[len(root):].partition('.')
                if idx in SEQUENTIAL_INDEX and rest:
                    body[f'{SEQUENTIAL_INDEX[idx]}.{rest}'] = v
                    used.add(k)
            return body, root, used
    raise ConversionError(
        f'no encoder: {where} holds no ResNet (expected conv1.weight and '
        'layer1.0.conv1.weight, optionally under encoder./backbone., or an nn.Sequential body '
        f'with 0.weight and 4.0.conv1.weight); found {len(sub)} tensors: '
        f'{_prefix_summary(sub, depth=2) or "none"}', path)


def _nested_tensor_keys(obj, path=(), depth=0, seen=None):
    """Key paths (tuples of str) of every tensor or array in ``obj``, at any depth."""
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        yield path
        return
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return
    seen = set() if seen is None else seen
    if depth >= MAX_NESTING or id(obj) in seen:
        return
    seen.add(id(obj))
    for k, v in items:
        yield from _nested_tensor_keys(v, path + (str(k), ), depth + 1, seen)


def nested_tensors(obj, skip=()):
    """``OrderedDict(top-level key -> [key paths below it])`` of the tensors (and numpy arrays)
    nested at any depth under the top-level keys of the dict ``obj`` (``skip``: keys left out).
    A tensor at the top level itself is not nested and not listed."""
    groups = OrderedDict()
    for keys in _nested_tensor_keys(obj):
        if len(keys) >= 2 and keys[0] not in skip:
            groups.setdefault(keys[0], []).append('.'.join(keys[1:]))
    return groups


def describe_nested(groups, examples=3):
    """``"32 tensors under 'net' (keys like features.0.weight, ...)"`` for each group."""
    return ', '.join(f'{len(keys)} tensor{"s" if len(keys) != 1 else ""} under {top!r} '
                     f'(keys like {", ".join(keys[:examples])})' for top, keys in groups.items())


def _holds_resnet(keys):
    return any(k == 'layer1.0.conv1.weight' or k.endswith('.layer1.0.conv1.weight') for k in keys)


def _nothing_readable(obj, path):
    """The error for a checkpoint with no tensor at the top level or under a known wrapper."""
    readable = ('the top level or under ' + ', '.join(repr(w) for w in WRAPPERS[:-1]) + f' or {WRAPPERS[-1]!r}')
    groups = nested_tensors(obj)
    if not groups:
        return ConversionError(
            f'found no tensors at any depth (top-level keys: '
            f'{", ".join(map(repr, list(obj)[:8])) or "none"}); expected a ResNet state dict at '
            f'{readable}', path)
    resnets = [top for top, keys in groups.items() if _holds_resnet(keys)]
    if resnets:
        return ConversionError(
            f'found {describe_nested(groups)}: a ResNet under {resnets[0]!r}, a key this tool '
            f'does not read; expected the weights at {readable} (re-save the state dict, e.g. '
            f'torch.save(ckpt[{resnets[0]!r}], FILE))', path)
    return ConversionError(
        f'found {describe_nested(groups)}, none of them a ResNet/ERFNet layout this tool '
        f'converts; expected a ResNet state dict at {readable}, in one of the formats '
        f'{_supported_formats()}', path)


def _choose(views, fmt_name, path, obj):
    if not views:
        raise _nothing_readable(obj, path)
    if fmt_name is not None:
        if fmt_name not in FORMATS:
            raise ConversionError(f'unknown format --from {fmt_name!r}; expected one of '
                                  f'{list(FORMATS)}', path)
        fmt = FORMATS[fmt_name]
        for w in fmt.wrappers:
            if w in views:
                return fmt, w
        raise ConversionError(
            f'format {fmt_name} expects its weights under '
            f'{[w or "(top level)" for w in fmt.wrappers]}; found weights under '
            f'{[w or "(top level)" for w in views]}', path)
    found = OrderedDict()
    for w, weights in views.items():
        for fmt in FORMATS.values():
            if fmt.name not in found and _matches(fmt, w, weights):
                found[fmt.name] = (fmt, w)
    if len(found) == 1:
        return next(iter(found.values()))
    layout = '; '.join(f'{w or "top level"}: {_prefix_summary(v)}' for w, v in views.items())
    if not found:
        elsewhere = describe_nested(nested_tensors(obj, skip=[w for w in views if w]))
        raise ConversionError(
            f'unknown key layout: no known SSL checkpoint format matches (found {layout}' +
            (f'; and {elsewhere}' if elsewhere else '') + '); expected one of ' +
            ', '.join(f'{f.name} ({f.online or "conv1.weight at the root"})'
                      for f in FORMATS.values()) + '. Name the format with --from FORMAT if it is one of these', path)
    raise ConversionError(
        f'ambiguous key layout: it matches formats {list(found)} (found {layout}); '
        'name the format with --from FORMAT', path)


def read_encoder(path, fmt=None, trust_pickle=False):
    """Read ``path`` and return the online encoder as an :class:`EncoderSource`.

    Args:
        path (str): checkpoint file.
        fmt (str | None): a name of :data:`FORMATS`, or None to detect it from the keys.
        trust_pickle (bool): unpickle everything (see :func:`.loading.load_checkpoint_file`).

    Raises:
        ConversionError: unreadable file, unknown or ambiguous layout, or no online encoder.
    """
    obj = load_checkpoint_file(path, trust_pickle)
    if not isinstance(obj, dict):
        raise ConversionError(
            f'the file holds a {type(obj).__name__}, not a checkpoint dict '
            '(expected a state dict or {"state_dict": ...})', path)
    views = _views(obj)
    fmt_obj, wrapper = _choose(views, fmt, path, obj)
    weights = views[wrapper]
    where = f'format {fmt_obj.name}, {wrapper or "top level"}'
    online = fmt_obj.online
    if fmt_obj.name == 'byol' and wrapper == 'online_network_state_dict':
        online = ''  # this wrapper holds the online network itself
    if fmt_obj.name == 'deeplabv2' and not _has_prefix(weights, (online, )):
        online = ''  # the same network saved without the Scale. wrapper
    target_keys = [k for k in weights if online and not k.startswith(online) and _has_prefix([k], fmt_obj.targets)]
    sub = OrderedDict((k[len(online):], v) for k, v in weights.items() if k.startswith(online))
    if not sub:
        raise ConversionError(
            f'no online encoder: {where} has no key starting with {online!r}; found '
            f'{_prefix_summary(weights)}' + (' (a target network is never converted)' if target_keys else ''), path)
    body, _, used = _find_resnet_body(sub, path, where + (f', prefix {online!r}' if online else ''))
    used = {online + k for k in used}
    classifier = OrderedDict()
    if fmt_obj.name == 'deeplabv2':
        head = online + DEEPLABV2_CLASSIFIER
        classifier = OrderedDict((k[len(head):], v) for k, v in weights.items() if k.startswith(head))
        used |= {head + k for k in classifier}
    skip = used | set(target_keys)
    rest = [k for k in weights if k not in skip]
    dropped = _group(target_keys, 'target network', online) + _group(rest, 'head or other', online)
    other = [k for k in obj if k != wrapper and not (wrapper is None and isinstance(_as_tensor(obj[k]), torch.Tensor))]
    for k in other:
        if k == 'target_network_state_dict' and isinstance(obj[k], dict):
            dropped.append((k, len(_weights(obj[k])), 'target network'))
    return EncoderSource(path=path, format=fmt_obj.name, wrapper=wrapper, encoder=body, dropped=dropped,
                         other_entries=[str(k) for k in other], classifier=classifier,
                         style='caffe' if fmt_obj.name in CAFFE_FORMATS else 'pytorch')

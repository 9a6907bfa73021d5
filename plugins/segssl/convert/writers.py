"""Writers: a :class:`~.resnet_layout.CanonicalResNet` into each framework's checkpoint file.

Every writer writes to a temporary file beside the destination and renames it into place
(:mod:`.atomic`); on any error the destination is untouched and no temporary file remains.

Outputs:

* torchvision: ``torch.save`` of the plain canonical state dict (``OrderedDict``, no ``fc``):
  ``torchvision.models.resnet50()`` loads it with ``strict=False`` (only ``fc.*`` missing).
* mmseg: mmengine checkpoint ``{'meta': {'segssl_convert': {...}}, 'state_dict': canonical}``
  for mmseg's ``ResNet(depth, style='pytorch')`` (its names equal torchvision's); use it as
  ``backbone=dict(..., init_cfg=dict(type='Pretrained', checkpoint=PATH))``. A 3x3-stem encoder
  (the SimCLR report) is written the same way, for segssl's ``ResNet3x3Stem`` backbone (an mmseg ResNet
  with conv1 3x3 stride 1 and no max-pool; same names); ``meta`` records the stem and the type.
  A caffe-style encoder (the official DeepLab-v2 init) is written for segssl's
  ``DeepLabV2ResNet(style='caffe')``; its classifier, when kept, is added as
  ``decode_head.aspp.{i}.*`` (:mod:`.deeplabv2`).
* detectron2: a pickle ``{'model': {prefix + detectron2 name: float ndarray}, '__author__':
  'segssl', 'matching_heuristics': False}`` with detectron2's own names
  (:mod:`.detectron2_names`), so that ``DetectionCheckpointer`` loads it by exact names; the
  default prefix ``backbone.bottom_up.`` is Mask R-CNN FPN's. Beside it, ``<name>.yaml`` with
  the config values the weights need (merge it with ``cfg.merge_from_file``).

Output names (:data:`OUTPUT_SUFFIXES`, checked by :func:`check_output_suffix` before anything is
read): ``.pth`` or ``.pt`` for the ``torch.save`` targets (mmseg, torchvision, ERFNet's
erfnet_pytorch), ``.pkl`` for detectron2: ``DetectionCheckpointer`` unpickles a file as a
detectron2 model-zoo pickle only when its name ends in ``.pkl`` (any other name goes to
``torch.load``).
"""
import os
import pickle
from collections import OrderedDict

import torch

from segssl.io.atomic import atomic_outputs

from .detectron2_names import detectron2_name
from .errors import ConversionError

DETECTRON2_PREFIX = 'backbone.bottom_up.'
PIXEL_MEAN = (123.675, 116.28, 103.53)  # RGB, 0-255: torchvision's ImageNet mean * 255
PIXEL_STD = (58.395, 57.12, 57.375)  # torchvision's ImageNet std * 255
TORCH_SAVE_SUFFIXES = ('.pth', '.pt')
OUTPUT_SUFFIXES = {
    'mmseg': TORCH_SAVE_SUFFIXES,
    'torchvision': TORCH_SAVE_SUFFIXES,
    'detectron2': ('.pkl', ),
    'erfnet_pytorch': TORCH_SAVE_SUFFIXES
}
OUTPUT_KINDS = {
    'mmseg': 'an mmengine checkpoint (torch.save)',
    'torchvision': 'a torch.save state dict',
    'detectron2': 'a detectron2 model-zoo pickle (DetectionCheckpointer unpickles '
    'only a .pkl file)',
    'erfnet_pytorch': 'a torch.save state dict'
}


def check_output_suffix(dst, to, targets=None):
    """Refuse a destination whose suffix is not one :data:`OUTPUT_SUFFIXES` gives ``to``.

    Args:
        dst (str): the destination file.
        to (str): the target (a key of :data:`OUTPUT_SUFFIXES`).
        targets (tuple[str] | None): the targets of this architecture, named in the message
            when one of them takes the refused suffix (default: the ResNet targets,
            :data:`WRITERS`).

    Raises:
        ConversionError: naming ``dst``, its suffix and the expected ones.
    """
    suffix = os.path.splitext(dst)[1]
    expected = OUTPUT_SUFFIXES[to]
    if suffix in expected:
        return
    takers = [
        t for t in (WRITERS if targets is None else targets) if t != to and suffix and suffix in OUTPUT_SUFFIXES[t]
    ]
    raise ConversionError(
        (f'output suffix {suffix}' if suffix else 'an output name without a suffix') +
        f' does not fit --to {to}, which writes {OUTPUT_KINDS[to]}: expected ' + ' or '.join(expected) +
        (f' ({suffix} is for --to {" or ".join(takers)})' if takers else '') + '; nothing was written', dst)


def _require_standard_stem(encoder, target, dst):
    if encoder.stem != '7x7':
        raise ConversionError(
            f'cannot write a {target} checkpoint: the encoder has a {encoder.stem} stem '
            f'(conv1.weight {tuple(encoder.state_dict["conv1.weight"].shape)}, stride 1, no '
            f'max-pool), but {target}\'s ResNet has a 7x7 stride-2 stem with max-pool '
            '(conv1.weight (64, 3, 7, 7)); write --to mmseg (segssl\'s ResNet3x3Stem backbone) '
            'or --to torchvision instead', dst)


def _require_pytorch_style(encoder, target, dst):
    if encoder.style != 'pytorch':
        raise ConversionError(
            f'cannot write a {target} checkpoint: the encoder is a {encoder.style}-style ResNet '
            '(the official DeepLab-v2 init: stride in the 1x1 convs, BGR 0-255 input), which '
            f'{target}\'s ResNet does not compute; write --to mmseg (segssl\'s DeepLabV2ResNet, '
            "configs/_base_/models/deeplabv2-caffe_r101-d8.py)", dst)


def write_torchvision(encoder, dst):
    """Write the canonical state dict to ``dst`` with ``torch.save``; return ``[dst]``."""
    _require_pytorch_style(encoder, 'torchvision', dst)
    with atomic_outputs(dst) as (tmp, ):
        torch.save(OrderedDict(encoder.state_dict), tmp)
    return [dst]


def write_mmseg(encoder, dst, head=None):
    """Write an mmengine checkpoint for mmseg's ``ResNet(style='pytorch')``; return ``[dst]``.

    A 3x3-stem encoder is written for ``ResNet3x3Stem(depth, style='pytorch')`` (segssl.mmseg),
    whose parameter names equal mmseg's ResNet's; a caffe-style one for ``DeepLabV2ResNet``.

    Args:
        head (dict[str, Tensor] | None): ``decode_head.*`` tensors stored beside the backbone.
    """
    if encoder.style == 'caffe':
        backbone = 'DeepLabV2ResNet'
    else:
        backbone = 'ResNet' if encoder.stem == '7x7' else 'ResNet3x3Stem'
    meta = {
        'segssl_convert': dict(encoder.provenance, depth=encoder.depth, stem=encoder.stem, style=encoder.style,
                               backbone_type=backbone, decode_head_tensors=len(head or {}),
                               target=f'mmseg {backbone}(style="{encoder.style}")')
    }
    state = OrderedDict(encoder.state_dict)
    state.update(head or {})
    with atomic_outputs(dst) as (tmp, ):
        torch.save({'meta': meta, 'state_dict': state}, tmp)
    return [dst]


def detectron2_yaml_text(encoder, weights_path):
    """The detectron2 config values the converted weights need, as YAML text."""
    res2_out = 64 if encoder.depth in (18, 34) else 256
    return '\n'.join([
        f'# written by segssl convert: ResNet-{encoder.depth} from '
        f'{encoder.provenance.get("source", "?")} (format {encoder.provenance.get("format", "?")})',
        '# merge into a Mask R-CNN / FPN config: cfg.merge_from_file(this file)', 'MODEL:',
        f'  WEIGHTS: "{os.path.abspath(weights_path)}"', f'  PIXEL_MEAN: [{", ".join(map(str, PIXEL_MEAN))}]',
        f'  PIXEL_STD: [{", ".join(map(str, PIXEL_STD))}]', '  RESNETS:', f'    DEPTH: {encoder.depth}',
        '    STRIDE_IN_1X1: False', f'    RES2_OUT_CHANNELS: {res2_out}', 'INPUT:', '  FORMAT: "RGB"', ''
    ])


def detectron2_state(encoder, prefix=DETECTRON2_PREFIX):
    """``OrderedDict(prefix + detectron2 name -> float ndarray)``; num_batches_tracked dropped."""
    model = OrderedDict()
    for name, tensor in encoder.state_dict.items():
        d2 = detectron2_name(name)
        if d2 is not None:
            model[prefix + d2] = tensor.detach().cpu().numpy()
    return model


def write_detectron2(encoder, dst, prefix=DETECTRON2_PREFIX, yaml_path=None):
    """Write detectron2's ``.pkl`` and its ``.yaml`` beside it; return both paths.

    Args:
        encoder (CanonicalResNet): a 7x7-stem encoder.
        dst (str): the ``.pkl`` path.
        prefix (str): prepended to every detectron2 key ('' for a bare ``ResNet`` backbone).
        yaml_path (str | None): default: ``dst`` with its extension replaced by ``.yaml``.
    """
    _require_standard_stem(encoder, 'detectron2', dst)
    _require_pytorch_style(encoder, 'detectron2', dst)
    if yaml_path is None:
        yaml_path = os.path.splitext(dst)[0] + '.yaml'
    data = {'model': detectron2_state(encoder, prefix), '__author__': 'segssl', 'matching_heuristics': False}
    with atomic_outputs(dst, yaml_path) as (tmp_pkl, tmp_yaml):
        with open(tmp_pkl, 'wb') as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp_yaml, 'w') as f:
            f.write(detectron2_yaml_text(encoder, dst))
    return [dst, yaml_path]


WRITERS = {'mmseg': write_mmseg, 'detectron2': write_detectron2, 'torchvision': write_torchvision}

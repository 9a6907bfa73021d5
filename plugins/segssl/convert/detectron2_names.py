"""Key names of detectron2's ResNet (``detectron2.modeling.backbone.resnet``) from torchvision's.

detectron2 names (for ``build_resnet_backbone``; Mask R-CNN FPN puts the ResNet under
``backbone.bottom_up.``), with every BN folded into its conv as ``<conv>.norm``::

    torchvision                         detectron2
    conv1.weight                        stem.conv1.weight
    bn1.{weight,bias,running_mean,running_var}   stem.conv1.norm.*
    layer{s}.{b}.conv{k}.weight         res{s+1}.{b}.conv{k}.weight
    layer{s}.{b}.bn{k}.*                res{s+1}.{b}.conv{k}.norm.*
    layer{s}.{b}.downsample.0.weight    res{s+1}.{b}.shortcut.weight
    layer{s}.{b}.downsample.1.*         res{s+1}.{b}.shortcut.norm.*
    *.num_batches_tracked               (not written: FrozenBN has none, BN fills it)

The weights are the same tensors: with ``STRIDE_IN_1X1=False`` detectron2's bottleneck puts
the stride in the 3x3 conv like torchvision, and its BN eps (1e-5) equals torchvision's.
"""
import re

_BLOCK = re.compile(r'^layer([1-4])\.(\d+)\.(conv[1-3]|bn[1-3]|downsample\.[01])\.(\w+)$')
_STEM = re.compile(r'^(conv1|bn1)\.(\w+)$')


def detectron2_name(name):
    """Return detectron2's key for torchvision key ``name``, or None for num_batches_tracked.

    Raises:
        KeyError: ``name`` is not a canonical ResNet key.
    """
    if name.endswith('num_batches_tracked'):
        return None
    m = _STEM.match(name)
    if m:
        module, tensor = m.groups()
        return 'stem.conv1.' + (tensor if module == 'conv1' else 'norm.' + tensor)
    m = _BLOCK.match(name)
    if not m:
        raise KeyError(f'not a canonical ResNet key: {name!r}')
    stage, block, module, tensor = m.groups()
    head = f'res{int(stage) + 1}.{block}.'
    if module.startswith('conv'):
        return head + f'{module}.{tensor}'
    if module.startswith('bn'):
        return head + f'conv{module[2]}.norm.{tensor}'
    if module == 'downsample.0':
        return head + f'shortcut.{tensor}'
    return head + f'shortcut.norm.{tensor}'


def torchvision_name(name):
    """Inverse of :func:`detectron2_name` (without any model prefix)."""
    m = re.match(r'^stem\.conv1\.(norm\.)?(\w+)$', name)
    if m:
        return ('bn1.' if m.group(1) else 'conv1.') + m.group(2)
    m = re.match(r'^res([2-5])\.(\d+)\.(conv[1-3]|shortcut)\.(norm\.)?(\w+)$', name)
    if not m:
        raise KeyError(f'not a detectron2 ResNet key: {name!r}')
    stage, block, module, norm, tensor = m.groups()
    head = f'layer{int(stage) - 1}.{block}.'
    if module == 'shortcut':
        return head + ('downsample.1.' if norm else 'downsample.0.') + tensor
    return head + (f'bn{module[4]}.' if norm else f'{module}.') + tensor

"""The classifier of the official DeepLab-v2 initialisation, checked and renamed for mmseg.

The reference code's classifier (``layer5.conv2d_list.{i}``) is four 3x3 convolutions from the
last stage's 2048 channels straight to the class logits, dilation and padding 6/12/18/24, with
bias; the file ships it for the 21 VOC classes. segssl's ``DeepLabV2Head`` holds the same
branches as ``aspp.{i}``, so the classifier becomes ``decode_head.aspp.{i}.{weight,bias}``,
which a head ``init_cfg=dict(type='Pretrained', checkpoint=FILE, prefix='decode_head.')``
loads. The caffe-style backbone stays at the root of the file, as for every other
conversion (``backbone.init_cfg`` without prefix).
"""
import re
from collections import OrderedDict

from .errors import ConversionError

HEAD_PREFIX = 'decode_head.aspp.'
_BRANCH_KEY = re.compile(r'^(\d+)\.(weight|bias)$')


def classifier_classes(classifier, in_channels, path=None):
    """Check the classifier branches and return their class count.

    Args:
        classifier (dict[str, Tensor]): ``{i}.weight`` (K, C, 3, 3) and ``{i}.bias`` (K,).
        in_channels (int): C, the encoder's output channels (2048 for ResNet-101).

    Raises:
        ConversionError: a key or shape that does not fit, naming it and what was expected.
    """
    bad = [k for k in classifier if not _BRANCH_KEY.match(k)]
    if bad:
        raise ConversionError(
            f'unexpected DeepLab-v2 classifier keys {bad[:4]}; expected '
            'layer5.conv2d_list.{i}.weight / .bias', path)
    branches = sorted({int(_BRANCH_KEY.match(k).group(1)) for k in classifier})
    if branches != list(range(len(branches))):
        raise ConversionError(f'DeepLab-v2 classifier branches {branches}; expected 0..n-1', path)
    classes = None
    for i in branches:
        w, b = classifier.get(f'{i}.weight'), classifier.get(f'{i}.bias')
        k = None if w is None else w.shape[0]
        if (w is None or b is None or tuple(w.shape[1:]) != (in_channels, 3, 3) or tuple(b.shape) != (k, )
                or (classes is not None and k != classes)):
            found = {n: tuple(t.shape) for n, t in (('weight', w), ('bias', b)) if t is not None}
            raise ConversionError(
                f'DeepLab-v2 classifier branch {i} has {found}; expected weight '
                f'(K, {in_channels}, 3, 3) and bias (K,), the same K for every branch', path)
        classes = k
    return classes


def decode_head_state(classifier):
    """``OrderedDict`` of the branches under mmseg's ``decode_head.aspp.{i}`` names."""
    return OrderedDict((HEAD_PREFIX + k, v) for k, v in classifier.items())

"""One call from an SSL checkpoint file to a framework checkpoint: read, check, write.

``convert(src, dst, to='mmseg')`` reads the online encoder (:mod:`.sources`), checks it against
the canonical ResNet layout (:mod:`.resnet_layout`), and only then writes (:mod:`.writers`):
any bad input stops before a byte is written.
"""
import time
from dataclasses import dataclass, field

from .deeplabv2 import classifier_classes, decode_head_state
from .resnet_layout import CanonicalResNet, count_parameters
from .sources import read_encoder
from .writers import DETECTRON2_PREFIX, WRITERS, check_output_suffix


@dataclass
class ConversionReport:
    """What :func:`convert` did: the source, the checked encoder and the files written."""
    source: object  # sources.EncoderSource
    encoder: CanonicalResNet
    target: str
    outputs: list = field(default_factory=list)
    seconds: float = 0.0
    head: str = ''  # what became of a classifier in the source, if any

    def lines(self):
        """Human-readable summary: converted tensors/parameters and what was dropped."""
        enc, src = self.encoder, self.source
        params, buffers = count_parameters(enc.state_dict)
        style = ', caffe style: stride in the 1x1 convs' if enc.style == 'caffe' else ''
        out = [
            f'read {src.path}: format {src.format} '
            f'(weights under {src.wrapper or "the top level"})',
            f'converted ResNet-{enc.depth} ({enc.stem} stem{style}): {len(enc.state_dict)} '
            f'tensors, {params:,} parameters (+ {buffers:,} BN buffer values)'
        ]
        if self.head:
            out.append(self.head)
        filled = enc.provenance.get('filled_num_batches_tracked', 0)
        if filled:
            out.append(f'  set {filled} missing num_batches_tracked buffers to 0')
        if src.dropped:
            total = sum(n for _, n, _ in src.dropped)
            out.append(f'dropped {total} tensors:')
            out += [f'  {prefix:<40s} {n:6d} tensors  ({why})' for prefix, n, why in src.dropped]
        else:
            out.append('dropped nothing')
        if src.other_entries:
            out.append('ignored non-weight entries: ' + ', '.join(src.other_entries))
        out += [f'wrote {p} ({self.target})' for p in self.outputs]
        if self.target == 'mmseg' and enc.stem == '3x3':
            out.append("load it into backbone=dict(type='ResNet3x3Stem', depth="
                       f"{enc.depth}, style='pytorch', ...) (registered by segssl.mmseg)")
        if self.target == 'mmseg' and enc.style == 'caffe':
            out.append('load it with configs/_base_/models/deeplabv2-caffe_r101-d8.py '
                       '(SEGSSL_BACKBONE=this file): DeepLabV2ResNet(style="caffe"), BGR input')
        return out


def read_resnet(src, fmt=None, depth=None, trust_pickle=False):
    """Return ``(EncoderSource, CanonicalResNet)`` for checkpoint ``src``; writes nothing."""
    source = read_encoder(src, fmt, trust_pickle)
    encoder = CanonicalResNet.from_state_dict(source.encoder, expected_depth=depth, path=src, provenance={
        'source': str(src),
        'format': source.format
    }, style=source.style)
    return source, encoder


def _classifier(source, encoder, num_classes, src):
    """``(decode_head tensors, report line)`` for a source that ships a classifier."""
    if not source.classifier:
        return {}, ''
    out_channels = 512 * (4 if encoder.depth >= 50 else 1)  # the last stage's output
    classes = classifier_classes(source.classifier, out_channels, src)
    branches = len(source.classifier) // 2
    if num_classes is not None and int(num_classes) != classes:
        return {}, (f'dropped the classifier ({branches} branches, {classes} classes): '
                    f'--num-classes {num_classes} differs')
    return decode_head_state(
        source.classifier), (f'kept the classifier ({branches} branches, {classes} classes) as decode_head.aspp.*: '
                             "load it with decode_head=dict(init_cfg=dict(type='Pretrained', checkpoint=FILE, "
                             "prefix='decode_head.'))")


def convert(src, dst, to, fmt=None, depth=None, prefix=DETECTRON2_PREFIX, trust_pickle=False, num_classes=None):
    """Convert checkpoint ``src`` into ``dst`` for ``to`` in ``{'mmseg', 'detectron2',
    'torchvision'}``; return a :class:`ConversionReport`.

    Args:
        fmt (str | None): source format name (``--from``); None detects it.
        depth (int | None): expected ResNet depth; a different one is an error.
        prefix (str): detectron2 key prefix (default Mask R-CNN FPN's ``backbone.bottom_up.``).
        trust_pickle (bool): unpickle ``src`` fully (it may run code); default: data only.
        num_classes (int | None): a source with a classifier (the DeepLab-v2 init) keeps it
            only if it has this many classes; None keeps it as it is.

    Raises:
        ConversionError: bad input (including a ``dst`` suffix that does not fit ``to``:
            :func:`.writers.check_output_suffix`, checked before ``src`` is read); nothing was
            written.
    """
    if to not in WRITERS:
        raise ValueError(f'unknown target {to!r}; expected one of {sorted(WRITERS)}')
    check_output_suffix(dst, to)
    start = time.perf_counter()
    source, encoder = read_resnet(src, fmt, depth, trust_pickle)
    head, head_line = _classifier(source, encoder, num_classes, src)
    kwargs = {'prefix': prefix} if to == 'detectron2' else {}
    if to == 'mmseg':
        kwargs['head'] = head
    outputs = WRITERS[to](encoder, dst, **kwargs)
    return ConversionReport(source, encoder, to, outputs, time.perf_counter() - start, head_line)

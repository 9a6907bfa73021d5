"""One call from an SSL checkpoint file to a framework checkpoint: read, check, write.

``convert(src, dst, to='mmseg')`` reads the online encoder (:mod:`.sources`), checks it against
the canonical ResNet layout (:mod:`.resnet_layout`), and only then writes (:mod:`.writers`):
any bad input stops before a byte is written.
"""
import time
from dataclasses import dataclass, field

from .resnet_layout import CanonicalResNet, count_parameters
from .sources import read_encoder
from .writers import DETECTRON2_PREFIX, WRITERS


@dataclass
class ConversionReport:
    """What :func:`convert` did: the source, the checked encoder and the files written."""
    source: object                      # sources.EncoderSource
    encoder: CanonicalResNet
    target: str
    outputs: list = field(default_factory=list)
    seconds: float = 0.0

    def lines(self):
        """Human-readable summary: converted tensors/parameters and what was dropped."""
        enc, src = self.encoder, self.source
        params, buffers = count_parameters(enc.state_dict)
        out = [f'read {src.path}: format {src.format} '
               f'(weights under {src.wrapper or "the top level"})',
               f'converted ResNet-{enc.depth} ({enc.stem} stem): {len(enc.state_dict)} tensors, '
               f'{params:,} parameters (+ {buffers:,} BN buffer values)']
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
        return out


def read_resnet(src, fmt=None, depth=None, trust_pickle=False):
    """Return ``(EncoderSource, CanonicalResNet)`` for checkpoint ``src``; writes nothing."""
    source = read_encoder(src, fmt, trust_pickle)
    encoder = CanonicalResNet.from_state_dict(
        source.encoder, expected_depth=depth, path=src,
        provenance={'source': str(src), 'format': source.format})
    return source, encoder


def convert(src, dst, to, fmt=None, depth=None, prefix=DETECTRON2_PREFIX, trust_pickle=False):
    """Convert checkpoint ``src`` into ``dst`` for ``to`` in ``{'mmseg', 'detectron2',
    'torchvision'}``; return a :class:`ConversionReport`.

    Args:
        fmt (str | None): source format name (``--from``); None detects it.
        depth (int | None): expected ResNet depth; a different one is an error.
        prefix (str): detectron2 key prefix (default Mask R-CNN FPN's ``backbone.bottom_up.``).
        trust_pickle (bool): unpickle ``src`` fully (it may run code); default: data only.

    Raises:
        ConversionError: bad input; nothing was written.
    """
    if to not in WRITERS:
        raise ValueError(f'unknown target {to!r}; expected one of {sorted(WRITERS)}')
    start = time.perf_counter()
    source, encoder = read_resnet(src, fmt, depth, trust_pickle)
    kwargs = {'prefix': prefix} if to == 'detectron2' else {}
    outputs = WRITERS[to](encoder, dst, **kwargs)
    return ConversionReport(source, encoder, to, outputs, time.perf_counter() - start)

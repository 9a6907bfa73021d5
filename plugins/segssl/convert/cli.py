"""Command line of the checkpoint bridge (``tools/convert_checkpoint.py``, ``segssl-convert``).

::

    convert_checkpoint.py SRC DST --to {mmseg,detectron2,torchvision}
                          [--from FORMAT] [--depth N] [--prefix backbone.bottom_up.] [--trust-pickle]
    convert_checkpoint.py ENC_SRC DST --arch erfnet --to {mmseg,erfnet_pytorch}
                          [--decoder-from DEC_SRC] [--num-classes N] [--trust-pickle]

Prints the detected format, the converted tensor and parameter counts, and what was dropped
(target network, heads) grouped by prefix. Exit status 0 on success, 2 on bad input: one line
on stderr, ``convert_checkpoint: error: FILE: ...`` naming the file and what was found vs
expected (:func:`segssl.cli.fail`); nothing is written. A DST suffix that does not fit
``--to`` (.pth/.pt for mmseg, torchvision and erfnet_pytorch, .pkl for detectron2) is refused
before SRC is read. A source whose pickle would import anything but checkpoint data (e.g.
``posix.system``) is bad input too, unless ``--trust-pickle`` says the file is trusted.
"""
import argparse
import sys

from segssl.cli import HelpFormatter, fail

from .bridge import convert
from .erfnet import convert_erfnet
from .errors import ConversionError
from .sources import FORMATS
from .writers import DETECTRON2_PREFIX, WRITERS

TOOL = 'convert_checkpoint'


def build_parser():
    p = argparse.ArgumentParser(
        prog='convert_checkpoint.py', formatter_class=HelpFormatter,
        description='Convert the online encoder of an SSL checkpoint (segssl, PixPro, MoCo, '
        'BYOL, mmpretrain/mmselfsup, torchvision, the official DeepLab-v2 init) '
        'into an mmseg, detectron2 or torchvision ResNet checkpoint.')
    p.add_argument('src', help='source checkpoint file')
    p.add_argument(
        'dst', help='destination file: .pth or .pt for mmseg, torchvision and '
        'erfnet_pytorch, .pkl for detectron2 (a .yaml is written beside '
        'the .pkl); another suffix is refused')
    p.add_argument('--to', required=True, choices=sorted(WRITERS) + ['erfnet_pytorch'],
                   help='target framework (erfnet_pytorch: only with --arch erfnet)')
    p.add_argument('--arch', choices=['resnet', 'erfnet'], default='resnet',
                   help='encoder architecture (default: %(default)s)')
    p.add_argument('--decoder-from', default=None, help='ERFNet: take the decoder from this checkpoint (default: SRC)')
    p.add_argument(
        '--num-classes', type=int, default=None,
        help='ERFNet: replace the last layer (decoder.output_conv) for N classes; '
        'DeepLab-v2 init: keep its classifier only if it has N classes '
        '(default: keep what the source has)')
    p.add_argument('--from', dest='fmt', choices=list(FORMATS), default=None,
                   help='source format, when detection from the keys is ambiguous (default: '
                   'detected from the keys)')
    p.add_argument(
        '--depth', type=int, default=None, help='expected ResNet depth (18, 34, 50, 101, 152), checked against the '
        'weights (default: any, as found)')
    p.add_argument('--prefix', default=DETECTRON2_PREFIX,
                   help='detectron2 key prefix (default: %(default)s, Mask R-CNN FPN)')
    p.add_argument(
        '--trust-pickle', action='store_true',
        help='unpickle the source files fully: a pickle can run any code, so use it '
        'only for a file you trust (default: load tensors, arrays, numbers, '
        'strings, containers and argparse.Namespace only)')
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.trust_pickle:
        from .loading import TRUST_PICKLE_WARNING
        for src in dict.fromkeys([args.src, args.decoder_from or args.src]):
            print('warning: ' + TRUST_PICKLE_WARNING.format(path=src), file=sys.stderr)
    try:
        if args.arch == 'erfnet':
            lines = convert_erfnet(args.src, args.dst, args.to, decoder_src=args.decoder_from,
                                   num_classes=args.num_classes, trust_pickle=args.trust_pickle)
        elif args.to == 'erfnet_pytorch':
            raise ConversionError('--to erfnet_pytorch needs --arch erfnet', args.src)
        else:
            lines = convert(args.src, args.dst, args.to, fmt=args.fmt, depth=args.depth, prefix=args.prefix,
                            trust_pickle=args.trust_pickle, num_classes=args.num_classes).lines()
    except ConversionError as e:
        fail(TOOL, e)
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())

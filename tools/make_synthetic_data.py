#!/usr/bin/env python
"""Generate segssl's synthetic datasets (Cityscapes-layout semantic sets and a COCO set).

    python tools/make_synthetic_data.py data/synthetic --num-train 48 --num-val 16 --size 128x256
    python tools/make_synthetic_data.py data/synthetic-pool --pool 2000 --size 128x256

Same options -> byte-identical files. See segssl.synthetic.dataset for the layout. With --pool N
it writes only the unlabelled pretraining pool (segssl.synthetic.pool): N scenes of the same
classes from a random stream of their own, so none is a labelled or validation scene.
"""
import argparse
import json
import sys

from segssl.cli import HelpFormatter, fail
from segssl.synthetic import PARTS, generate, write_pool

TOOL = 'make_synthetic_data'


def parse_size(text):
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'--size {text!r}: expected HEIGHTxWIDTH, e.g. 128x256')
    return h, w


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('out', help='output folder (created; must not exist unless --overwrite)')
    p.add_argument('--num-train', type=int, default=48, help='images per train split')
    p.add_argument('--num-val', type=int, default=16, help='images per val split')
    p.add_argument('--size', type=parse_size, default=(128, 256), help='HEIGHTxWIDTH (default: 128x256)')
    p.add_argument('--seed', type=int, default=0, help='seed of every random draw (same options -> same files)')
    p.add_argument('--parts', default=','.join(PARTS), help='comma-separated subset of the parts to write')
    p.add_argument(
        '--pool', type=int, metavar='N',
        help='write only the unlabelled pretraining pool of N scenes (images/, meta.json) to OUT (default: no '
        'pool, the labelled sets)')
    p.add_argument('--overwrite', action='store_true', help='replace OUT if it exists')
    args = p.parse_args(argv)
    if args.pool is not None:
        try:
            meta = write_pool(args.out, args.pool, args.size[0], args.size[1], args.seed, overwrite=args.overwrite)
        except (ValueError, FileExistsError) as e:
            fail(TOOL, e)
        print(f'wrote {args.out}: {json.dumps(meta)}')
        return 0
    try:
        meta = generate(args.out, num_train=args.num_train, num_val=args.num_val, height=args.size[0],
                        width=args.size[1], seed=args.seed, parts=args.parts.split(','), overwrite=args.overwrite)
    except (ValueError, FileExistsError) as e:
        fail(TOOL, e)
    summary = {k: meta[k] for k in ('seed', 'height', 'width', 'num_train', 'num_val', 'parts')}
    print(f'wrote {args.out}: {json.dumps(summary)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""Write the SimCLR report's label-fraction id lists for the Oxford-IIIT Pet dataset.

    python tools/make_pets_splits.py data/oxford-iiit-pet [--seed 0]

Reads ROOT/annotations/trainval.txt and test.txt (``<id> <class> <species> <breed>`` per line;
``#`` lines skipped) and writes, one id per line (the form mmseg's ``ann_file`` reads):

    ROOT/splits/1pct.txt  10pct.txt  full.txt     ceil(f * N) training ids, f = 0.01, 0.1, 1
    ROOT/splits/test.txt                          every test id

The fractions are prefixes of ONE seeded permutation (numpy ``default_rng(seed)``) of the sorted
trainval ids, so they are nested (1 % within 10 % within 100 %) and identical on every machine;
the four files are written to temporary files and renamed together (segssl.io.atomic), so
they appear complete or not at all.
"""
import argparse
import math
import os
import sys

import numpy as np

from segssl.cli import HelpFormatter, exit_on_bad_input
from segssl.io.atomic import atomic_outputs

TOOL = 'make_pets_splits'
FRACTIONS = (('1pct', 0.01), ('10pct', 0.1), ('full', 1.0))


def read_ids(path):
    """First column of an Oxford-IIIT Pet list file, in file order."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found: expected the Oxford-IIIT Pet annotations '
                                '(annotations/trainval.txt and annotations/test.txt)')
    ids = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                ids.append(line.split()[0])
    if not ids:
        raise ValueError(f'{path}: no ids (expected lines "<id> <class> <species> <breed>")')
    return ids


def label_fractions(ids, seed=0, fractions=FRACTIONS):
    """{name: sorted ids}: the first ceil(f N) ids of one seeded permutation of sorted ``ids``."""
    ids = sorted(set(ids))
    order = np.random.default_rng(seed).permutation(len(ids))
    return {name: sorted(ids[i] for i in order[:math.ceil(f * len(ids))]) for name, f in fractions}


def write_lists(folder, lists):
    """Write ``folder/<name>.txt`` (one id per line) for each ``{name: ids}``, all together."""
    names = list(lists)
    with atomic_outputs(*[os.path.join(folder, n + '.txt') for n in names]) as tmps:
        for name, tmp in zip(names, tmps):
            with open(tmp, 'w') as f:
                f.write(''.join(i + '\n' for i in lists[name]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('root', help='Oxford-IIIT Pet folder (with images/ and annotations/)')
    p.add_argument('--seed', type=int, default=0, help='seed of the one permutation every fraction is a prefix of')
    p.add_argument('--out', help='output folder (default: ROOT/splits, the path the configs read)')
    args = p.parse_args(argv)
    out = args.out or os.path.join(args.root, 'splits')
    with exit_on_bad_input(TOOL):
        train = read_ids(os.path.join(args.root, 'annotations', 'trainval.txt'))
        test = read_ids(os.path.join(args.root, 'annotations', 'test.txt'))
    lists = label_fractions(train, args.seed)
    write_lists(out, dict(lists, test=sorted(set(test))))
    counts = {name: len(ids) for name, ids in lists.items()}
    print(f'wrote {out}: seed {args.seed}, {counts} of {len(set(train))} trainval ids, '
          f'{len(set(test))} test ids')
    return 0


if __name__ == '__main__':
    sys.exit(main())

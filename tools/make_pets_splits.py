#!/usr/bin/env python
"""Write seed 003's label-fraction id lists for the Oxford-IIIT Pet dataset.

    python tools/make_pets_splits.py data/oxford-iiit-pet [--seed 0]

Reads ROOT/annotations/trainval.txt and test.txt (``<id> <class> <species> <breed>`` per line;
``#`` lines skipped) and writes, one id per line (the form mmseg's ``ann_file`` reads):

    ROOT/splits/1pct.txt  10pct.txt  full.txt     ceil(f * N) training ids, f = 0.01, 0.1, 1
    ROOT/splits/test.txt                          every test id

The fractions are prefixes of ONE seeded permutation (numpy ``default_rng(seed)``) of the sorted
trainval ids, so they are nested (1 % within 10 % within 100 %) and identical on every machine;
each file is written to a temporary file and renamed.
"""
import argparse
import math
import os
import sys

import numpy as np

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


def write_list(path, ids):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(''.join(i + '\n' for i in ids))
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('root', help='Oxford-IIIT Pet folder (with images/ and annotations/)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='output folder (default ROOT/splits, the path the configs read)')
    args = p.parse_args(argv)
    out = args.out or os.path.join(args.root, 'splits')
    try:
        train = read_ids(os.path.join(args.root, 'annotations', 'trainval.txt'))
        test = read_ids(os.path.join(args.root, 'annotations', 'test.txt'))
    except (FileNotFoundError, ValueError) as e:
        p.exit(2, f'make_pets_splits: error: {e}\n')
    os.makedirs(out, exist_ok=True)
    counts = {}
    for name, ids in label_fractions(train, args.seed).items():
        write_list(os.path.join(out, name + '.txt'), ids)
        counts[name] = len(ids)
    write_list(os.path.join(out, 'test.txt'), sorted(set(test)))
    print(f'wrote {out}: seed {args.seed}, {counts} of {len(set(train))} trainval ids, '
          f'{len(set(test))} test ids')
    return 0


if __name__ == '__main__':
    sys.exit(main())

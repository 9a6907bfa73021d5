#!/usr/bin/env python
"""Write fixed, seeded label-fraction splits (the ClassMix/DACS thesis) for a dataset folder.

    python tools/make_label_splits.py data/cityscapes --dataset cityscapes        # -> data/cityscapes/splits
    python tools/make_label_splits.py data/VOCdevkit/VOC2012 --dataset voc_aug
    python tools/make_label_splits.py data/synthetic/coco --dataset coco   # Mask R-CNN: SEGSSL.LABEL_SPLIT

Writes OUT/<fraction>/labelled.txt and unlabelled.txt (one image id per line, the form mmseg's
``ann_file`` reads) and OUT/meta.json; cityscapes, custom and coco fractions 1-30, 1-8, 1-4, 1-2, full;
voc_aug 1-100, 1-50, 1-20, 1-8, 1-4, full. Same folder and seed -> identical files. See segssl.data.splits.
"""
import argparse
import json
import os
import sys

from segssl.cli import HelpFormatter, exit_on_bad_input
from segssl.data.splits import FRACTIONS, ids_hash, list_train_ids, write_splits

TOOL = 'make_label_splits'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('root', help='dataset folder (Cityscapes root with leftImg8bit/, or VOC2012 with ImageSets/)')
    p.add_argument(
        '--dataset', required=True, choices=sorted(FRACTIONS),
        help='where the training ids come from: cityscapes leftImg8bit/train, voc_aug '
        'ImageSets/Segmentation (trainaug, or train + aug, minus val), custom '
        'images/train, coco annotations/instances_train.json (the file names)')
    p.add_argument('--out', help='output folder (default: ROOT/splits, the path the configs read)')
    p.add_argument('--seed', type=int, default=0, help='seed of the one permutation every fraction is a prefix of')
    p.add_argument('--overwrite', action='store_true', help='replace splits made with other ids or seed')
    args = p.parse_args(argv)
    out = args.out or os.path.join(args.root, 'splits')
    with exit_on_bad_input(TOOL):
        ids = list_train_ids(args.dataset, args.root)
        meta_path = os.path.join(out, 'meta.json')
        if os.path.isfile(meta_path) and not args.overwrite:
            with open(meta_path) as f:
                old = json.load(f)
            if (old.get('dataset'), old.get('seed'), old.get('ids_sha256')) != (args.dataset, args.seed, ids_hash(ids)):
                raise FileExistsError(f'{meta_path} holds splits of another id list or seed '
                                      f"(dataset {old.get('dataset')!r}, seed {old.get('seed')}, "
                                      f"{old.get('num_ids')} ids): pass --overwrite to replace them")
        meta = write_splits(out, args.dataset, ids, seed=args.seed)
    print(f"wrote {out}: {args.dataset}, seed {args.seed}, {meta['num_ids']} ids, "
          f"labelled {json.dumps(meta['fractions'])}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

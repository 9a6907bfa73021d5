#!/usr/bin/env python
"""Write a seeded random COCO train subset and disjoint val/test subsets (the Mask R-CNN thesis: 20k/5k/5k
images of train2017) as COCO json, for detectron2 (SEGSSL.COCO_SUBSET.DIR/NAME in a config).

    python tools/make_coco_subset.py datasets/coco/annotations/instances_train2017.json \
        datasets/coco2017_subset [--train 20000 --val 5000 --test 5000 --seed 0 \
        --name coco2017_subset --image-root datasets/coco/train2017]
"""
import argparse
import sys

from segssl.cli import HelpFormatter, exit_on_bad_input
from segssl.data.coco_subset import make_coco_subsets

TOOL = 'make_coco_subset'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('src_json', help='COCO instances json to draw from')
    p.add_argument('out_dir', help='folder for <name>_{train,val,test}.json and the manifest')
    p.add_argument('--train', type=int, default=20000, help='images in the train subset')
    p.add_argument('--val', type=int, default=5000, help='images in the val subset (disjoint from train)')
    p.add_argument('--test', type=int, default=5000, help='images in the test subset (disjoint from both)')
    p.add_argument('--seed', type=int, default=0, help='seed of the random draw')
    p.add_argument('--name', default='coco2017_subset', help='dataset name prefix')
    p.add_argument('--image-root', default=None,
                   help='image folder (default: <json dir>/../train2017 for instances_train2017.json)')
    p.add_argument('--only-annotated', action='store_true', help='draw only images with at least one annotation')
    args = p.parse_args(argv)
    with exit_on_bad_input(TOOL):
        m = make_coco_subsets(args.src_json, args.out_dir, args.name, args.train, args.val, args.test, args.seed,
                              args.image_root, args.only_annotated)
    for split, info in m['splits'].items():
        print(f"{args.name}_{split}: {info['num_images']} images, {info['num_annotations']} "
              f"annotations -> {args.out_dir}/{info['json']}")
    print(f"image root {m['image_root']}; seed {m['seed']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())

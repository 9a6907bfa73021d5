#!/usr/bin/env python
"""Remove the background of images with a trained detectron2 Mask R-CNN (the Mask R-CNN thesis), and score
the outputs against ground truth by cosine similarity (%).

    python tools/remove_background.py --config-file configs/detectron2/mask_rcnn_R_50_FPN_synthetic_ssl.yaml \
        --weights work_dirs/mask_rcnn_R_50_FPN_synthetic_ssl/model_final.pth \
        --input data/synthetic/coco/val --output work_dirs/background \
        [--gt-coco data/synthetic/coco/annotations/instances_val.json | --gt-masks DIR] \
        [--keep top|union] [--score-threshold 0.5] [--class ID ...] [KEY VALUE ...]

Writes OUTPUT/pred/*.png (and OUTPUT/gt/*.png with ground truth) and OUTPUT/report.json; prints
one line per image (kept instances or "no instance passed", cosine) and the means.
"""
import argparse
import glob
import os
import sys

import segssl.detectron2  # noqa: F401  (first: stands in for a missing detectron2._C)

# isort: split
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor

from segssl.cli import BAD_INPUT_ERRORS, HelpFormatter, exit_on_bad_input
from segssl.detectron2 import add_segssl_config
from segssl.detectron2.background import CocoGroundTruth, MaskFolderGroundTruth, remove_background_images
from segssl.detectron2.config import merge_config_file, resolve_device, resolve_sync_bn

TOOL = 'remove_background'
IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
# yacs: KeyError for an unknown KEY, AssertionError for an odd KEY VALUE list or a type mismatch
CONFIG_ERRORS = BAD_INPUT_ERRORS + (KeyError, AssertionError)


def list_images(inputs):
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += sorted(p for p in glob.glob(os.path.join(item, '*')) if p.lower().endswith(IMAGE_EXTS))
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f'--input {item!r} is neither an image file nor a folder')
    if not paths:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in --input {inputs}')
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--config-file', required=True, help='detectron2 Mask R-CNN config (yaml)')
    p.add_argument('--weights', default=None, help='model checkpoint (default: the config\'s MODEL.WEIGHTS)')
    p.add_argument('--input', nargs='+', required=True, help='image files and/or folders')
    p.add_argument('--output', required=True, help='output folder: pred/, gt/ and report.json')
    gt = p.add_mutually_exclusive_group()
    gt.add_argument(
        '--gt-coco', help='COCO json: ground truth = union of the image\'s instances '
        '(default: no ground truth, no score)')
    gt.add_argument(
        '--gt-masks', help='folder of <image stem>.png masks, nonzero = foreground '
        '(default: no ground truth, no score)')
    p.add_argument('--keep', choices=('top', 'union'), default='top',
                   help='highest-scoring instance, or union of all passing the threshold')
    p.add_argument('--score-threshold', type=float, default=0.5, help='lowest instance score kept')
    p.add_argument(
        '--class', dest='class_ids', type=int, nargs='+', default=None,
        help='only instances of these contiguous class ids, also restricts --gt-coco '
        '(default: every class)')
    p.add_argument('opts', nargs=argparse.REMAINDER, help='config KEY VALUE pairs')
    args = p.parse_args(argv)

    with exit_on_bad_input(TOOL):
        paths = list_images(args.input)
        ground_truth = (CocoGroundTruth(args.gt_coco, args.class_ids)
                        if args.gt_coco else MaskFolderGroundTruth(args.gt_masks) if args.gt_masks else None)
    with exit_on_bad_input(TOOL, CONFIG_ERRORS):
        cfg = get_cfg()
        add_segssl_config(cfg)
        merge_config_file(cfg, args.config_file)
        cfg.merge_from_list(args.opts)
        if args.weights is not None:
            cfg.MODEL.WEIGHTS = args.weights
        resolve_device(cfg)
        resolve_sync_bn(cfg, 1)
    # detectron2's own filter must not drop instances our threshold would keep.
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = min(cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST, args.score_threshold)
    cfg.freeze()
    with exit_on_bad_input(TOOL):  # an unreadable image or a mask of another size
        remove_background_images(DefaultPredictor(cfg), paths, args.output, args.keep, args.score_threshold,
                                 args.class_ids, ground_truth)
    print(f'outputs and report.json in {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

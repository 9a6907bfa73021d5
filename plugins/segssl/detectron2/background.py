"""Background removal with a detectron2 predictor (the Mask R-CNN thesis); the maths is segssl.core.background.

``remove_background_images`` runs a predictor (e.g. ``DefaultPredictor``: BGR uint8 image in,
``{'instances': Instances}`` out) on each image, keeps the selected instance mask, zeroes
everything outside it and writes ``<out>/pred/<stem>.png``. With a ground-truth mask for the
image (from a COCO json: the union of its non-crowd instances, of ``class_ids`` when given; or a
folder of mask PNGs) it also writes ``<out>/gt/<stem>.png`` (the image with the ground-truth
background removed) and scores the output by the cosine similarity in % (per image and averaged).
``<out>/report.json`` holds every record and the summary. PNG output, so nothing is lost.
"""
import json
import os

import cv2
import numpy as np

from segssl.core.background import cosine_similarity_percent, remove_background, select_instance_mask, summarize
from segssl.io.atomic import atomic_outputs


def instances_to_numpy(instances):
    """``(masks (N, H, W) bool, scores (N,), classes (N,))`` of a detectron2 ``Instances``."""
    instances = instances.to('cpu')
    n = len(instances)
    h, w = instances.image_size
    if n == 0 or not instances.has('pred_masks'):
        return np.zeros((0, h, w), bool), np.zeros(0), np.zeros(0, int)
    return (instances.pred_masks.numpy().astype(bool), instances.scores.numpy(), instances.pred_classes.numpy())


class CocoGroundTruth:
    """Ground-truth foreground masks from a COCO instances json, looked up by file name.

    ``class_ids`` are detectron2's contiguous ids: the json's category ids in sorted order
    (as ``load_coco_json`` maps them).
    """

    def __init__(self, json_file, class_ids=None):
        from pycocotools.coco import COCO
        if not os.path.isfile(json_file):
            raise FileNotFoundError(f'ground-truth COCO json {json_file!r} does not exist')
        self.coco = COCO(json_file)
        cat_ids = sorted(self.coco.getCatIds())
        self.cat_ids = None if class_ids is None else {cat_ids[c] for c in class_ids}
        self.by_name = {os.path.basename(im['file_name']): im for im in self.coco.dataset['images']}

    def __call__(self, path, image):
        im = self.by_name.get(os.path.basename(path))
        if im is None:
            return None
        mask = np.zeros(image.shape[:2], bool)
        for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=[im['id']], iscrowd=False)):
            if self.cat_ids is None or ann['category_id'] in self.cat_ids:
                mask |= self.coco.annToMask(ann).astype(bool)
        return mask


class MaskFolderGroundTruth:
    """Ground-truth foreground masks from ``<folder>/<image stem>.png`` (nonzero = foreground)."""

    def __init__(self, folder):
        if not os.path.isdir(folder):
            raise FileNotFoundError(f'ground-truth mask folder {folder!r} does not exist')
        self.folder = folder

    def __call__(self, path, image):
        f = os.path.join(self.folder, os.path.splitext(os.path.basename(path))[0] + '.png')
        if not os.path.isfile(f):
            return None
        mask = cv2.imread(f, cv2.IMREAD_UNCHANGED)
        if mask.ndim == 3:
            mask = mask.any(axis=2)
        if mask.shape[:2] != image.shape[:2]:
            raise ValueError(f'ground-truth mask {f!r} is {mask.shape[:2]}, image {path!r} is {image.shape[:2]}')
        return mask.astype(bool)


def _write_png(path, image):
    ok, buf = cv2.imencode('.png', image)
    if not ok:
        raise ValueError(f'could not encode {path!r}')
    with atomic_outputs(path) as (tmp, ):
        with open(tmp, 'wb') as f:
            f.write(buf.tobytes())


def remove_background_images(predictor, image_paths, out_dir, keep='top', score_threshold=0.5, class_ids=None,
                             ground_truth=None, log=print):
    """Background-remove each image; write outputs and ``report.json``; return the report.

    Args:
        predictor: callable, BGR ``(H, W, 3)`` uint8 -> ``{'instances': Instances}``.
        image_paths (list[str]): images (read with OpenCV, BGR).
        out_dir (str): output folder (``pred/``, ``gt/``, ``report.json``).
        keep, score_threshold, class_ids: see :func:`segssl.core.background.select_instance_mask`.
        ground_truth: callable ``(path, image) -> (H, W) bool mask or None``, or None.
        log: called with one line per image and the summary.

    Returns:
        dict: ``{'images': [record per image], 'summary': summarize(...), 'options': ...}``.
    """
    records = []
    for path in image_paths:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'cannot read image {path!r}')
        masks, scores, classes = instances_to_numpy(predictor(image)['instances'])
        mask, kept = select_instance_mask(masks, scores, classes, keep, score_threshold, class_ids)
        stem = os.path.splitext(os.path.basename(path))[0]
        out = remove_background(image, mask)
        _write_png(os.path.join(out_dir, 'pred', stem + '.png'), out)
        rec = {
            'image': path,
            'output': os.path.join(out_dir, 'pred', stem + '.png'),
            'no_instance': not kept,
            'kept_instances': kept,
            'kept_scores': [float(scores[i]) for i in kept],
            'kept_classes': [int(classes[i]) for i in kept],
            'foreground_pixels': int(mask.sum()),
            'cosine': None
        }
        gt_mask = ground_truth(path, image) if ground_truth is not None else None
        if gt_mask is not None:
            gt = remove_background(image, gt_mask)
            rec['gt_output'] = os.path.join(out_dir, 'gt', stem + '.png')
            _write_png(rec['gt_output'], gt)
            rec['cosine'] = cosine_similarity_percent(out, gt)
        records.append(rec)
        what = ('no instance passed (output all zeros)' if not kept else
                f'kept {len(kept)} instance(s), scores {", ".join(f"{s:.3f}" for s in rec["kept_scores"])}')
        score = '' if rec['cosine'] is None else f'; cosine {rec["cosine"]:.2f} %'
        log(f'{path}: {what}{score}')
    summary = summarize(records)
    report = {
        'options': {
            'keep': keep,
            'score_threshold': score_threshold,
            'class_ids': None if class_ids is None else list(class_ids)
        },
        'images': records,
        'summary': summary
    }
    with atomic_outputs(os.path.join(out_dir, 'report.json')) as (tmp, ):
        with open(tmp, 'w') as f:
            json.dump(report, f, indent=1)
    mean = summary['mean_cosine']
    log(f'{summary["num_images"]} images, {summary["num_no_instance"]} with no instance passing; ' + (
        'mean cosine similarity (images with an instance) ' + ('n/a' if mean is None else f'{mean:.2f} %') +
        ('' if summary['mean_cosine_all'] is None else f', over all scored images {summary["mean_cosine_all"]:.2f} %')))
    return report

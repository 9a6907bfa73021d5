"""The majority-class baseline a trained segmentation model must beat, computed the way mmseg's
IoUMetric computes mIoU: intersections and unions summed over the whole split, per-class
IoU = I / U, mIoU = mean over classes with U > 0 (classes absent from both are NaN, skipped)."""
import glob
import os
from typing import Dict, Sequence

import numpy as np
from PIL import Image


def label_paths(cityscapes_root: str, split: str) -> Sequence[str]:
    paths = sorted(glob.glob(os.path.join(cityscapes_root, 'gtFine', split, '*', '*_gtFine_labelTrainIds.png')))
    if not paths:
        raise FileNotFoundError(f'no *_gtFine_labelTrainIds.png under {cityscapes_root}/gtFine/{split}')
    return paths


def majority_class_miou(cityscapes_root: str, num_classes: int = 19, ignore_index: int = 255) -> Dict:
    """mIoU (0-100) on the val split of predicting, everywhere, the most frequent train class."""
    train_counts = np.zeros(num_classes, dtype=np.int64)
    for p in label_paths(cityscapes_root, 'train'):
        lab = np.asarray(Image.open(p))
        train_counts += np.bincount(lab[lab != ignore_index].ravel(), minlength=num_classes)[:num_classes]
    majority = int(train_counts.argmax())
    intersect = np.zeros(num_classes, dtype=np.int64)
    union = np.zeros(num_classes, dtype=np.int64)
    for p in label_paths(cityscapes_root, 'val'):
        lab = np.asarray(Image.open(p))
        valid = lab[lab != ignore_index]
        gt = np.bincount(valid.ravel(), minlength=num_classes)[:num_classes]
        intersect[majority] += gt[majority]
        union += gt  # every class's gt pixels are in its union
        union[majority] += valid.size - gt[majority]  # plus the majority's false positives
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, intersect / np.maximum(union, 1), np.nan)
    return {'majority_class': majority, 'mIoU': float(np.nanmean(iou) * 100), 'classes_present': int((union > 0).sum())}

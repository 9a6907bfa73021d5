"""Write the synthetic datasets to disk: Cityscapes-layout semantic sets and a COCO instance set.

Layout under ``out``::

    cityscapes/  target look ("real" stand-in), read by mmseg's CityscapesDataset unchanged:
                 leftImg8bit/{train,val}/synth/synth_000000_NNNNNN_leftImg8bit.png
                 gtFine/{train,val}/synth/synth_000000_NNNNNN_gtFine_labelTrainIds.png
    source/      flat game-like look of other scenes, same layout (the GTA5 stand-in)
    coco/        {train,val}/NNNNNN.png and annotations/instances_{train,val}.json
                 (uncompressed RLE masks, 8 thing categories, COCO ids 1..8)
    meta.json    the options used, and per-split class pixel counts

Everything derives from ``seed``: the same options give byte-identical files. The whole tree is
built in a temporary folder beside ``out`` and renamed into place, so it is never half-written.
"""
import json
import os
from typing import Dict, Iterable, List

import numpy as np
from PIL import Image

from segssl.io.atomic import atomic_folders

from .render import render
from .scenes import CITYSCAPES_CLASSES, ID, THING_CLASSES, check_size, make_scene

PARTS = ('cityscapes', 'source', 'coco')
_STREAM = {'cityscapes': 1, 'source': 2, 'coco': 3}
_SPLIT = {'train': 1, 'val': 2}
MAX_IMAGES = 100_000


def _rng(seed, part, split, index):
    return np.random.default_rng([seed, _STREAM[part], _SPLIT[split], index])


def _save_png(array, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, format='PNG', optimize=False)


def rle_encode(mask: np.ndarray) -> Dict:
    """COCO uncompressed RLE of a binary (H, W) mask: column-major runs, starting with zeros."""
    flat = np.asarray(mask, dtype=np.uint8).reshape(-1, order='F')
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    return {'size': [int(mask.shape[0]), int(mask.shape[1])], 'counts': [int(c) for c in counts]}


def write_cityscapes(root, part, num_train, num_val, height, width, seed) -> Dict[str, List[int]]:
    """Write one Cityscapes-layout set; return per-split pixel counts of the 19 classes."""
    look = 'target' if part == 'cityscapes' else 'source'
    stats = {}
    for split, count in (('train', num_train), ('val', num_val)):
        pixels = np.zeros(len(CITYSCAPES_CLASSES), dtype=np.int64)
        for i in range(count):
            rng = _rng(seed, part, split, i)
            scene = make_scene(rng, height, width)
            stem = f'synth_000000_{i:06d}'
            _save_png(render(scene, rng, look),
                      os.path.join(root, part, 'leftImg8bit', split, 'synth', stem + '_leftImg8bit.png'))
            _save_png(scene.label, os.path.join(root, part, 'gtFine', split, 'synth',
                                                stem + '_gtFine_labelTrainIds.png'))
            pixels += np.bincount(scene.label.ravel(), minlength=len(CITYSCAPES_CLASSES))[:len(CITYSCAPES_CLASSES)]
        stats[split] = pixels.tolist()
    return stats


def write_coco(root, num_train, num_val, height, width, seed, min_area=16) -> Dict[str, int]:
    """Write the COCO instance set; instances smaller than ``min_area`` pixels become crowd regions."""
    categories = [{'id': k + 1, 'name': n, 'supercategory': 'street'} for k, n in enumerate(THING_CLASSES)]
    cat_of = {ID[n]: k + 1 for k, n in enumerate(THING_CLASSES)}
    counts = {}
    for split, count in (('train', num_train), ('val', num_val)):
        images, annotations = [], []
        for i in range(count):
            rng = _rng(seed, 'coco', split, i)
            scene = make_scene(rng, height, width)
            name = f'{i:06d}.png'
            _save_png(render(scene, rng, 'target'), os.path.join(root, 'coco', split, name))
            images.append({'id': i + 1, 'file_name': name, 'height': height, 'width': width})
            for inst, cls in scene.instances:
                mask = scene.instance == inst
                ys, xs = np.nonzero(mask)
                area = int(mask.sum())
                annotations.append({
                    'id': len(annotations) + 1,
                    'image_id': i + 1,
                    'category_id': cat_of[cls],
                    'segmentation': rle_encode(mask),
                    'area': area,
                    'bbox': [int(xs.min()),
                             int(ys.min()),
                             int(xs.max() - xs.min() + 1),
                             int(ys.max() - ys.min() + 1)],
                    'iscrowd': int(area < min_area)
                })
        path = os.path.join(root, 'coco', 'annotations', f'instances_{split}.json')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(
                {
                    'info': {
                        'description': 'segssl synthetic street scenes',
                        'version': '1'
                    },
                    'licenses': [],
                    'images': images,
                    'annotations': annotations,
                    'categories': categories
                }, f, sort_keys=True)
        counts[split] = len(annotations)
    return counts


def _check_count(name, value):
    if not isinstance(value, (int, np.integer)) or value < 1 or value > MAX_IMAGES:
        raise ValueError(f'{name}={value!r} is impossible: expected an integer number of images '
                         f'in [1, {MAX_IMAGES}]')


def generate(out: str, num_train: int = 48, num_val: int = 16, height: int = 128, width: int = 256, seed: int = 0,
             parts: Iterable[str] = PARTS, overwrite: bool = False) -> Dict:
    """Generate the synthetic datasets under ``out`` (see the module docstring); return meta."""
    check_size(height, width)
    _check_count('num_train', num_train)
    _check_count('num_val', num_val)
    parts = tuple(parts)
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise ValueError(f'parts={list(parts)!r}: expected a non-empty subset of {list(PARTS)}')
    out = os.path.abspath(out)
    if os.path.exists(out) and not overwrite:
        raise FileExistsError(f'{out} already exists: pass overwrite=True (--overwrite) to replace it')
    with atomic_folders(out) as (tmp, ):
        meta = {
            'generator': 'segssl.synthetic',
            'version': 1,
            'seed': seed,
            'height': height,
            'width': width,
            'num_train': num_train,
            'num_val': num_val,
            'parts': list(parts),
            'classes': list(CITYSCAPES_CLASSES),
            'thing_classes': list(THING_CLASSES)
        }
        for part in parts:
            if part == 'coco':
                meta['coco_annotations'] = write_coco(tmp, num_train, num_val, height, width, seed)
            else:
                meta[f'{part}_pixels'] = write_cityscapes(tmp, part, num_train, num_val, height, width, seed)
        with open(os.path.join(tmp, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=1, sort_keys=True)
    return meta

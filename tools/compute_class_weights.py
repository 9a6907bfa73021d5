#!/usr/bin/env python
"""ENet class weights w = 1 / ln(c + p_class) (the ERFNet thesis, Eq. 4.1, c = 1.02) from a dataset's
label files, for mmseg's ``CrossEntropyLoss(class_weight=...)``.

    python tools/compute_class_weights.py data/cityscapes/gtFine/train --num-classes 19 \\
        --out work_dirs/class_weights/cityscapes_enet

p_class = pixels of the class / labelled pixels over every label file found (recursively, by
``--suffix``); pixels equal to ``--ignore-index`` (255) count in neither. Writes, atomically:

* ``OUT.json``: the list of K weights, read by mmseg's ``get_class_weight``:
  ``loss_decode=dict(type='ClassWeightedCrossEntropyLoss', class_weight='OUT.json')`` (segssl;
  mmseg 1.2.2's ``CrossEntropyLoss`` reads the same file but fails on ignored pixels);
* ``OUT.py``: a config snippet ``class_weight = [...]`` with the pixel counts and frequencies,
  for ``_base_`` inclusion or copying into a config.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

from segssl.cli import HelpFormatter, exit_on_bad_input
from segssl.core.class_weights import class_pixel_counts, enet_class_weights
from segssl.io.atomic import atomic_outputs

TOOL = 'compute_class_weights'


def read_label(path):
    """A label PNG as an (H, W) integer array; ValueError naming the file if it is not one."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            arr = np.array(im)
    except Exception as e:  # noqa: BLE001  (PIL raises many types)
        raise ValueError(f'{path}: cannot read as an image ({type(e).__name__}: {e})') from None
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f'{path}: expected a single-channel integer label map, found shape '
                         f'{arr.shape} dtype {arr.dtype} (use the *labelTrainIds.png files)')
    return arr


def compute(label_dir, num_classes, suffix='_gtFine_labelTrainIds.png', ignore_index=255, c=1.02):
    """``(files, counts, weights)`` for the label files under ``label_dir``."""
    if not os.path.isdir(label_dir):
        raise ValueError(f'{label_dir}: label folder does not exist')
    files = sorted(glob.glob(os.path.join(label_dir, '**', '*' + suffix), recursive=True))
    if not files:
        raise ValueError(f'{label_dir}: no label file ending in {suffix!r} (set --suffix)')
    counts = np.zeros(num_classes, dtype=np.int64)
    for f in files:
        label = read_label(f)  # its errors name the file already
        try:
            counts += class_pixel_counts([label], num_classes, ignore_index)
        except ValueError as e:
            raise ValueError(f'{f}: {str(e).replace("label map 0: ", "")}') from None
    return files, counts, enet_class_weights(counts, c)


def write(out, label_dir, files, counts, weights, c, ignore_index):
    freq = counts / counts.sum()
    snippet = (f'# ENet class weights w = 1 / ln({c} + p) (the ERFNet thesis, Eq. 4.1) from {len(files)} '
               f'label files under {label_dir}\n# (ignore_index {ignore_index} excluded); written '
               f'by tools/compute_class_weights.py\n'
               f'class_weight = {json.dumps([round(float(w), 6) for w in weights])}\n'
               f'class_pixel_counts = {json.dumps(counts.tolist())}\n'
               f'class_frequency = {json.dumps([round(float(p), 8) for p in freq])}\n')
    paths = [out + '.json', out + '.py']
    with atomic_outputs(*paths) as (tmp_json, tmp_py):
        with open(tmp_json, 'w') as f:
            json.dump([float(w) for w in weights], f)
        with open(tmp_py, 'w') as f:
            f.write(snippet)
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('label_dir', help='folder searched recursively for label files')
    p.add_argument('--num-classes', type=int, required=True, help='K (Cityscapes train ids: 19)')
    p.add_argument('--suffix', default='_gtFine_labelTrainIds.png', help='label file name ending')
    p.add_argument('--ignore-index', type=int, default=255, help='label value counted in no class')
    p.add_argument('--c', type=float, default=1.02,
                   help="ENet's c in w = 1 / ln(c + p_class) (the ERFNet thesis: 1.02)")
    p.add_argument('--out', required=True, help='output prefix: writes OUT.json and OUT.py')
    args = p.parse_args(argv)
    with exit_on_bad_input(TOOL):
        files, counts, weights = compute(args.label_dir, args.num_classes, args.suffix, args.ignore_index, args.c)
        paths = write(args.out, args.label_dir, files, counts, weights, args.c, args.ignore_index)
    print(f'{len(files)} label files, {int(counts.sum()):,} labelled pixels')
    for k, (n, w) in enumerate(zip(counts, weights)):
        print(f'  class {k:3d}  pixels {int(n):>12,}  p {n / counts.sum():.6f}  w {w:.4f}')
    for path in paths:
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

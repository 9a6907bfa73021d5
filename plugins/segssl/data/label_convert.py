"""Write mmseg-ready ``*_labelTrainIds.png`` files for GTA5 and SYNTHIA RAND-CITYSCAPES, the way
mmseg's ``tools/dataset_converters/cityscapes.py`` does for Cityscapes: one train-id PNG beside
each source label, then a split list (``train.txt``, one file stem per line) in the output folder.
Each PNG is written to a temporary file and renamed, so a label file is complete or absent.

Layouts (as the datasets are distributed)::

    GTA5:     ROOT/images/NNNNN.png      ROOT/labels/NNNNN.png        (palette PNG, Cityscapes ids)
    SYNTHIA:  ROOT/RGB/NNNNNNN.png       ROOT/GT/LABELS/NNNNNNN.png   (16-bit, R channel = id)

The command lines are ``tools/convert_gta5.py`` and ``tools/convert_synthia.py``.
"""
import os
from typing import Callable, List

import numpy as np
from PIL import Image

from segssl.data.uda_labels import GTA5_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, to_train_ids
from segssl.io.atomic import atomic_outputs

TRAIN_ID_SUFFIX = '_labelTrainIds.png'
LAYOUTS = {'gta5': ('images', 'labels'), 'synthia': ('RGB', os.path.join('GT', 'LABELS'))}


class LabelFormatError(ValueError):
    """A label file that is not in the format its dataset distributes."""


def read_gta5_ids(path: str) -> np.ndarray:
    """(H, W) Cityscapes label ids of a GTA5 label PNG (palette or 8-bit grey indices)."""
    with Image.open(path) as im:
        if im.mode not in ('P', 'L'):
            raise LabelFormatError(f'{path}: GTA5 label has mode {im.mode!r}, expected a palette (P) '
                                   'or grey (L) PNG of Cityscapes label ids')
        return np.array(im)


def read_synthia_ids(path: str) -> np.ndarray:
    """(H, W) SYNTHIA ids: the first (R) channel of a SYNTHIA RAND-CITYSCAPES label PNG."""
    import cv2
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)  # BGR order, uint16
    if arr is None:
        raise LabelFormatError(f'{path}: not a readable PNG')
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise LabelFormatError(f'{path}: SYNTHIA label has shape {arr.shape}, expected (H, W, 3) '
                               'with the class id in the first (R) channel')
    return arr[:, :, 2]


READERS = {'gta5': (read_gta5_ids, GTA5_ID_TO_TRAIN_ID), 'synthia': (read_synthia_ids, SYNTHIA_ID_TO_TRAIN_ID)}


def convert_label_file(src: str, read: Callable, table: dict) -> str:
    """Write ``<src stem>_labelTrainIds.png`` (uint8, L mode) beside ``src``; return its path."""
    dst = src[:-len('.png')] + TRAIN_ID_SUFFIX
    train_ids = to_train_ids(read(src), table)
    with atomic_outputs(dst) as (tmp, ):
        Image.fromarray(train_ids, mode='L').save(tmp, format='PNG')
    return dst


def source_labels(root: str, dataset: str) -> List[str]:
    """Sorted source label paths of ``dataset`` under ``root`` (train-id outputs excluded)."""
    if dataset not in LAYOUTS:
        raise ValueError(f'dataset={dataset!r}: expected one of {sorted(LAYOUTS)}')
    label_dir = os.path.join(root, LAYOUTS[dataset][1])
    if not os.path.isdir(label_dir):
        raise FileNotFoundError(f'{dataset}: label folder {label_dir!r} does not exist (expected the '
                                f'layout {LAYOUTS[dataset][0]}/ + {LAYOUTS[dataset][1]}/ under {root!r})')
    names = sorted(n for n in os.listdir(label_dir) if n.endswith('.png') and not n.endswith(TRAIN_ID_SUFFIX))
    if not names:
        raise FileNotFoundError(f'{dataset}: no label PNGs in {label_dir!r}')
    return [os.path.join(label_dir, n) for n in names]


def convert_dataset(root: str, dataset: str, out_dir: str = None, nproc: int = 1) -> List[str]:
    """Convert every label of ``dataset`` under ``root``; write ``out_dir/train.txt`` (default
    ``root``) with the file stems. Returns the written label paths."""
    read, table = READERS[dataset] if dataset in READERS else (None, None)
    srcs = source_labels(root, dataset)
    if nproc > 1:
        from multiprocessing import Pool
        with Pool(nproc) as pool:
            outs = pool.starmap(convert_label_file, [(s, read, table) for s in srcs])
    else:
        outs = [convert_label_file(s, read, table) for s in srcs]
    out_dir = out_dir or root
    os.makedirs(out_dir, exist_ok=True)
    split = os.path.join(out_dir, 'train.txt')
    with atomic_outputs(split) as (tmp, ):
        with open(tmp, 'w') as f:
            f.writelines(os.path.basename(s)[:-len('.png')] + '\n' for s in srcs)
    return outs


def main(dataset: str, argv=None) -> int:
    import argparse

    from segssl.cli import HelpFormatter
    parser = argparse.ArgumentParser(
        description=f'Convert {dataset.upper()} labels to Cityscapes '
        f'train ids ({TRAIN_ID_SUFFIX} beside each label)', formatter_class=HelpFormatter)
    parser.add_argument('root', help=f'{dataset} data path (with {LAYOUTS[dataset][0]}/ and {LAYOUTS[dataset][1]}/)')
    parser.add_argument('-o', '--out-dir', help='where train.txt goes (default: root)')
    parser.add_argument('--nproc', default=1, type=int, help='number of processes')
    args = parser.parse_args(argv)
    try:
        outs = convert_dataset(args.root, dataset, args.out_dir, args.nproc)
    except (FileNotFoundError, LabelFormatError, ValueError) as e:
        print(f'error: {e}')
        return 1
    print(f'wrote {len(outs)} train-id label files under {os.path.dirname(outs[0])}')
    return 0

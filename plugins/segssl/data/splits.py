"""Fixed, seeded label-fraction splits for semi-supervised training (the ClassMix/DACS thesis, 4.1.2).

A split is two files of image ids, one per line, in the form mmseg's ``ann_file`` reads
(``<id>`` + the dataset's ``img_suffix`` under its image folder):

    OUT/<fraction>/labelled.txt     ceil(fraction * N) ids: the labelled set
    OUT/<fraction>/unlabelled.txt   the other ids: the unlabelled pool (empty for 'full')
    OUT/meta.json                   dataset, seed, N, a hash of the sorted id list, counts

All fractions come from ONE seeded permutation of the sorted training ids (numpy
``default_rng(seed)``): the labelled set of a fraction is its first ceil(f N) ids, so the splits are
nested (1/30 within 1/8 within 1/4 ...) and the same on every machine. Cityscapes: 2975 ids ->
100 / 372 / 744 / 1488 / 2975 (the report's counts); VOC aug: 10,582 ids -> 106 / 212 / 530 /
1323 / 2646 / 10,582.
"""
import glob
import hashlib
import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

FRACTIONS = {
    'cityscapes': (('1-30', 1 / 30), ('1-8', 1 / 8), ('1-4', 1 / 4), ('1-2', 1 / 2), ('full', 1.0)),
    'voc_aug': (('1-100', 1 / 100), ('1-50', 1 / 50), ('1-20', 1 / 20), ('1-8', 1 / 8), ('1-4', 1 / 4), ('full', 1.0)),
    # your own data (README, "Your own data"): MYDATA/images/train/**/*.{jpg,png}
    'custom': (('1-30', 1 / 30), ('1-8', 1 / 8), ('1-4', 1 / 4), ('1-2', 1 / 2), ('full', 1.0)),
    # a COCO-format instance set ROOT/annotations/instances_train.json (segssl's synthetic coco/)
    'coco': (('1-30', 1 / 30), ('1-8', 1 / 8), ('1-4', 1 / 4), ('1-2', 1 / 2), ('full', 1.0)),
}
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def list_images(folder: str, extensions: Sequence[str] = IMAGE_EXTENSIONS) -> List[str]:
    """Sorted paths, relative to ``folder``, of the files under it (recursive, symlinks followed)
    whose names end in one of the lower-case ``extensions`` (any case); names starting with
    ``.`` are skipped, files and folders alike."""
    relative = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith('.')]
        rel_dir = os.path.relpath(dirpath, folder)
        for name in filenames:
            if not name.startswith('.') and name.lower().endswith(tuple(extensions)):
                relative.append(name if rel_dir == '.' else os.path.join(rel_dir, name))
    return sorted(relative)


CITYSCAPES_SUFFIX = '_leftImg8bit.png'


def _read_ids(path: str) -> List[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def list_train_ids(dataset: str, root: str) -> List[str]:
    """Sorted training ids of a dataset folder.

    cityscapes: ``root/leftImg8bit/train/<city>/<stem>_leftImg8bit.png`` -> ``<city>/<stem>``.
    coco: the ``file_name`` stems of ``root/annotations/instances_train.json``'s images.
    voc_aug: ``root/ImageSets/Segmentation/trainaug.txt`` (written by mmseg's voc_aug converter)
    or ``train_aug.txt`` if present, else the union of ``train.txt`` and ``aug.txt`` minus
    ``val.txt``."""
    if dataset not in FRACTIONS:
        raise ValueError(f'dataset={dataset!r}: expected one of {sorted(FRACTIONS)}')
    if not os.path.isdir(root):
        raise FileNotFoundError(f'dataset root {root!r} does not exist')
    if dataset == 'custom':
        folder = os.path.join(root, 'images', 'train')
        files = list_images(folder) if os.path.isdir(folder) else []
        if not files:
            raise FileNotFoundError(f'no images under {folder!r}: expected your own data\'s layout '
                                    'MYDATA/images/train/**/*.jpg|png (README, "Your own data")')
        return sorted(os.path.splitext(f)[0] for f in files)
    if dataset == 'coco':
        path = os.path.join(root, 'annotations', 'instances_train.json')
        if not os.path.isfile(path):
            raise FileNotFoundError(f'no {path!r}: expected a COCO-format set ROOT/annotations/instances_train.json')
        with open(path) as f:
            images = json.load(f).get('images') or []
        if not images:
            raise ValueError(f'{path!r} lists no images')
        return sorted(os.path.splitext(im['file_name'])[0] for im in images)
    if dataset == 'cityscapes':
        folder = os.path.join(root, 'leftImg8bit', 'train')
        files = glob.glob(os.path.join(folder, '*', '*' + CITYSCAPES_SUFFIX))
        if not files:
            raise FileNotFoundError(f'no {CITYSCAPES_SUFFIX} images under {folder!r}: expected the '
                                    'Cityscapes layout leftImg8bit/train/<city>/<id>_leftImg8bit.png')
        return sorted(os.path.relpath(f, folder)[:-len(CITYSCAPES_SUFFIX)] for f in files)
    sets = os.path.join(root, 'ImageSets', 'Segmentation')
    for name in ('trainaug.txt', 'train_aug.txt'):
        if os.path.isfile(os.path.join(sets, name)):
            return sorted(set(_read_ids(os.path.join(sets, name))))
    needed = [os.path.join(sets, n) for n in ('train.txt', 'aug.txt')]
    missing = [p for p in needed if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f'VOC aug id lists not found: {missing}; expected '
                                'ImageSets/Segmentation/trainaug.txt or train.txt + aug.txt '
                                "(mmseg's tools/dataset_converters/voc_aug.py writes both)")
    ids = set(_read_ids(needed[0])) | set(_read_ids(needed[1]))
    val = os.path.join(sets, 'val.txt')
    return sorted(ids - set(_read_ids(val)) if os.path.isfile(val) else ids)


def ids_hash(ids: Sequence[str]) -> str:
    return hashlib.sha256('\n'.join(sorted(ids)).encode()).hexdigest()


def make_splits(ids: Sequence[str], fractions: Sequence[Tuple[str, float]],
                seed: int = 0) -> Dict[str, Tuple[List[str], List[str]]]:
    """{name: (labelled ids, unlabelled ids)}, each sorted; labelled = first ceil(f N) of one
    seeded permutation of the sorted ids."""
    ids = sorted(set(ids))
    if not ids:
        raise ValueError('make_splits: no ids')
    order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    out = {}
    for name, f in fractions:
        if not 0 < f <= 1:
            raise ValueError(f'make_splits: fraction {name}={f}, expected (0, 1]')
        n = min(len(ids), math.ceil(f * len(ids) - 1e-9))
        out[name] = (sorted(order[:n]), sorted(order[n:]))
    return out


def write_splits(out: str, dataset: str, ids: Sequence[str], seed: int = 0,
                 fractions: Optional[Sequence[Tuple[str, float]]] = None) -> dict:
    """Write every fraction's labelled.txt / unlabelled.txt and meta.json under ``out``; all files
    appear together or not at all (temporaries renamed at the end). Returns the meta dict."""
    from segssl.io.atomic import atomic_outputs
    fractions = FRACTIONS[dataset] if fractions is None else fractions
    splits = make_splits(ids, fractions, seed)
    meta = dict(dataset=dataset, seed=seed, num_ids=len(set(ids)), ids_sha256=ids_hash(set(ids)), fractions={
        name: len(lab)
        for name, (lab, _) in splits.items()
    })
    files = {os.path.join(out, 'meta.json'): json.dumps(meta, indent=1, sort_keys=True) + '\n'}
    for name, (lab, unl) in splits.items():
        files[os.path.join(out, name, 'labelled.txt')] = ''.join(i + '\n' for i in lab)
        files[os.path.join(out, name, 'unlabelled.txt')] = ''.join(i + '\n' for i in unl)
    with atomic_outputs(*files) as tmps:
        for tmp, text in zip(tmps, files.values()):
            with open(tmp, 'w') as f:
                f.write(text)
    return meta


def check_data_list(data_list: Sequence[dict], where: str, keys: Sequence[str] = ('img_path', ),
                    shown: int = 3) -> None:
    """Raise a ValueError naming ``where`` (e.g. the ann_file) if the list is empty or any of
    ``keys`` of its items names a file that does not exist."""
    if not data_list:
        raise ValueError(f'{where}: no samples (an empty split file or folder)')
    for key in keys:
        missing = [d[key] for d in data_list if d.get(key) and not os.path.isfile(d[key])]
        if missing:
            raise ValueError(f'{where}: {len(missing)} of {len(data_list)} samples name a {key} that does not exist, '
                             f'e.g. {missing[:shown]}; the split file does not match this dataset (make it with '
                             'tools/make_label_splits.py for this data root)')

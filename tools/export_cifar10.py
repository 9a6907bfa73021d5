#!/usr/bin/env python
"""Export CIFAR-10's "python version" to the image folders segssl's SimCLR CIFAR-10 config reads.

    python tools/export_cifar10.py cifar-10-python.tar.gz                 # -> data/cifar10/{train,test}
    python tools/export_cifar10.py cifar-10-batches-py --out DIR --splits train [--overwrite]

SOURCE is the official archive (https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, read
without extracting it) or its extracted folder ``cifar-10-batches-py`` (or a folder holding that
folder), with ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and ``batches.meta``. Written:

    OUT/train/<class>/<index>.png    data_batch_1..5, 50,000 images (5,000 per class)
    OUT/test/<class>/<index>.png     test_batch, 10,000 images

``<class>`` is the name in ``batches.meta`` (airplane, automobile, bird, cat, deer, dog, frog,
horse, ship, truck); ``<index>`` is the image's position in its split, five digits, in batch
order (train 12345 = data_batch_2, row 2345), so an exported file leads back to its array row.
``configs/pretrain/simclr_r34-3x3stem_1xb256_cifar10-32px.py`` reads ``data/cifar10/train`` through
``UnlabelledImageFolder`` (labels unused); the class folders keep the labels for anything else.

Each row of a batch's ``data`` (uint8, 3072 values) is the red, then green, then blue 32x32
plane, row-major; the PNG is that (32, 32, 3) RGB array, losslessly.

The batch files are pickles, i.e. programs: they are read through segssl's restricted unpickler
(``segssl.io.safe_pickle``), which builds numpy arrays, lists, strings and numbers and
refuses any other import, never with plain ``pickle.load``. Every file is read and checked before
anything is written; a bad input ends with one line and exit code 2. Each split is written into
a hidden temporary folder beside its destination and renamed into place only when all its images
are written (all requested splits together), so ``OUT/train`` is complete or absent.
"""
import argparse
import os
import sys
import tarfile

import numpy as np

from segssl.cli import HelpFormatter, exit_on_bad_input
from segssl.io import safe_pickle
from segssl.io.atomic import atomic_folders

TOOL = 'export_cifar10'

SPLIT_FILES = {'train': tuple(f'data_batch_{i}' for i in range(1, 6)), 'test': ('test_batch', )}
META_FILE = 'batches.meta'
FOLDER = 'cifar-10-batches-py'
SIDE = 32
NUM_VALUES = 3 * SIDE * SIDE


class CifarInputError(ValueError):
    """The source is not CIFAR-10's python version (missing file, wrong content)."""


def _text(value):
    """A Python 2 ``str`` pickled by CIFAR's authors, read as ``str`` (latin-1) or ``bytes``."""
    return value.decode('latin1') if isinstance(value, bytes) else value


def _unpickle(fileobj, where):
    """The dict stored in one CIFAR pickle, keys as ``str``; refuses code and non-dicts."""
    try:
        obj = safe_pickle.load(fileobj, encoding='latin1')
    except safe_pickle.RefusedGlobal as e:
        raise CifarInputError(f'{where}: refused to load: its pickle imports {e.name}, which is not '
                              'CIFAR data (numpy arrays, lists, strings, numbers)') from None
    except Exception as e:  # noqa: BLE001 - any unpickling failure is one line about the file
        raise CifarInputError(f'{where}: not a readable pickle ({type(e).__name__}: '
                              f'{str(e).splitlines()[0] if str(e) else ""})') from None
    if not isinstance(obj, dict):
        raise CifarInputError(f'{where}: holds a {type(obj).__name__}, expected the dict of a '
                              'CIFAR-10 batch')
    return {_text(k): v for k, v in obj.items()}


class _Source:
    """Named members of the CIFAR-10 python version, from the .tar.gz or from a folder."""

    def __init__(self, path):
        self.path, self.tar, self.folder, self.members = path, None, None, {}
        if os.path.isdir(path):
            for folder in (path, os.path.join(path, FOLDER)):
                if os.path.isfile(os.path.join(folder, META_FILE)):
                    self.folder = folder
                    break
            else:
                raise CifarInputError(f'{path}: no {META_FILE} in this folder or in {FOLDER}/ under it: '
                                      f'expected the extracted {FOLDER} folder of CIFAR-10 (python version)')
        elif os.path.isfile(path):
            if not tarfile.is_tarfile(path):
                raise CifarInputError(f'{path}: not a tar archive: expected cifar-10-python.tar.gz '
                                      f'or its extracted {FOLDER} folder')
            self.tar = tarfile.open(path, 'r:*')
            for m in self.tar.getmembers():
                parent, name = os.path.split(m.name.rstrip('/'))
                if m.isfile() and os.path.basename(parent) == FOLDER:
                    self.members.setdefault(name, m)
        else:
            raise CifarInputError(f'{path}: no such file or folder: expected cifar-10-python.tar.gz '
                                  f'or its extracted {FOLDER} folder')

    def where(self, name):
        return f'{self.path}:{FOLDER}/{name}' if self.tar else os.path.join(self.folder, name)

    def missing(self, names):
        if self.tar:
            return [n for n in names if n not in self.members]
        return [n for n in names if not os.path.isfile(os.path.join(self.folder, n))]

    def load(self, name):
        if self.tar:
            with self.tar.extractfile(self.members[name]) as f:
                return _unpickle(f, self.where(name))
        with open(os.path.join(self.folder, name), 'rb') as f:
            return _unpickle(f, self.where(name))

    def close(self):
        if self.tar:
            self.tar.close()


def read_class_names(meta, where):
    """The ten class names of ``batches.meta``, checked to be usable as folder names."""
    names = meta.get('label_names')
    if not isinstance(names, (list, tuple)) or not names:
        raise CifarInputError(f'{where}: no label_names list (keys {sorted(meta)}): expected '
                              'CIFAR-10\'s batches.meta')
    names = [_text(n) for n in names]
    for n in names:
        if not isinstance(n, str) or not n or n in ('.', '..') or '/' in n or '\\' in n or n.startswith('.'):
            raise CifarInputError(f'{where}: label name {n!r} cannot be a folder name')
    if len(set(names)) != len(names):
        raise CifarInputError(f'{where}: label_names {names} repeat a name')
    return names


def read_batch(batch, where, num_classes):
    """(images (N, 32, 32, 3) uint8 RGB, labels (N,) int64) of one batch dict, checked."""
    data, labels = batch.get('data'), batch.get('labels')
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != NUM_VALUES:
        found = (f'{data.dtype} array of shape {data.shape}' if isinstance(data, np.ndarray) else type(data).__name__)
        raise CifarInputError(f'{where}: "data" is a {found}, expected a uint8 array of shape '
                              f'(N, {NUM_VALUES}) (keys {sorted(batch)})')
    if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != len(data):
        found = f'{len(labels)} labels' if hasattr(labels, '__len__') else repr(type(labels).__name__)
        raise CifarInputError(f'{where}: "labels" holds {found} for {len(data)} images: expected '
                              'one class index per image')
    labels = np.asarray(labels)
    if labels.size and (labels.dtype.kind not in 'iu' or labels.min() < 0 or labels.max() >= num_classes):
        raise CifarInputError(f'{where}: labels outside 0..{num_classes - 1} '
                              f'(found {labels.min()}..{labels.max()}, dtype {labels.dtype})')
    images = data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)


def read_cifar10(source, splits):
    """{split: (images (N, 32, 32, 3) uint8, labels (N,))} and the class names; every file is
    read and checked here, before anything is written."""
    src = _Source(source)
    try:
        needed = [META_FILE] + [n for s in splits for n in SPLIT_FILES[s]]
        missing = src.missing(needed)
        if missing:
            raise CifarInputError(f'{source}: missing {", ".join(missing)}: expected CIFAR-10\'s python '
                                  f'version ({", ".join(needed)})')
        names = read_class_names(src.load(META_FILE), src.where(META_FILE))
        out = {}
        for split in splits:
            parts = [read_batch(src.load(n), src.where(n), len(names)) for n in SPLIT_FILES[split]]
            out[split] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        return out, names
    finally:
        src.close()


def _write_split(folder, images, labels, names):
    from PIL import Image
    for c in names:
        os.makedirs(os.path.join(folder, c))
    width = max(5, len(str(len(images) - 1)))
    for i, (img, label) in enumerate(zip(images, labels)):
        Image.fromarray(np.ascontiguousarray(img)).save(  # (32, 32, 3) uint8: RGB
            os.path.join(folder, names[label], f'{i:0{width}d}.png'), format='PNG')


def export(data, names, out, overwrite=False):
    """Write ``out/<split>/<class>/<index>.png`` for every split in ``data``; all splits appear
    together, each complete (temporary folders renamed at the end). Returns {split: counts}."""
    dsts = {s: os.path.join(out, s) for s in data}
    existing = [d for d in dsts.values() if os.path.lexists(d)]
    if existing and not overwrite:
        raise FileExistsError(f'{", ".join(existing)} already exist(s): pass --overwrite to replace')
    with atomic_folders(*dsts.values()) as staged:
        for folder, (images, labels) in zip(staged, data.values()):
            _write_split(folder, images, labels, names)
    return {s: np.bincount(lab, minlength=len(names)).tolist() for s, (_, lab) in data.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('source', help=f'cifar-10-python.tar.gz, or its extracted {FOLDER} folder '
                   '(or a folder holding it)')
    p.add_argument('--out', default='data/cifar10',
                   help='output folder; the config reads OUT/train (default: data/cifar10)')
    p.add_argument('--splits', nargs='+', choices=sorted(SPLIT_FILES), default=['train', 'test'],
                   help='splits to export: train = data_batch_1..5, test = test_batch '
                   '(default: train test)')
    p.add_argument('--overwrite', action='store_true', default=False,
                   help='replace existing OUT/<split> folders (default: refuse and exit 2)')
    args = p.parse_args(argv)
    splits = list(dict.fromkeys(args.splits))
    with exit_on_bad_input(TOOL, (CifarInputError, FileExistsError)):
        existing = [os.path.join(args.out, s) for s in splits if os.path.lexists(os.path.join(args.out, s))]
        if existing and not args.overwrite:
            raise FileExistsError(f'{", ".join(existing)} already exist(s): pass --overwrite to replace')
        data, names = read_cifar10(args.source, splits)
        counts = export(data, names, args.out, overwrite=args.overwrite)
    for split, per_class in counts.items():
        print(f'wrote {os.path.join(args.out, split)}: {sum(per_class)} images, ' +
              ', '.join(f'{n} {c}' for n, c in zip(names, per_class)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

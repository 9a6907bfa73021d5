"""The unlabelled pretraining pool: many synthetic scenes, none of them labelled or validation ones.

The reports pretrain on a large unlabelled set that is not the labelled one (ImageNet, COCO 2014,
video frames) and fine-tune on a smaller labelled set. This is that regime at CPU scale: ``num``
street scenes in the target look, the same 19 classes and object kinds as the labelled sets, drawn
from their own random stream (stream 4 of ``seed``; the labelled, source and COCO sets use 1, 2
and 3), so no pool scene is a scene of ``segssl.synthetic.generate``. Layout under ``out``::

    images/pool_NNNNNN.png   the scenes, read by UnlabelledImageFolder(data_prefix=dict(img_path='images'))
    meta.json                the options used

Same options -> byte-identical files; the folder is built beside ``out`` and renamed into place
(never half-written). :func:`ensure_pool` makes it once and reuses it while the options match.
"""
import json
import os

import numpy as np
from PIL import Image

from segssl.io.atomic import atomic_folders

from .render import render
from .scenes import check_size, make_scene

POOL_STREAM = 4
MAX_POOL = 1_000_000


def pool_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of pool scene ``index`` (disjoint from the labelled sets' streams)."""
    return np.random.default_rng([seed, POOL_STREAM, 0, index])


def pool_image(seed: int, index: int, height: int, width: int) -> np.ndarray:
    """Pool scene ``index`` as an (H, W, 3) uint8 RGB image."""
    rng = pool_rng(seed, index)
    return render(make_scene(rng, height, width), rng, 'target')


def _options(num, height, width, seed):
    return {
        'generator': 'segssl.synthetic.pool',
        'version': 1,
        'num': num,
        'height': height,
        'width': width,
        'seed': seed
    }


def write_pool(out: str, num: int, height: int = 128, width: int = 256, seed: int = 0, overwrite: bool = False) -> dict:
    """Write ``num`` unlabelled scenes to ``out/images``; return the meta written to ``out/meta.json``."""
    if not isinstance(num, int) or not 0 < num <= MAX_POOL:
        raise ValueError(f'pool num={num!r}: expected an int in 1..{MAX_POOL}')
    check_size(height, width)
    out = os.path.abspath(out)
    if os.path.exists(out) and not overwrite:
        raise FileExistsError(f'{out} already exists: pass overwrite=True (--overwrite) to replace it')
    meta = _options(num, height, width, seed)
    with atomic_folders(out) as (tmp, ):
        os.makedirs(os.path.join(tmp, 'images'))
        for i in range(num):
            Image.fromarray(pool_image(seed, i, height, width)).save(os.path.join(tmp, 'images', f'pool_{i:06d}.png'),
                                                                     format='PNG', optimize=False)
        with open(os.path.join(tmp, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=1, sort_keys=True)
    return meta


def ensure_pool(out: str, num: int, height: int = 128, width: int = 256, seed: int = 0) -> bool:
    """Make the pool at ``out`` unless one with the same options is there; True if it was written.
    A pool made with other options is replaced; a folder that is not a pool is left alone (error)."""
    meta_path = os.path.join(out, 'meta.json')
    if os.path.exists(out):
        try:
            with open(meta_path) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict) or meta.get('generator') != 'segssl.synthetic.pool':
            raise FileExistsError(f'{out} exists and is not a segssl pool (no {meta_path} written by '
                                  'segssl.synthetic.pool): give another folder')
        if meta == _options(num, height, width, seed):
            return False
    write_pool(out, num, height, width, seed, overwrite=True)
    return True

"""Seeded random COCO subsets: an N-image train subset and disjoint val/test subsets, as COCO json.

The Mask R-CNN thesis fine-tunes on 20k random COCO 2017 train images and evaluates on 5k val / 5k test
images drawn from the same pool (a seeded split). ``make_coco_subsets`` writes
``<out>/<name>_{train,val,test}.json`` (each a complete COCO instances file holding only its
images and their annotations) and ``<out>/<name>_manifest.json`` (image root, seed, sizes),
all or nothing; ``segssl.detectron2.coco_subset.register_coco_subsets`` registers
``<name>_{train,val,test}`` with detectron2. Framework-free (json + numpy).

The draw: the source's image ids, sorted, are permuted by ``numpy.random.default_rng(seed)``;
train takes the first ``num_train``, val the next ``num_val``, test the next ``num_test``. So the
ids depend only on the seed and the set of ids (not on their order in the file), and the train
subset does not change when only val/test sizes change.
"""
import json
import os

import numpy as np

from segssl.io.atomic import atomic_outputs

SPLITS = ('train', 'val', 'test')


def choose_subset_ids(image_ids, sizes, seed):
    """Split ``image_ids`` into disjoint random subsets.

    Args:
        image_ids (Iterable[int]): distinct image ids.
        sizes (dict[str, int]): subset name -> number of images, drawn in this order.
        seed (int): numpy ``default_rng`` seed.

    Returns:
        dict[str, list[int]]: subset name -> sorted ids.

    Raises:
        ValueError: duplicate ids, a negative size, or more images asked than there are.
    """
    ids = sorted(image_ids)
    if len(set(ids)) != len(ids):
        raise ValueError('image ids are not unique')
    for split, n in sizes.items():
        if n < 0:
            raise ValueError(f'subset {split!r}: size {n} is negative')
    total = sum(sizes.values())
    if total > len(ids):
        asked = ' + '.join(f'{n} {s}' for s, n in sizes.items())
        raise ValueError(f'asked for {asked} = {total} images, but only {len(ids)} are available')
    order = np.random.default_rng(seed).permutation(len(ids))
    out, start = {}, 0
    for split, n in sizes.items():
        out[split] = sorted(ids[i] for i in order[start:start + n])
        start += n
    return out


def _load_coco(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'COCO annotation file {path!r} does not exist') from None
    except json.JSONDecodeError as e:
        raise ValueError(f'{path!r} is not valid JSON ({e})') from None
    if not isinstance(data, dict):
        raise ValueError(f'{path!r}: expected a COCO instances dict, found {type(data).__name__}')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{path!r}: expected a list under {key!r} (a COCO instances file)')
    return data


def default_image_root(src_json):
    """COCO's layout: ``annotations/instances_train2017.json`` -> ``<root>/train2017``."""
    stem = os.path.splitext(os.path.basename(src_json))[0]
    split = stem[len('instances_'):] if stem.startswith('instances_') else stem
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(src_json))), split)


def make_coco_subsets(src_json, out_dir, name='coco2017_subset', num_train=20000, num_val=5000, num_test=5000, seed=0,
                      image_root=None, only_annotated=False):
    """Write the seeded train/val/test subsets of ``src_json`` under ``out_dir``.

    Args:
        src_json (str): COCO instances json (the Mask R-CNN thesis: ``instances_train2017.json``).
        out_dir (str): output folder.
        name (str): dataset name prefix: files and detectron2 names ``<name>_{train,val,test}``.
        num_train, num_val, num_test (int): subset sizes (the Mask R-CNN thesis: 20000 / 5000 / 5000).
        seed (int): random seed of the draw.
        image_root (str | None): folder of the images; default :func:`default_image_root`.
        only_annotated (bool): draw only from images with at least one annotation.

    Returns:
        dict: the manifest written to ``<out_dir>/<name>_manifest.json``.
    """
    data = _load_coco(src_json)
    image_root = os.path.abspath(image_root or default_image_root(src_json))
    annotated = {a['image_id'] for a in data['annotations']}
    pool = [im['id'] for im in data['images'] if not only_annotated or im['id'] in annotated]
    sizes = dict(zip(SPLITS, (num_train, num_val, num_test)))
    try:
        chosen = choose_subset_ids(pool, sizes, seed)
    except ValueError as e:
        kind = 'annotated images' if only_annotated else 'images'
        raise ValueError(f'{src_json!r} ({len(pool)} {kind}): {e}') from None
    top = {k: v for k, v in data.items() if k not in ('images', 'annotations')}
    outputs, manifest = {}, {
        'name': name,
        'source': os.path.abspath(src_json),
        'image_root': image_root,
        'seed': seed,
        'only_annotated': only_annotated,
        'splits': {}
    }
    for split in SPLITS:
        keep = set(chosen[split])
        images = [im for im in data['images'] if im['id'] in keep]
        anns = [a for a in data['annotations'] if a['image_id'] in keep]
        fname = f'{name}_{split}.json'
        outputs[fname] = dict(top, images=images, annotations=anns)
        manifest['splits'][split] = {'json': fname, 'num_images': len(images), 'num_annotations': len(anns)}
    files = list(outputs) + [f'{name}_manifest.json']
    with atomic_outputs(*[os.path.join(out_dir, f) for f in files]) as tmps:
        for tmp, content in zip(tmps, list(outputs.values()) + [manifest]):
            with open(tmp, 'w') as f:
                json.dump(content, f)
    return manifest


def read_manifest(out_dir, name):
    """The manifest of subsets ``name`` in ``out_dir``; a clear error if it is missing."""
    path = os.path.join(out_dir, f'{name}_manifest.json')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'SEGSSL.COCO_SUBSET: {path!r} does not exist (DIR={out_dir!r}, NAME={name!r}); write '
                                f'it with `python tools/make_coco_subset.py instances_train2017.json {out_dir} '
                                f'--name {name}`')
    with open(path) as f:
        return json.load(f)

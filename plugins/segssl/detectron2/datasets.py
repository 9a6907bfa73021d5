"""Registration of segssl's synthetic COCO-format instance set with detectron2's catalogs."""
import os

from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.datasets import load_coco_json, register_coco_instances

SYNTHETIC_COCO = 'segssl_synthetic_coco'  # names: segssl_synthetic_coco_{train,val}


def register_coco_once(name, json_file, image_root, labelled=None):
    """``register_coco_instances(name, {}, json_file, image_root)``, idempotent: a name already
    registered for the same ``json_file`` (and ``labelled``) is kept, one registered for another is
    replaced. ``labelled``: a label split's labelled.txt (tools/make_label_splits.py --dataset coco);
    the set then holds only the images it lists. Returns ``name``."""
    if name in DatasetCatalog.list():
        meta = MetadataCatalog.get(name)
        if meta.get('json_file') == json_file and meta.get('labelled_ids_file') == labelled:
            return name
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    register_coco_instances(name, {}, json_file, image_root)
    if labelled:
        DatasetCatalog.remove(name)
        DatasetCatalog.register(
            name, lambda: labelled_images(load_coco_json(json_file, image_root, name), image_root, labelled))
        MetadataCatalog.get(name).set(labelled_ids_file=labelled)
    return name


def labelled_images(dicts, image_root, labelled):
    """The dataset dicts whose image (its path under ``image_root``, no extension) ``labelled`` lists;
    an id it lists that the set lacks is a one-line error."""
    with open(labelled) as f:
        keep = {line.strip() for line in f if line.strip()}
    kept = [d for d in dicts if os.path.splitext(os.path.relpath(d['file_name'], image_root))[0] in keep]
    if len(kept) != len(keep):
        raise ValueError(f'{labelled}: lists {len(keep)} images, {len(keep) - len(kept)} of them not in the set '
                         f'under {image_root!r}; expected the ids of its instances json (remake the split)')
    return kept


def _synthetic_files(root):
    coco = os.path.join(root, 'coco')
    return [(split, os.path.abspath(os.path.join(coco, 'annotations',
                                                 f'instances_{split}.json')), os.path.abspath(os.path.join(coco,
                                                                                                           split)))
            for split in ('train', 'val')]


def missing_synthetic_root(cfg):
    """The one-line problem when a config that names ``segssl_synthetic_coco_*`` datasets finds
    no synthetic COCO set under ``cfg.SEGSSL.SYNTHETIC_ROOT`` (or not its ``SEGSSL.LABEL_SPLIT``); '' when
    it is there or not used. tools/train_net.py checks this before launching (exit code 2, nothing written)."""
    split = cfg.SEGSSL.LABEL_SPLIT
    if split and f'{SYNTHETIC_COCO}_train' not in tuple(cfg.DATASETS.TRAIN):
        return (f'SEGSSL.LABEL_SPLIT {split!r}: it applies to {SYNTHETIC_COCO}_train only, and DATASETS.TRAIN is '
                f'{tuple(cfg.DATASETS.TRAIN)}; for your own COCO data use tools/make_coco_subset.py')
    if not any(n.startswith(SYNTHETIC_COCO) for n in tuple(cfg.DATASETS.TRAIN) + tuple(cfg.DATASETS.TEST)):
        return ''
    return _missing_message(cfg.SEGSSL.SYNTHETIC_ROOT, split)


def labelled_file(root, split):
    """The synthetic COCO train set's label split file (tools/make_label_splits.py ROOT/coco --dataset coco)."""
    return os.path.abspath(os.path.join(root, 'coco', 'splits', split, 'labelled.txt'))


def _missing_message(root, split=''):
    for _, json_file, image_root in _synthetic_files(root):
        if not os.path.isfile(json_file) or not os.path.isdir(image_root):
            return (f'synthetic COCO set not found under SEGSSL.SYNTHETIC_ROOT={root!r}: expected '
                    f'{json_file} and {image_root}; generate it with '
                    f'`python tools/make_synthetic_data.py {root}` or set SEGSSL.SYNTHETIC_ROOT to the '
                    'folder it wrote')
    if split and not os.path.isfile(labelled_file(root, split)):
        return (f'SEGSSL.LABEL_SPLIT {split!r}: {labelled_file(root, split)} not found; make the splits with '
                f'`python tools/make_label_splits.py {os.path.join(root, "coco")} --dataset coco`')
    return ''


def register_synthetic_coco(root, label_split=''):
    """Register ``segssl_synthetic_coco_{train,val}`` from ``<root>/coco`` (written by
    tools/make_synthetic_data.py); return the names. ``label_split`` (e.g. '1-8'): the train set
    holds only that split's labelled images (:func:`labelled_file`). Re-registering the same root
    and split is a no-op. A missing set or split raises FileNotFoundError (see :func:`missing_synthetic_root`)."""
    problem = _missing_message(root, label_split)
    if problem:
        raise FileNotFoundError(problem)
    names = []
    for split, json_file, image_root in _synthetic_files(root):
        labelled = labelled_file(root, label_split) if split == 'train' and label_split else None
        names.append(register_coco_once(f'{SYNTHETIC_COCO}_{split}', json_file, image_root, labelled))
    return names

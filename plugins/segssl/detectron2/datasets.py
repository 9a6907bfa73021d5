"""Registration of segssl's synthetic COCO-format instance set with detectron2's catalogs."""
import os

from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.datasets import register_coco_instances

SYNTHETIC_COCO = 'segssl_synthetic_coco'  # names: segssl_synthetic_coco_{train,val}


def register_coco_once(name, json_file, image_root):
    """``register_coco_instances(name, {}, json_file, image_root)``, idempotent: a name already
    registered for the same ``json_file`` is kept, one registered for another file is replaced.
    Returns ``name``."""
    if name in DatasetCatalog.list():
        if MetadataCatalog.get(name).get('json_file') == json_file:
            return name
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    register_coco_instances(name, {}, json_file, image_root)
    return name


def _synthetic_files(root):
    coco = os.path.join(root, 'coco')
    return [(split, os.path.abspath(os.path.join(coco, 'annotations',
                                                 f'instances_{split}.json')), os.path.abspath(os.path.join(coco,
                                                                                                           split)))
            for split in ('train', 'val')]


def missing_synthetic_root(cfg):
    """The one-line problem when a config that names ``segssl_synthetic_coco_*`` datasets finds
    no synthetic COCO set under ``cfg.SEGSSL.SYNTHETIC_ROOT``; '' when it is there or not used.
    tools/train_net.py checks this before launching (exit code 2, nothing written)."""
    if not any(n.startswith(SYNTHETIC_COCO) for n in tuple(cfg.DATASETS.TRAIN) + tuple(cfg.DATASETS.TEST)):
        return ''
    return _missing_message(cfg.SEGSSL.SYNTHETIC_ROOT)


def _missing_message(root):
    for _, json_file, image_root in _synthetic_files(root):
        if not os.path.isfile(json_file) or not os.path.isdir(image_root):
            return (f'synthetic COCO set not found under SEGSSL.SYNTHETIC_ROOT={root!r}: expected '
                    f'{json_file} and {image_root}; generate it with '
                    f'`python tools/make_synthetic_data.py {root}` or set SEGSSL.SYNTHETIC_ROOT to the '
                    'folder it wrote')
    return ''


def register_synthetic_coco(root):
    """Register ``segssl_synthetic_coco_{train,val}`` from ``<root>/coco`` (written by
    tools/make_synthetic_data.py); return the names. Re-registering the same root is a no-op.
    A missing set raises FileNotFoundError (see :func:`missing_synthetic_root`)."""
    problem = _missing_message(root)
    if problem:
        raise FileNotFoundError(problem)
    names = []
    for split, json_file, image_root in _synthetic_files(root):
        names.append(register_coco_once(f'{SYNTHETIC_COCO}_{split}', json_file, image_root))
    return names

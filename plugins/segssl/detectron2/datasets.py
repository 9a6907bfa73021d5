"""Registration of segssl's synthetic COCO-format instance set with detectron2's catalogs."""
import os

from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.datasets import register_coco_instances

SYNTHETIC_COCO = 'segssl_synthetic_coco'   # names: segssl_synthetic_coco_{train,val}


def register_synthetic_coco(root):
    """Register ``segssl_synthetic_coco_{train,val}`` from ``<root>/coco`` (written by
    tools/make_synthetic_data.py); return the names. Re-registering the same root is a no-op."""
    coco = os.path.join(root, 'coco')
    names = []
    for split in ('train', 'val'):
        name = f'{SYNTHETIC_COCO}_{split}'
        json_file = os.path.abspath(os.path.join(coco, 'annotations', f'instances_{split}.json'))
        image_root = os.path.abspath(os.path.join(coco, split))
        if not os.path.isfile(json_file) or not os.path.isdir(image_root):
            raise FileNotFoundError(
                f'synthetic COCO set not found under SEGSSL.SYNTHETIC_ROOT={root!r}: expected '
                f'{json_file} and {image_root}; generate it with '
                f'`python tools/make_synthetic_data.py {root}`')
        if name in DatasetCatalog.list():
            if MetadataCatalog.get(name).get('json_file') == json_file:
                names.append(name)
                continue
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)
        register_coco_instances(name, {}, json_file, image_root)
        names.append(name)
    return names

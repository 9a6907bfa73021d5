"""Registration of seeded COCO subsets (written by ``segssl.data.coco_subset.make_coco_subsets``,
tools/make_coco_subset.py) with detectron2's catalogs, for ``SEGSSL.COCO_SUBSET``."""
import os

from segssl.data.coco_subset import (SPLITS, choose_subset_ids, make_coco_subsets,  # noqa: F401
                                     read_manifest)


def register_coco_subsets(out_dir, name):
    """Register ``<name>_{train,val,test}`` with detectron2's catalogs; return the names.

    Re-registering the same files is a no-op.
    """
    from detectron2.data import DatasetCatalog, MetadataCatalog
    from detectron2.data.datasets import register_coco_instances
    manifest = read_manifest(out_dir, name)
    names = []
    for split, info in manifest['splits'].items():
        ds = f'{name}_{split}'
        json_file = os.path.abspath(os.path.join(out_dir, info['json']))
        if ds in DatasetCatalog.list():
            if MetadataCatalog.get(ds).get('json_file') == json_file:
                names.append(ds)
                continue
            DatasetCatalog.remove(ds)
            MetadataCatalog.remove(ds)
        register_coco_instances(ds, {}, json_file, manifest['image_root'])
        names.append(ds)
    return names

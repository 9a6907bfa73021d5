"""Registration of seeded COCO subsets (written by ``segssl.data.coco_subset.make_coco_subsets``,
tools/make_coco_subset.py) with detectron2's catalogs, for ``SEGSSL.COCO_SUBSET``."""
import os

from segssl.data.coco_subset import SPLITS, choose_subset_ids, make_coco_subsets, read_manifest  # noqa: F401


def register_coco_subsets(out_dir, name):
    """Register ``<name>_{train,val,test}`` with detectron2's catalogs; return the names.

    Re-registering the same files is a no-op.
    """
    from .datasets import register_coco_once
    manifest = read_manifest(out_dir, name)
    return [
        register_coco_once(f'{name}_{split}', os.path.abspath(os.path.join(out_dir, info['json'])),
                           manifest['image_root']) for split, info in manifest['splits'].items()
    ]

"""Your own data in one folder layout (README, "Your own data"):

    MYDATA/
      images/{train,val}/**/*.{jpg,png}   labelled images
      labels/{train,val}/**/*.png         label maps, same relative path and stem, ids 0..K-1, 255 ignore
      unlabelled/**/*.{jpg,png}           unlabelled images, any nesting (optional)
      source/{images,labels}/**/...       a labelled second domain for DACS (optional)
      classes.txt                         K class names, one a line

:func:`read_classes` reads ``classes.txt``; the templates in ``configs/custom/`` call it when the
config is parsed, so the class names and the heads' ``num_classes`` follow the file.
:class:`FolderSegDataset` is mmseg's ``BaseSegDataset`` over ``images/<split>`` +
``labels/<split>`` (any image extension, nested folders), with the classes of ``classes.txt``
(and a fixed palette) as its metainfo; ``ann_file`` (optional) lists the image ids to keep, one
relative path without extension per line, as ``tools/make_label_splits.py --dataset custom``
writes them. Unlabelled images are read by :class:`.image_folder.UnlabelledImageFolder`.
"""
import os
from typing import List, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .image_folder import IMAGE_EXTENSIONS, list_images

CLASSES_FILE = 'classes.txt'


def read_classes(root: str, name: str = CLASSES_FILE) -> Tuple[str, ...]:
    """The class names in ``root/name``, one a line (blank lines and surrounding spaces ignored).
    One-line errors for a missing file, no names, duplicates, or more than 255 classes (255 is the
    ignore label)."""
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found: your own data needs {name} with one class name a line '
                                f'(set SEGSSL_DATA_ROOT to the folder that holds images/, labels/ and {name})')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise ValueError(f'{path} names no class: expected one class name a line')
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'{path}: class names {dup} appear more than once')
    if len(names) > 255:
        raise ValueError(f'{path} names {len(names)} classes; at most 255 (id 255 is the ignore label)')
    return tuple(names)


def palette(k: int) -> List[List[int]]:
    """A fixed palette of ``k`` distinct colours (the same on every machine)."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(k, 3)).tolist()


@DATASETS.register_module()
class FolderSegDataset(BaseSegDataset):
    """Images under ``data_root/data_prefix['img_path']`` (recursive, ``extensions``) with label
    maps at the same relative path and stem, ``.png``, under ``data_prefix['seg_map_path']``.

    Args:
        data_root (str): the data folder (MYDATA).
        data_prefix (dict): ``img_path`` and ``seg_map_path`` relative to ``data_root``. Default
            ``images/train`` and ``labels/train``.
        classes_root (str, optional): the folder holding ``classes.txt``. Default ``data_root``
            (the DACS source domain passes MYDATA while its images are under MYDATA/source).
        ann_file (str): optional list of image ids (relative path without extension) to keep,
            relative to ``data_root``. Default '' (all images).
        with_labels (bool): pair every image with its label map (a missing one is an error naming
            it); False for the target domain of DACS. Default True.
        **kwargs: the rest of mmseg's ``BaseSegDataset`` (``pipeline``, ``test_mode`` ...).
    """

    def __init__(self, data_root: str, data_prefix: dict = None, classes_root: str = None, ann_file: str = '',
                 with_labels: bool = True, extensions=IMAGE_EXTENSIONS, **kwargs):
        classes = read_classes(classes_root or data_root)
        self.with_labels = with_labels
        self.extensions = tuple(e.lower() for e in extensions)
        prefix = dict(dict(img_path='images/train', seg_map_path='labels/train'), **(data_prefix or {}))
        super().__init__(data_root=data_root, data_prefix=prefix, ann_file=ann_file,
                         metainfo=dict(classes=classes, palette=palette(len(classes))), img_suffix='',
                         seg_map_suffix='.png', reduce_zero_label=False, **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir, seg_dir = self.data_prefix['img_path'], self.data_prefix['seg_map_path']
        if not os.path.isdir(img_dir):
            raise FileNotFoundError(f'FolderSegDataset: image folder {img_dir} does not exist (expected '
                                    'MYDATA/images/<split>/*.jpg|png; see the README, "Your own data")')
        images = list_images(img_dir, self.extensions)
        by_id = {os.path.splitext(rel)[0]: rel for rel in images}
        if self.ann_file:
            with open(self.ann_file) as f:
                wanted = [line.strip() for line in f if line.strip()]
            unknown = [i for i in wanted if i not in by_id]
            if unknown:
                raise FileNotFoundError(f'FolderSegDataset: {self.ann_file} lists {len(unknown)} id(s) without an '
                                        f'image under {img_dir}, e.g. {unknown[0]!r}')
            ids = wanted
        else:
            ids = sorted(by_id)
        out = []
        for i in ids:
            item = dict(img_path=os.path.join(img_dir, by_id[i]), label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label, seg_fields=[])
            if self.with_labels:
                seg = os.path.join(seg_dir, i + self.seg_map_suffix)
                if not os.path.isfile(seg):
                    raise FileNotFoundError(f'FolderSegDataset: no label map {seg} for image {item["img_path"]} '
                                            f'(labels are PNGs with the image\'s relative path and stem)')
                item['seg_map_path'] = seg
            out.append(item)
        return out


def custom_datasets(root: str, crop, scale, ratio_range=(0.5, 2.0), split: str = 'all') -> dict:
    """The dataset dicts of the ``configs/custom/`` templates for MYDATA = ``root``, read when a
    config is parsed: ``classes`` and ``num_classes`` (from classes.txt), ``labelled``
    (images/train + labels/train, or the ids of ``splits/<split>/labelled.txt`` when ``split``
    is not 'all': ``tools/make_label_splits.py MYDATA --dataset custom``), ``unlabelled`` (unlabelled/,
    any nesting; without that folder, images/train read without labels, or the split's
    unlabelled ids), ``val`` (images/val + labels/val), ``source`` (source/images + source/labels,
    for DACS) and ``target`` (images/train without labels). Training pipelines: random resize of
    ``scale`` by ``ratio_range``, random ``crop``, flip; validation: resize to ``scale``. Every dict
    carries ``_delete_=True``, so it replaces the dataset of the config it is merged into."""
    classes = read_classes(root)
    split = '' if split == 'all' else split
    h, w = crop
    labelled_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=scale, ratio_range=ratio_range, keep_ratio=True),
        dict(type='RandomCrop', crop_size=(h, w), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')
    ]
    image_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResize', scale=scale, ratio_range=ratio_range, keep_ratio=True),
        dict(type='RandomCrop', crop_size=(h, w)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')
    ]
    val_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    folder = dict(_delete_=True, type='FolderSegDataset', data_root=root)
    return dict(
        classes=classes, num_classes=len(classes),
        labelled=dict(folder, ann_file=f'splits/{split}/labelled.txt' if split else '', pipeline=labelled_pipeline),
        unlabelled=(dict(_delete_=True, type='UnlabelledImageFolder', data_root=root, data_prefix=dict(
            img_path='unlabelled'), pipeline=image_pipeline) if os.path.isdir(os.path.join(root, 'unlabelled')) else
                    dict(folder, with_labels=False, ann_file=f'splits/{split}/unlabelled.txt' if split else '',
                         pipeline=image_pipeline)),
        val=dict(folder, data_prefix=dict(img_path='images/val', seg_map_path='labels/val'), pipeline=val_pipeline,
                 test_mode=True), source=dict(folder, data_root=os.path.join(root, 'source'), classes_root=root,
                                              data_prefix=dict(img_path='images',
                                                               seg_map_path='labels'), pipeline=labelled_pipeline),
        target=dict(folder, with_labels=False, pipeline=image_pipeline))

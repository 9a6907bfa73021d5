"""Unlabelled images for self-supervised pretraining: every image file under one folder.

    train_dataloader = dict(
        batch_size=64, num_workers=8,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='UnlabelledImageFolder', data_root='data/imagenet',
                     data_prefix=dict(img_path='train'),        # train/<wnid>/*.JPEG
                     pipeline=[dict(type='LoadImageFromFile'), ...]))

Cityscapes as pretraining data: ``data_root='data/cityscapes'``,
``data_prefix=dict(img_path='leftImg8bit/train')`` (``<city>/*_leftImg8bit.png``).
The folder is searched recursively (symlinks followed); files and folders whose names start with
``.`` are skipped. Items are ``dict(img_path=...)`` in sorted relative-path order, so the list is
the same on every machine and every rank.
"""
import os
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from segssl.data.splits import IMAGE_EXTENSIONS, list_images  # noqa: F401  (re-exported)


@DATASETS.register_module()
class UnlabelledImageFolder(BaseDataset):
    """All images under ``data_root/data_prefix['img_path']``, recursively, without labels.

    Args:
        data_root (str): root joined with a relative ``img_path`` prefix.
        data_prefix (dict): ``dict(img_path=FOLDER)``; FOLDER relative to ``data_root`` or
            absolute. Default ``dict(img_path='')`` (``data_root`` itself).
        extensions (sequence of str): file extensions counted as images, compared
            case-insensitively (``.JPEG`` matches ``.jpeg``). Default
            ``('.jpg', '.jpeg', '.png', '.bmp', '.webp')``.
        max_images (int, optional): keep only the first ``max_images`` files of the sorted
            list (a quick subset; with ImageNet's layout this takes the first classes — use
            mmengine's ``indices`` or a shuffled sampler for anything else). Default: all.
        **kwargs: the rest of :class:`mmengine.dataset.BaseDataset` (``pipeline``,
            ``indices``, ``serialize_data``, ``lazy_init``, ``test_mode`` ...). ``ann_file`` is
            not used.
    """

    METAINFO = dict()

    def __init__(self, data_root: str = '', data_prefix: dict = dict(img_path=''),
                 extensions: Sequence[str] = IMAGE_EXTENSIONS, max_images: Optional[int] = None, **kwargs):
        if isinstance(extensions, str):
            extensions = (extensions, )
        exts = []
        for ext in extensions:
            if not isinstance(ext, str) or not ext.strip('.'):
                raise ValueError(f'UnlabelledImageFolder: extensions={list(extensions)!r}: '
                                 'expected file extensions such as ".jpg"')
            exts.append('.' + ext.lower().lstrip('.'))
        if not exts:
            raise ValueError('UnlabelledImageFolder: extensions is empty: expected at least one '
                             'file extension such as ".jpg"')
        self.extensions = tuple(exts)
        if max_images is not None and (isinstance(max_images, bool) or int(max_images) != max_images or max_images < 1):
            raise ValueError(f'UnlabelledImageFolder: max_images={max_images!r}: expected a '
                             'positive integer or None')
        self.max_images = None if max_images is None else int(max_images)
        if 'img_path' not in data_prefix:
            raise KeyError(f'UnlabelledImageFolder: data_prefix={data_prefix!r} has no '
                           "'img_path' key: expected dict(img_path=FOLDER)")
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root or '', data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Return ``[dict(img_path=PATH), ...]`` for every image file, sorted by relative path."""
        folder = self.data_prefix['img_path'] or '.'
        if not os.path.isdir(folder):
            what = 'does not exist' if not os.path.exists(folder) else 'is not a folder'
            raise FileNotFoundError(f'UnlabelledImageFolder: image folder {folder!r} {what} (data_root='
                                    f'{self.data_root!r}, data_prefix={self.data_prefix!r}): expected a folder of '
                                    'images, e.g. ImageNet train/<class>/*.JPEG or Cityscapes leftImg8bit/train')
        relative = list_images(folder, self.extensions)
        if not relative:
            raise FileNotFoundError(f'UnlabelledImageFolder: no image under {folder!r} (searched recursively): '
                                    f'expected files ending in one of {list(self.extensions)} (any case)')
        if self.max_images is not None:
            relative = relative[:self.max_images]
        return [dict(img_path=os.path.join(folder, rel)) for rel in relative]

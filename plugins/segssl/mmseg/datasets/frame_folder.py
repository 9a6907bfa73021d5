"""Videos as folders of frames, for the SimCLR report's video anchor loss.

    data_root/VIDEO_A/frame_000.png, frame_001.png, ...     (one folder per video; nested
    data_root/VIDEO_B/...                                     folders such as class/video/ work)

Every folder that directly holds at least ``min_frames`` image files is one video; its frames are
its image files in sorted name order (zero-padded numbers sort in time order). An item is
``dict(frame_paths=[...], video=RELATIVE_FOLDER)``; ``SampleFrameClip`` then picks the anchor
frame and the following ones at load time, so each epoch sees new anchors::

    dataset=dict(type='FrameFolderDataset', data_root='data/animal_kingdom_frames',
                 data_prefix=dict(img_path=''), min_frames=4,
                 pipeline=[dict(type='SampleFrameClip', num_frames=3, frame_interval=1),
                           dict(type='FrameClipViews', size=64),
                           dict(type='PackFrameClip')])
"""
import os
from typing import List, Sequence

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from .image_folder import IMAGE_EXTENSIONS


@DATASETS.register_module()
class FrameFolderDataset(BaseDataset):
    """One item per video folder under ``data_root/data_prefix['img_path']``.

    Args:
        data_prefix: ``dict(img_path=FOLDER)`` (default ``''``: data_root itself).
        min_frames: folders with fewer image files are skipped (set it to 1 + p * interval of
            the clip sampler, so every video can give a clip). Default 2.
        extensions: image file extensions, case-insensitive.
    """

    METAINFO = dict()

    def __init__(self, data_root: str = '', data_prefix: dict = dict(img_path=''), min_frames: int = 2,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS, **kwargs):
        if not isinstance(min_frames, int) or min_frames < 1:
            raise ValueError(f'FrameFolderDataset: min_frames={min_frames!r}, expected an int >= 1')
        if 'img_path' not in data_prefix:
            raise KeyError(f'FrameFolderDataset: data_prefix={data_prefix!r} has no \'img_path\' key')
        self.min_frames = min_frames
        self.extensions = tuple('.' + e.lower().lstrip('.') for e in extensions)
        kwargs.setdefault('ann_file', '')
        super().__init__(data_root=data_root or '', data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = self.data_prefix['img_path'] or '.'
        if not os.path.isdir(folder):
            raise FileNotFoundError(f'FrameFolderDataset: video folder {folder!r} does not exist or is '
                                    f'not a folder (data_root={self.data_root!r}): expected one '
                                    'sub-folder of frames per video')
        items, short = [], 0
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            frames = sorted(f for f in filenames if not f.startswith('.') and f.lower().endswith(self.extensions))
            if not frames:
                continue
            if len(frames) < self.min_frames:
                short += 1
                continue
            items.append(
                dict(frame_paths=[os.path.join(dirpath, f) for f in frames], video=os.path.relpath(dirpath, folder)))
        items.sort(key=lambda d: d['video'])
        if not items:
            raise FileNotFoundError(f'FrameFolderDataset: no video under {folder!r}: expected '
                                    f'folders holding >= {self.min_frames} image files '
                                    f'({short} folder(s) had fewer)')
        return items

"""Synthetic "videos" for the video anchor loss (the SimCLR report): folders of frames, each frame a
shifted crop of one synthetic street scene, as a camera panning across it.

    out/video_000/frame_000.png ... frame_{T-1}.png
    out/video_001/...

Frame t of a video is the (height, width) window at column offset t * shift (row offset
t * shift // 2) of a scene of (height + (T - 1) * shift // 2, width + (T - 1) * shift) pixels,
so consecutive frames share most of their content and frames further apart share less.
Deterministic: the same arguments give byte-identical files. The folder appears only complete.
"""
import os
from typing import Dict

import numpy as np
from PIL import Image

from segssl.io.atomic import atomic_folders

from .render import render
from .scenes import check_size, make_scene

__all__ = ['generate_frame_folders']


def generate_frame_folders(out: str, num_videos: int = 8, num_frames: int = 8, height: int = 64, width: int = 64,
                           shift: int = 4, seed: int = 0, overwrite: bool = False) -> Dict:
    """Write ``num_videos`` folders of ``num_frames`` PNG frames (height x width, RGB) under ``out``;
    return a summary dict. shift: pixels the window moves right per frame (and shift // 2 down)."""
    for name, value, low in (('num_videos', num_videos, 1), ('num_frames', num_frames, 1), ('shift', shift, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f'generate_frame_folders: {name}={value!r}, expected an integer >= {low}')
    scene_h, scene_w = height + (num_frames - 1) * shift // 2, width + (num_frames - 1) * shift
    check_size(scene_h, scene_w)
    check_size(height, width)
    out = os.path.abspath(out)
    if os.path.exists(out) and not overwrite:
        raise FileExistsError(f'{out} already exists: pass overwrite=True to replace it')
    with atomic_folders(out) as (tmp, ):
        for v in range(num_videos):
            rng = np.random.default_rng([seed, 7, v])
            scene = render(make_scene(rng, scene_h, scene_w), rng, 'target')
            folder = os.path.join(tmp, f'video_{v:03d}')
            os.makedirs(folder)
            for t in range(num_frames):
                y, x = t * shift // 2, t * shift
                Image.fromarray(scene[y:y + height, x:x + width]).save(os.path.join(folder, f'frame_{t:03d}.png'),
                                                                       format='PNG', optimize=False)
    return dict(out=out, num_videos=num_videos, num_frames=num_frames, height=height, width=width, shift=shift,
                seed=seed)

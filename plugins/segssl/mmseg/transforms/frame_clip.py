"""Clip transforms for the SimCLR report's video anchor loss: sample an anchor frame x_0 and the p frames
after it, augment each like a SimCLR view, pack them as (1 + p, 3, H, W)."""
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement
from mmseg.registry import TRANSFORMS

from .two_view_crop import INTERPOLATIONS, sample_resized_crop_box
from .view_color_augment import ViewColorAugment


@TRANSFORMS.register_module()
class SampleFrameClip(BaseTransform):
    """Pick the anchor index t_0 uniformly in [0, T - 1 - p * interval] of a video's T frames
    (``results['frame_paths']`` from FrameFolderDataset) and load frames t_0 + i * interval,
    i = 0..p, as BGR uint8 (H, W, 3) arrays (mmcv.imread, like LoadImageFromFile).

    Args:
        num_frames: p, the frames after the anchor (3).
        frame_interval: step between sampled frames (1: successive frames, as the SimCLR report's x_1..x_p
            "successive set of images"; its folders kept one frame in 100 of the video).
    Adds ``frames`` (list of 1 + p arrays, anchor first), ``frame_indices`` (int64 (1 + p,)).
    """

    def __init__(self, num_frames: int = 3, frame_interval: int = 1):
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'SampleFrameClip: num_frames={num_frames!r}, expected an int >= 1')
        if not isinstance(frame_interval, int) or frame_interval < 1:
            raise ValueError(f'SampleFrameClip: frame_interval={frame_interval!r}, expected an int >= 1')
        self.num_frames, self.frame_interval = num_frames, frame_interval

    def transform(self, results: Dict) -> Optional[Dict]:
        paths = results.get('frame_paths')
        span = self.num_frames * self.frame_interval
        if not paths or len(paths) <= span:
            raise ValueError(f'SampleFrameClip: video {results.get("video")!r} has '
                             f'{len(paths or [])} frames; a clip of 1 + {self.num_frames} frames '
                             f'{self.frame_interval} apart needs > {span} (set the dataset\'s '
                             f'min_frames to {span + 1})')
        t0 = np.random.randint(0, len(paths) - span)
        idx = t0 + self.frame_interval * np.arange(self.num_frames + 1)
        frames = []
        for i in idx:
            img = mmcv.imread(paths[i], channel_order='bgr')
            if img is None:
                raise FileNotFoundError(f'SampleFrameClip: cannot read frame {paths[i]!r}')
            frames.append(img)
        results['frames'], results['frame_indices'] = frames, idx.astype(np.int64)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames}, frame_interval={self.frame_interval})'


@TRANSFORMS.register_module()
class FrameClipViews(BaseTransform):
    """Each frame independently: random resized crop to ``size`` (TwoViewCrop's box sampler),
    horizontal flip with ``flip_prob``, then ViewColorAugment's colour / grey / blur / solarize
    recipe with ``color`` (probabilities must be single numbers: every frame is treated alike).

    Args:
        size, scale, ratio, flip_prob, interpolation: as TwoViewCrop.
        color: kwargs of ViewColorAugment (default: SimCLR's, jitter 0.8/0.8/0.8/0.2 with p 0.8,
            grey p 0.2, blur p 0.5, no solarize).
    """

    def __init__(self, size: int = 64, scale: Sequence[float] = (0.08, 1.0), ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5, interpolation: str = 'bilinear', color: Optional[dict] = None):
        color = dict(
            dict(jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2, grayscale_prob=0.2,
                 blur_prob=0.5, solarize_prob=0.0), **(color or {}))
        for k in ('jitter_prob', 'grayscale_prob', 'blur_prob', 'solarize_prob'):
            if not isinstance(color[k], (int, float)):
                raise ValueError(f'FrameClipViews: color[{k!r}]={color[k]!r}: expected one '
                                 'probability for every frame')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'FrameClipViews: interpolation={interpolation!r}, expected one of '
                             f'{sorted(INTERPOLATIONS)}')
        self.size, self.scale, self.ratio = int(size), tuple(scale), tuple(ratio)
        self.flip_prob, self.interpolation = flip_prob, interpolation
        self.color = ViewColorAugment(**color)

    def transform(self, results: Dict) -> Optional[Dict]:
        frames = results.get('frames')
        if not frames:
            raise KeyError('FrameClipViews: results["frames"] is missing (run SampleFrameClip first)')
        out = []
        for img in frames:
            h, w = img.shape[:2]
            x1, y1, x2, y2 = sample_resized_crop_box(h, w, self.scale, self.ratio)
            view = cv2.resize(img[y1:y2, x1:x2], (self.size, self.size),
                              interpolation=INTERPOLATIONS[self.interpolation])
            if np.random.rand() < self.flip_prob:
                view = view[:, ::-1]
            out.append(self.color.augment(np.ascontiguousarray(view), 0))
        results['frames'] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, ratio={self.ratio}, '
                f'flip_prob={self.flip_prob}, color={self.color!r})')


@TRANSFORMS.register_module()
class PackFrameClip(BaseTransform):
    """``inputs``: uint8 (1 + p, 3, H, W), anchor first, channels in the image order (BGR);
    ``data_samples``: BaseDataElement with metainfo ``video`` and ``frame_indices``. Use the
    model's ``PixelViewsDataPreProcessor(num_views=1 + p)``."""

    def transform(self, results: Dict) -> Optional[Dict]:
        frames = results.get('frames')
        if not frames:
            raise KeyError('PackFrameClip: results["frames"] is missing (run SampleFrameClip first)')
        shapes = {f.shape for f in frames}
        if len(shapes) != 1:
            raise ValueError(f'PackFrameClip: frames differ in shape {sorted(shapes)}: resize them '
                             '(FrameClipViews) first')
        x = torch.from_numpy(np.ascontiguousarray(np.stack(frames).transpose(0, 3, 1, 2)))
        meta = {k: results[k] for k in ('video', 'frame_indices') if k in results}
        return dict(inputs=x, data_samples=BaseDataElement(metainfo=meta))

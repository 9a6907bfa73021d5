"""Two RandomResizedCrop views of one image, with their boxes and flips (the PixPro thesis, 2.4.1 / 3.1)."""
import math
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA
}


def sample_resized_crop_box(height: int, width: int, scale: Sequence[float] = (0.08, 1.0),
                            ratio: Sequence[float] = (3 / 4, 4 / 3), max_attempts: int = 10,
                            rng=None) -> Tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop box: (x1, y1, x2, y2) integer pixels of an H x W image.

    Area fraction ~ U(scale), aspect w/h log-uniform in ``ratio``, position uniform where it
    fits; after ``max_attempts`` misses, the largest centred box with aspect clamped to ``ratio``
    (torchvision's fallback). ``rng``: ``np.random`` (default: the global state) or a
    RandomState/Generator (only ``uniform`` is used).
    """
    rng = np.random if rng is None else rng
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(max_attempts):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            y = min(int(rng.uniform(0, height - h + 1)), height - h)
            x = min(int(rng.uniform(0, width - w + 1)), width - w)
            return x, y, x + w, y + h
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    x, y = (width - w) // 2, (height - h) // 2
    return x, y, x + w, y + h


@TRANSFORMS.register_module()
class TwoViewCrop(BaseTransform):
    """Two random resized crops v1, v2 of ``results['img']``, each flipped horizontally with
    probability ``flip_prob`` after cropping (PixPro / the PixPro thesis: two 224 x 224 crops).

    The crop of box (x1, y1, x2, y2) (integer pixels, x2/y2 exclusive) is resized to size x size,
    so view pixel (col c, row r) has its centre at original-image point
    ``(x1 + (c + 0.5) (x2 - x1) / size, y1 + (r + 0.5) (y2 - y1) / size)`` (continuous pixel
    coordinates, pixel centres at +0.5), or ``x2 - (c + 0.5) (x2 - x1) / size`` when flipped:
    exactly what ``segssl.core.lattice_from_boxes`` assumes.

    Args:
        size: view side in pixels (seed: 224).
        scale: range of the crop's area fraction (seed default (0.08, 1.0)).
        ratio: range of the crop's aspect w / h, log-uniform (torchvision default (3/4, 4/3)).
        flip_prob: probability of a horizontal flip per view (0.5).
        interpolation: 'bilinear' (cv2.INTER_LINEAR, default), 'bicubic', 'area' or 'nearest'.

    Reads ``img`` (H, W, C) (uint8 from LoadImageFromFile). Adds:
        ``views``: [v1, v2], each (size, size, C), dtype of ``img``;
        ``view_boxes``: float32 (2, 4) (x1, y1, x2, y2) in original-image pixels;
        ``view_flips``: bool (2,); ``view_warps``: float32 (2, 2, 3) identity (AffineView sets them);
        ``view_size``: (size, size).
    Randomness: numpy's global state (seeded by mmengine per worker), like mmcv's transforms.
    """

    def __init__(self, size: int = 224, scale: Sequence[float] = (0.08, 1.0), ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5, interpolation: str = 'bilinear'):
        if not (isinstance(size, (int, np.integer)) and size > 0):
            raise ValueError(f'TwoViewCrop: size={size!r}, expected a positive int')
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'TwoViewCrop: scale={scale!r}, expected 0 < min <= max <= 1')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'TwoViewCrop: ratio={ratio!r}, expected 0 < min <= max')
        if not 0 <= flip_prob <= 1:
            raise ValueError(f'TwoViewCrop: flip_prob={flip_prob!r}, expected a probability')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'TwoViewCrop: interpolation={interpolation!r}, expected one of '
                             f'{sorted(INTERPOLATIONS)}')
        self.size, self.scale, self.ratio = int(size), tuple(scale), tuple(ratio)
        self.flip_prob, self.interpolation = flip_prob, interpolation

    def _view(self, img: np.ndarray) -> Tuple[np.ndarray, Tuple[int, int, int, int], bool]:
        x1, y1, x2, y2 = sample_resized_crop_box(img.shape[0], img.shape[1], self.scale, self.ratio)
        view = cv2.resize(img[y1:y2, x1:x2], (self.size, self.size), interpolation=INTERPOLATIONS[self.interpolation])
        if view.ndim == 2 and img.ndim == 3:
            view = view[:, :, None]
        flip = bool(np.random.rand() < self.flip_prob)
        if flip:
            view = view[:, ::-1]
        return np.ascontiguousarray(view), (x1, y1, x2, y2), flip

    def transform(self, results: Dict) -> Optional[Dict]:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise KeyError(f'TwoViewCrop: results["img"] must be an (H, W, C) array (load it with '
                           f'LoadImageFromFile first), got {type(img).__name__} '
                           f'{getattr(img, "shape", "")} for {results.get("img_path")}')
        views, boxes, flips = [], [], []
        for _ in range(2):
            v, b, f = self._view(img)
            views.append(v)
            boxes.append(b)
            flips.append(f)
        results['views'] = views
        results['view_boxes'] = np.asarray(boxes, dtype=np.float32)
        results['view_flips'] = np.asarray(flips, dtype=bool)
        results['view_warps'] = np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1))
        results['view_size'] = (self.size, self.size)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, flip_prob={self.flip_prob}, '
                f'interpolation={self.interpolation!r})')

"""Erasing of the ONLINE copy of each view only (the PixPro thesis, 3.3). The maths: segssl.core.erasing."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from segssl.core.erasing import (FILLS, IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, erase, patch_erasing_mask, rectangle_mask,
                                 sample_erasing_rectangle)


class _OnlineErasing(BaseTransform):
    """Shared part: copies ``views`` to ``online_views`` once, erases the online copies only.

    ``views`` (the target copies) stay untouched. Records ``online_erased`` bool (2,): whether
    each online view was erased by this transform (or an earlier one)."""

    def __init__(self, p: float, fill: str, mean: Sequence[float], std: Sequence[float], channel_order: str):
        if not 0 <= p <= 1:
            raise ValueError(f'{type(self).__name__}: p={p!r}, expected a probability')
        if fill not in FILLS:
            raise ValueError(f'{type(self).__name__}: fill={fill!r}, expected one of {FILLS}')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'{type(self).__name__}: channel_order={channel_order!r}, expected '
                             f'"bgr" or "rgb"')
        self.p, self.fill, self.channel_order = float(p), fill, channel_order
        self.mean, self.std = tuple(mean), tuple(std)

    def _fill_stats(self, channels: int):
        mean, std = np.asarray(self.mean, float), np.asarray(self.std, float)
        if self.channel_order == 'bgr':
            mean, std = mean[::-1], std[::-1]
        if channels != len(mean):
            mean, std = np.full(channels, mean.mean()), np.full(channels, std.mean())
        return mean, std

    def mask(self, height: int, width: int) -> np.ndarray:
        raise NotImplementedError

    def transform(self, results: Dict) -> Optional[Dict]:
        views = results.get('views')
        if not isinstance(views, (list, tuple)) or len(views) != 2:
            raise KeyError(f'{type(self).__name__}: results["views"] must hold two views (run '
                           f'TwoViewCrop first), for {results.get("img_path")}')
        online = list(results.get('online_views', [v.copy() for v in views]))
        erased = np.array(results.get('online_erased', np.zeros(2, bool)), dtype=bool)
        for i, img in enumerate(online):
            if np.random.rand() >= self.p:
                continue
            m = self.mask(img.shape[0], img.shape[1])
            if not m.any():
                continue
            img3 = img if img.ndim == 3 else img[:, :, None]
            mean, std = self._fill_stats(img3.shape[2])
            out = erase(img3, m, self.fill, mean, std)
            online[i] = out if img.ndim == 3 else out[:, :, 0]
            erased[i] = True
        results['online_views'] = online
        results['online_erased'] = erased
        return results


@TRANSFORMS.register_module()
class OnlineRandomErasing(_OnlineErasing):
    """Random Erasing (Zhong et al.; the PixPro thesis eqs. 3.3-3.4) of each online view with probability p.

    S_e / S ~ U(s_l, s_h) (``scale``), aspect r_e = H_e / W_e ~ U(r_1, r_2) (``ratio``),
    H_e = sqrt(S_e r_e), W_e = sqrt(S_e / r_e), top-left (x_e, y_e) uniform; everything is drawn
    again until the rectangle fits; after ``max_attempts`` (100) misses the view is left
    unchanged (rare: the Zhong reference code does the same).

    Args:
        p: probability per view (seed: 1.0; one run 0.5).
        scale: (s_l, s_h) = (0.02, 0.4). ratio: (r_1, r_2) = (0.3, 1 / 0.3).
        fill: 'black' (the report's best, 72.56 mIoU) or 'gaussian' (mean + std * N(0, 1) per pixel and
            channel, ``mean``/``std`` ImageNet's in 0-255 RGB units, i.e. N(0, 1) after
            normalisation; clipped to uint8).
        channel_order: of the views ('bgr' from LoadImageFromFile): mean/std are reordered.

    Creates ``online_views`` (a copy of ``views`` if not present) and erases only those; the
    target copies in ``views`` stay untouched. Randomness: numpy's global state.
    """

    def __init__(self, p: float = 1.0, scale: Sequence[float] = (0.02, 0.4), ratio: Sequence[float] = (0.3, 1 / 0.3),
                 fill: str = 'black', max_attempts: int = 100, mean: Sequence[float] = IMAGENET_MEAN_RGB,
                 std: Sequence[float] = IMAGENET_STD_RGB, channel_order: str = 'bgr'):
        super().__init__(p, fill, mean, std, channel_order)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'OnlineRandomErasing: scale={scale!r}, expected 0 < s_l <= s_h <= 1')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'OnlineRandomErasing: ratio={ratio!r}, expected 0 < r_1 <= r_2')
        self.scale, self.ratio, self.max_attempts = tuple(scale), tuple(ratio), int(max_attempts)

    def mask(self, height: int, width: int) -> np.ndarray:
        rect = sample_erasing_rectangle(height, width, self.scale, self.ratio, self.max_attempts)
        return rectangle_mask(height, width, rect)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, '
                f'fill={self.fill!r}, max_attempts={self.max_attempts}, '
                f'channel_order={self.channel_order!r})')


@TRANSFORMS.register_module()
class OnlineRandomPatchedErasing(_OnlineErasing):
    """Random Patched Erasing (the PixPro thesis, 3.3) of each online view with probability p:
    ``num_patches`` squares of side ``patch_size`` at uniform positions (fully inside the view),
    overlapping freely; the union is filled.

    The report is inconsistent about the size: its mask formula (P_x - s, P_x + s) gives squares
    of side 2s = 20, but its figure caption says "50 patches of size 10x10" and its text "about
    10% of the image was erased" (50 x 10^2 ~ 10% of 224^2). We follow the caption and the 10%:
    side ``patch_size`` = 10 by default (set 20 for the formula's reading).

    Args:
        p: probability per view (1.0). num_patches: n = 50. patch_size: side in pixels, 10.
        fill: 'black' or 'gaussian' (see OnlineRandomErasing; seed: patched Gaussian 72.35 mIoU,
            patched black 71.07). channel_order: of the views, for the Gaussian mean/std.

    Creates ``online_views`` (a copy of ``views`` if not present) and erases only those.
    """

    def __init__(self, p: float = 1.0, num_patches: int = 50, patch_size: int = 10, fill: str = 'black',
                 mean: Sequence[float] = IMAGENET_MEAN_RGB, std: Sequence[float] = IMAGENET_STD_RGB,
                 channel_order: str = 'bgr'):
        super().__init__(p, fill, mean, std, channel_order)
        if num_patches < 0 or patch_size < 1:
            raise ValueError(f'OnlineRandomPatchedErasing: num_patches={num_patches!r}, '
                             f'patch_size={patch_size!r}, expected >= 0 and >= 1')
        self.num_patches, self.patch_size = int(num_patches), int(patch_size)

    def mask(self, height: int, width: int) -> np.ndarray:
        return patch_erasing_mask(height, width, self.num_patches, self.patch_size)[0]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(p={self.p}, num_patches={self.num_patches}, '
                f'patch_size={self.patch_size}, fill={self.fill!r}, '
                f'channel_order={self.channel_order!r})')

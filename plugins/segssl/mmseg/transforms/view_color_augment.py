"""BYOL / PixPro photometric augmentation of each view (the PixPro thesis, 3.1; numpy + cv2)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

PerView = Union[float, Sequence[float]]


def _per_view(value: PerView, name: str) -> Tuple[float, float]:
    v = (value, value) if isinstance(value, (int, float)) else tuple(value)
    if len(v) != 2 or not all(0 <= p <= 1 for p in v):
        raise ValueError(f'ViewColorAugment: {name}={value!r}, expected a probability or a '
                         f'pair (view 1, view 2) of probabilities')
    return float(v[0]), float(v[1])


def _gray(img: np.ndarray, rgb_index: Tuple[int, int, int]) -> np.ndarray:
    """(H, W, 1) luma 0.299 R + 0.587 G + 0.114 B of a float image (torchvision's weights)."""
    r, g, b = (img[:, :, i] for i in rgb_index)
    return (0.299 * r + 0.587 * g + 0.114 * b)[:, :, None]


def adjust_hue(img: np.ndarray, shift: float, bgr: bool) -> np.ndarray:
    """Rotate the hue of a float [0, 1] image by ``shift`` turns (torchvision's hue factor)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV if bgr else cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + shift * 360.0, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR if bgr else cv2.COLOR_HSV2RGB)


@TRANSFORMS.register_module()
class ViewColorAugment(BaseTransform):
    """Per-view photometric augmentation of ``results['views']`` (BYOL's asymmetric recipe,
    used by PixPro and the PixPro thesis), in this order, each step drawn independently per view:

    1. colour jitter with probability ``jitter_prob`` (p = 0.8): brightness, contrast,
       saturation, hue factors drawn as torchvision's ColorJitter (brightness b ~ U(1-0.4, 1+0.4),
       contrast U(0.6, 1.4), saturation U(0.8, 1.2), hue U(-0.1, 0.1) turns), applied in a random
       order, clipping to [0, 1] after each (torchvision's functional formulas: contrast and
       saturation blend with the luma mean / luma image);
    2. grayscale with probability ``grayscale_prob`` (0.2): luma 0.299 R + 0.587 G + 0.114 B
       copied to the three channels;
    3. Gaussian blur with probability ``blur_prob`` = (1.0 view 1, 0.1 view 2), sigma ~ U(0.1, 2.0);
       kernel side ``blur_kernel_size`` (None: cv2's choice from sigma, ~6 sigma + 1, close to
       PixPro's PIL GaussianBlur(radius=sigma); BYOL uses 23 at 224);
    4. solarize with probability ``solarize_prob`` = (0.0 view 1, 0.2 view 2): values
       >= ``solarize_threshold`` (128) become 255 - value.

    Probabilities are per view: a number applies to both views, a pair is (view 1, view 2).
    Works on uint8 (H, W, 3) views in ``channel_order`` ('bgr' from mmcv's LoadImageFromFile,
    or 'rgb'); output uint8 (rounded). Randomness: numpy's global state.
    """

    def __init__(self, jitter_prob: PerView = 0.8, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.2, hue: float = 0.1, grayscale_prob: PerView = 0.2,
                 blur_prob: PerView = (1.0, 0.1), blur_sigma: Sequence[float] = (0.1, 2.0),
                 blur_kernel_size: Optional[int] = None, solarize_prob: PerView = (0.0, 0.2),
                 solarize_threshold: float = 128, channel_order: str = 'bgr'):
        self.jitter_prob = _per_view(jitter_prob, 'jitter_prob')
        self.grayscale_prob = _per_view(grayscale_prob, 'grayscale_prob')
        self.blur_prob = _per_view(blur_prob, 'blur_prob')
        self.solarize_prob = _per_view(solarize_prob, 'solarize_prob')
        for name, v in (('brightness', brightness), ('contrast', contrast), ('saturation', saturation)):
            if v < 0:
                raise ValueError(f'ViewColorAugment: {name}={v!r}, expected >= 0')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ViewColorAugment: hue={hue!r}, expected 0 <= hue <= 0.5')
        if not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError(f'ViewColorAugment: blur_sigma={blur_sigma!r}, expected 0 < min <= max')
        if blur_kernel_size is not None and (blur_kernel_size < 1 or blur_kernel_size % 2 == 0):
            raise ValueError(f'ViewColorAugment: blur_kernel_size={blur_kernel_size!r}, expected '
                             f'an odd positive int or None')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'ViewColorAugment: channel_order={channel_order!r}, expected "bgr" or "rgb"')
        self.brightness, self.contrast, self.saturation, self.hue = brightness, contrast, saturation, hue
        self.blur_sigma, self.blur_kernel_size = tuple(blur_sigma), blur_kernel_size
        self.solarize_threshold, self.channel_order = solarize_threshold, channel_order

    @property
    def _rgb_index(self) -> Tuple[int, int, int]:
        return (2, 1, 0) if self.channel_order == 'bgr' else (0, 1, 2)

    def color_jitter(self, img: np.ndarray) -> np.ndarray:
        """img float32 [0, 1] (H, W, 3) -> jittered, each factor applied in a random order."""
        order = np.random.permutation(4)
        for k in order:
            if k == 0 and self.brightness > 0:
                f = np.random.uniform(max(0.0, 1 - self.brightness), 1 + self.brightness)
                img = np.clip(img * f, 0, 1)
            elif k == 1 and self.contrast > 0:
                f = np.random.uniform(max(0.0, 1 - self.contrast), 1 + self.contrast)
                mean = float(_gray(img, self._rgb_index).mean())
                img = np.clip(img * f + mean * (1 - f), 0, 1)
            elif k == 2 and self.saturation > 0:
                f = np.random.uniform(max(0.0, 1 - self.saturation), 1 + self.saturation)
                img = np.clip(img * f + _gray(img, self._rgb_index) * (1 - f), 0, 1)
            elif k == 3 and self.hue > 0:
                img = np.clip(adjust_hue(img, np.random.uniform(-self.hue, self.hue), self.channel_order == 'bgr'), 0,
                              1)
        return img.astype(np.float32)

    def augment(self, view: np.ndarray, index: int) -> np.ndarray:
        """Augment one uint8 (H, W, 3) view; ``index`` 0 = view 1, 1 = view 2."""
        if view.ndim != 3 or view.shape[2] != 3:
            raise ValueError(f'ViewColorAugment: expected (H, W, 3) views, got {view.shape}')
        img = view.astype(np.float32) / 255.0
        if np.random.rand() < self.jitter_prob[index]:
            img = self.color_jitter(img)
        if np.random.rand() < self.grayscale_prob[index]:
            img = np.repeat(_gray(img, self._rgb_index), 3, axis=2)
        if np.random.rand() < self.blur_prob[index]:
            sigma = np.random.uniform(*self.blur_sigma)
            k = self.blur_kernel_size or 0
            img = cv2.GaussianBlur(img, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)
        out = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
        if np.random.rand() < self.solarize_prob[index]:
            out = np.where(out >= self.solarize_threshold, 255 - out, out).astype(np.uint8)
        return out

    def transform(self, results: Dict) -> Optional[Dict]:
        views = results.get('views')
        if not isinstance(views, (list, tuple)) or len(views) != 2:
            raise KeyError('ViewColorAugment: results["views"] must hold two views (run '
                           f'TwoViewCrop first), for {results.get("img_path")}')
        if 'online_views' in results:
            raise ValueError('ViewColorAugment: results already has "online_views" (erasing ran '
                             'first); put ViewColorAugment before the erasing transforms')
        results['views'] = [self.augment(v, i) for i, v in enumerate(views)]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(jitter_prob={self.jitter_prob}, '
                f'brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue}, '
                f'grayscale_prob={self.grayscale_prob}, blur_prob={self.blur_prob}, '
                f'blur_sigma={self.blur_sigma}, blur_kernel_size={self.blur_kernel_size}, '
                f'solarize_prob={self.solarize_prob}, solarize_threshold={self.solarize_threshold}, '
                f'channel_order={self.channel_order!r})')

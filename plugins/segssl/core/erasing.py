"""Random Erasing and Random Patched Erasing (the PixPro thesis, 3.3; Zhong et al., AAAI 2020). numpy only.

Random Erasing (seed eqs. 3.3-3.4, Zhong et al. Algorithm 1) on an H x W image, S = H W:
    S_e ~ U(s_l, s_h) * S,  r_e ~ U(r_1, r_2),  H_e = sqrt(S_e r_e),  W_e = sqrt(S_e / r_e),
    (x_e, y_e) ~ U([0, W) x [0, H));  accept when x_e + W_e <= W and y_e + H_e <= H,
otherwise draw all four again. Sides are rounded to whole pixels (at least 1). After
``max_attempts`` rejections the image is left unchanged (Zhong's reference code does the same
after 100 attempts); ``sample_erasing_rectangle`` then returns None.

Random Patched Erasing: n squares of side ``patch_size`` at uniform random positions, fully
inside the image, overlapping freely; the erased region is their union.

Fill: 'black' (0) or 'gaussian': per pixel and channel ``mean + std * N(0, 1)`` (ImageNet mean/std
in 0-255 units, i.e. N(0, 1) after the usual normalisation), clipped to [0, 255] for uint8.

``rng``: anything with numpy's ``uniform``/``normal`` (``np.random`` - the default, the global
state mmengine seeds -, a ``RandomState`` or a ``Generator``).
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np

IMAGENET_MEAN_RGB = (123.675, 116.28, 103.53)
IMAGENET_STD_RGB = (58.395, 57.12, 57.375)
FILLS = ('black', 'gaussian')


def _rng(rng):
    return np.random if rng is None else rng


def _randint(rng, n: int) -> int:
    """Uniform integer in [0, n) from ``rng.uniform`` (works for every numpy RNG flavour)."""
    return min(int(math.floor(rng.uniform(0.0, n))), n - 1)


def sample_erasing_rectangle(height: int, width: int, scale: Sequence[float] = (0.02, 0.4),
                             ratio: Sequence[float] = (0.3, 1 / 0.3), max_attempts: int = 100,
                             rng=None) -> Optional[Tuple[int, int, int, int]]:
    """Zhong et al.'s rectangle: (y, x, h, w) integer pixels (rows y..y+h-1, cols x..x+w-1),
    or None when no draw fitted in ``max_attempts``.

    Args:
        scale: (s_l, s_h), the range of S_e / S.
        ratio: (r_1, r_2), the range of the aspect r_e = H_e / W_e (uniform, as in the paper).
    """
    if not 0 < scale[0] <= scale[1] <= 1:
        raise ValueError(f'scale={tuple(scale)!r}: expected 0 < s_l <= s_h <= 1')
    if not 0 < ratio[0] <= ratio[1]:
        raise ValueError(f'ratio={tuple(ratio)!r}: expected 0 < r_1 <= r_2')
    rng = _rng(rng)
    area = height * width
    for _ in range(max_attempts):
        s_e = rng.uniform(scale[0], scale[1]) * area
        r_e = rng.uniform(ratio[0], ratio[1])
        h = max(1, int(round(math.sqrt(s_e * r_e))))
        w = max(1, int(round(math.sqrt(s_e / r_e))))
        x = _randint(rng, width)
        y = _randint(rng, height)
        if x + w <= width and y + h <= height:
            return y, x, h, w
    return None


def patch_erasing_mask(height: int, width: int, num_patches: int = 50, patch_size: int = 10,
                       rng=None) -> Tuple[np.ndarray, np.ndarray]:
    """Union of ``num_patches`` squares of side ``patch_size`` (the PixPro thesis's patched erasing).

    Top-left corners are uniform over the positions where the square fits.
    Returns (mask (H, W) bool, corners (num_patches, 2) int (y, x) of each square's top-left).
    """
    if patch_size < 1 or patch_size > min(height, width):
        raise ValueError(f'patch_size={patch_size}: expected 1 <= patch_size <= min(H, W) = '
                         f'{min(height, width)}')
    if num_patches < 0:
        raise ValueError(f'num_patches={num_patches}: expected >= 0')
    rng = _rng(rng)
    mask = np.zeros((height, width), dtype=bool)
    corners = np.zeros((num_patches, 2), dtype=np.int64)
    for i in range(num_patches):
        y = _randint(rng, height - patch_size + 1)
        x = _randint(rng, width - patch_size + 1)
        corners[i] = (y, x)
        mask[y:y + patch_size, x:x + patch_size] = True
    return mask, corners


def erasing_fill(shape: Sequence[int], fill: str = 'black', mean: Sequence[float] = IMAGENET_MEAN_RGB,
                 std: Sequence[float] = IMAGENET_STD_RGB, rng=None) -> np.ndarray:
    """Fill values of ``shape`` (..., C) float32: zeros ('black') or mean + std * N(0, 1)
    per pixel and channel ('gaussian'; mean/std in the image's channel order and units)."""
    if fill not in FILLS:
        raise ValueError(f'fill={fill!r}: expected one of {FILLS}')
    if fill == 'black':
        return np.zeros(shape, dtype=np.float32)
    noise = _rng(rng).normal(0.0, 1.0, size=tuple(shape))
    return (np.asarray(mean, np.float64) + np.asarray(std, np.float64) * noise).astype(np.float32)


def erase(image: np.ndarray, mask: np.ndarray, fill: str = 'black', mean: Sequence[float] = IMAGENET_MEAN_RGB,
          std: Sequence[float] = IMAGENET_STD_RGB, rng=None) -> np.ndarray:
    """A copy of ``image`` (H, W, C) whose pixels under ``mask`` (H, W) bool hold the fill.

    Integer images are rounded and clipped to their dtype's range (uint8: [0, 255])."""
    if image.ndim != 3 or mask.shape != image.shape[:2]:
        raise ValueError(f'erase: expected image (H, W, C) and mask (H, W), got {image.shape} '
                         f'and {mask.shape}')
    out = image.copy()
    n = int(mask.sum())
    if n == 0:
        return out
    values = erasing_fill((n, image.shape[2]), fill, mean, std, rng)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    out[mask] = values.astype(image.dtype)
    return out


def rectangle_mask(height: int, width: int, rect: Optional[Tuple[int, int, int, int]]) -> np.ndarray:
    """(H, W) bool mask of rectangle (y, x, h, w); all False for None."""
    mask = np.zeros((height, width), dtype=bool)
    if rect is not None:
        y, x, h, w = rect
        mask[y:y + h, x:x + w] = True
    return mask

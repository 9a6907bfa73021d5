"""sRGB <-> CIE L*a*b* (D65, 2 degree observer) for the colorization pretext task (the ERFNet thesis,
3.2.5; Zhang et al. 2016). numpy only; the same constants and branches as skimage.color's
``rgb2lab`` / ``lab2rgb``.

    linear  = ((c + 0.055) / 1.055) ** 2.4  if c > 0.04045 else c / 12.92      (c in [0, 1])
    X, Y, Z = M @ linear,  M = sRGB -> XYZ (D65), divided by the white (0.95047, 1, 1.08883)
    f(t)    = t ** (1/3)  if t > 0.008856 else 7.787 t + 16/116
    L* = 116 f(Y) - 16,   a* = 500 (f(X) - f(Y)),   b* = 200 (f(Y) - f(Z))

L* is in [0, 100]; a*, b* roughly in [-128, 128]. The task's input is L* tiled to three channels,
its target (a*, b*) (MSE).
"""
from typing import Tuple

import numpy as np

XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193,
                                                                                          0.950227]])
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def _check_rgb(rgb: np.ndarray, who: str) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.shape[-1] != 3:
        raise ValueError(f'{who}: expected (..., 3) RGB values in [0, 1], got shape {rgb.shape}')
    return rgb.astype(np.float64)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] -> (..., 3) float64 (L*, a*, b*)."""
    c = _check_rgb(rgb, 'rgb_to_lab')
    lin = np.where(c > 0.04045, ((c + 0.055) / 1.055)**2.4, c / 12.92)
    xyz = lin @ XYZ_FROM_RGB.T / WHITE_D65
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) (L*, a*, b*) -> (..., 3) float64 sRGB, clipped to [0, 1] (out-of-gamut colours)."""
    lab = _check_rgb(lab, 'lab_to_rgb')
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = lab[..., 1] / 500.0 + fy
    fz = np.maximum(fy - lab[..., 2] / 200.0, 0.0)
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787) * WHITE_D65
    lin = xyz @ RGB_FROM_XYZ.T
    c = np.where(lin > 0.0031308, 1.055 * np.power(np.maximum(lin, 0.0), 1 / 2.4) - 0.055, 12.92 * lin)
    return np.clip(c, 0.0, 1.0)


def colorization_pair(rgb_uint8: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The colorization task's input and target from an (H, W, 3) uint8 RGB image.

    Returns:
        tuple: (L (H, W, 3) float32: L* in [0, 100] tiled to three channels,
        ab (2, H, W) float32: the a* and b* planes, the MSE target).
    """
    rgb = np.asarray(rgb_uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'colorization_pair: expected an (H, W, 3) RGB image, got {rgb.shape}')
    lab = rgb_to_lab(rgb.astype(np.float64) / 255.0)
    light = np.repeat(lab[..., :1], 3, axis=-1).astype(np.float32)
    return light, np.ascontiguousarray(lab[..., 1:].transpose(2, 0, 1)).astype(np.float32)

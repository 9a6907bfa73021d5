"""Multilevel Otsu thresholds and per-pixel cluster labels (the ERFNet thesis, 3.2.6; Otsu 1979). numpy.

Grey levels 0..L-1 with probabilities p_l; K classes split by thresholds t_1 < ... < t_{K-1}:
class 0 = levels [0, t_1], class k = (t_k, t_{k+1}], class K-1 = (t_{K-1}, L-1] ("at or below the
threshold" is the lower class, as the report says). With w_k = sum p_l and S_k = sum l p_l over a
class, mu_T = sum_l l p_l, the between-class variance is

    sigma_B^2 = sum_k w_k (mu_k - mu_T)^2 = sum_k S_k^2 / w_k - mu_T^2      (an empty class adds 0)

and the thresholds maximise it. The report searched exhaustively and so capped K at 4; the sum is
additive over classes, so an exact dynamic programme over (class, last level) finds the same
maximum in O(K L^2) for any K (the default K = 4 is the report's).
"""
from typing import Tuple

import numpy as np

LUMA_RGB = (0.299, 0.587, 0.114)


def between_class_variance(hist: np.ndarray, thresholds) -> float:
    """sigma_B^2 of histogram ``hist`` (L,) split at ``thresholds`` (levels, increasing)."""
    p = np.asarray(hist, dtype=np.float64)
    p = p / p.sum()
    levels = np.arange(len(p), dtype=np.float64)
    mu_t = (levels * p).sum()
    edges = [-1] + [int(t) for t in thresholds] + [len(p) - 1]
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        w = p[a + 1:b + 1].sum()
        if w > 0:
            total += (levels[a + 1:b + 1] * p[a + 1:b + 1]).sum()**2 / w
    return total - mu_t**2


def multi_otsu_thresholds(hist: np.ndarray, classes: int = 4) -> Tuple[np.ndarray, float]:
    """Thresholds maximising the between-class variance of ``hist``.

    Args:
        hist (np.ndarray): (L,) non-negative counts or probabilities of levels 0..L-1.
        classes (int): K >= 2 (the ERFNet thesis: at most 4; default 4).

    Returns:
        tuple: (thresholds (K-1,) int64 increasing levels, sigma_B^2 at them). Ties resolve to the
        smallest previous threshold at each step of the programme.
    """
    p = np.asarray(hist, dtype=np.float64).ravel()
    n = len(p)
    if classes < 2 or classes > n:
        raise ValueError(f'multi_otsu_thresholds: classes={classes}: expected 2 <= classes <= '
                         f'{n} (the number of grey levels)')
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError('multi_otsu_thresholds: the histogram must be non-negative and non-empty')
    p = p / p.sum()
    cw = np.concatenate([[0.0], np.cumsum(p)])  # cw[i] = sum_{l < i} p_l
    cs = np.concatenate([[0.0], np.cumsum(np.arange(n) * p)])
    # cost[a, b]: class of levels a..b-1 (a < b), S^2 / w with 0 for an empty class
    w = cw[None, :] - cw[:, None]
    s = cs[None, :] - cs[:, None]
    with np.errstate(divide='ignore', invalid='ignore'):
        cost = np.where(w > 1e-15, s * s / np.where(w > 1e-15, w, 1.0), 0.0)
    valid = np.arange(n + 1)[:, None] < np.arange(n + 1)[None, :]
    cost = np.where(valid, cost, -np.inf)
    best = cost[0].copy()  # best[b]: 1 class over levels 0..b-1
    back = []
    for _ in range(classes - 1):
        total = best[:, None] + cost  # previous classes end at a
        arg = total.argmax(0)
        back.append(arg)
        best = total[arg, np.arange(n + 1)]
    thresholds, end = [], n
    for arg in reversed(back):
        end = int(arg[end])
        thresholds.append(end - 1)  # the last level of the lower class
    thresholds = np.array(thresholds[::-1], dtype=np.int64)
    return thresholds, float(best[n] - cs[n]**2)


def otsu_labels(gray: np.ndarray, classes: int = 4, levels: int = 256) -> np.ndarray:
    """(H, W) int64 class per pixel of an integer grey image (values 0..levels-1): the number of
    multilevel-Otsu thresholds strictly below the pixel's level (pixels at a threshold go to the
    lower class)."""
    g = np.asarray(gray)
    if g.ndim != 2 or not np.issubdtype(g.dtype, np.integer) or g.min() < 0 or g.max() >= levels:
        raise ValueError(f'otsu_labels: expected an (H, W) integer grey image in [0, {levels - 1}], '
                         f'got shape {g.shape} dtype {g.dtype}')
    thresholds, _ = multi_otsu_thresholds(np.bincount(g.ravel(), minlength=levels), classes)
    return np.searchsorted(thresholds, g, side='left').astype(np.int64)


def rgb_to_gray_uint8(img: np.ndarray, channel_order: str = 'rgb') -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint8 luma 0.299 R + 0.587 G + 0.114 B, rounded."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'rgb_to_gray_uint8: expected an (H, W, 3) image, got {img.shape}')
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"rgb_to_gray_uint8: channel_order={channel_order!r}: expected 'rgb' or 'bgr'")
    weights = np.array(LUMA_RGB if channel_order == 'rgb' else LUMA_RGB[::-1])
    return np.clip(np.rint(img.astype(np.float64) @ weights), 0, 255).astype(np.uint8)

"""Strong augmentation applied after mixing (the ClassMix/DACS thesis, 3.4 and the DACS defaults of 4.1.3).

Images are (N, 3, H, W) RGB in [0, 1]. Two steps, each applied to the whole batch with its own
probability, with per-image random strengths:

colour jitter (p = 0.8), strength s = 0.25 for each of
    brightness  x <- b x,                                   b ~ U(1 - s, 1 + s)
    contrast    x <- c x + (1 - c) mean(gray(x)),           c ~ U(1 - s, 1 + s)
    saturation  x <- a x + (1 - a) gray(x),                 a ~ U(1 - s, 1 + s)
    hue         H <- (H + h) mod 1 in HSV,                  h ~ U(-s, s)  (s capped at 0.5)
    in that fixed order, clamped to [0, 1] after each (gray = 0.299 R + 0.587 G + 0.114 B);
Gaussian blur (p = 0.5): sigma ~ U(0.15, 1.15), kernel "one tenth of the image" per axis: the odd
    size k = ceil(0.1 L), minus one if that is even (as the ClassMix/DACS code computes it).

All randomness comes from ``generator`` (on the images' device; None: that device's default), so
a seeded generator gives a known answer. Nothing reads a value back to the host: sigma and the
two decisions stay device tensors, and a step whose probability is in (0, 1) is computed and
then kept or dropped by its decision (``torch.where``).
"""
import math
from typing import Optional, Sequence, Tuple

import torch

from .mixing import gaussian_blur

GRAY = (0.299, 0.587, 0.114)


def _uniform(n: int, lo: float, hi: float, generator, like: torch.Tensor) -> torch.Tensor:
    u = torch.rand(n, generator=generator, dtype=torch.float64, device=like.device).to(like.dtype)
    return (lo + (hi - lo) * u).view(n, 1, 1, 1)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) luma 0.299 R + 0.587 G + 0.114 B."""
    w = torch.tensor(GRAY, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> HSV, each channel in [0, 1] (hue in turns)."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    h = torch.where(maxc == r, (g - b) / safe, torch.where(maxc == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h = torch.where(delta > 0, (h / 6) % 1.0, torch.zeros_like(h))
    s = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), torch.zeros_like(maxc))
    return torch.stack([h, s, maxc], 1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = x.unbind(1)
    k = lambda n: (n + h * 6) % 6  # noqa: E731
    f = lambda n: v - v * s * k(n).clamp(0, 1).minimum((4 - k(n)).clamp(0, 1))  # noqa: E731
    return torch.stack([f(5), f(3), f(1)], 1)


def color_jitter(x: torch.Tensor, strength: float = 0.25, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Brightness, contrast, saturation, hue jitter of (N, 3, H, W) RGB in [0, 1] (see module
    docstring); factors drawn per image in that order: all b, all c, all a, all h."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f'color_jitter: expected (N, 3, H, W) RGB images, got {tuple(x.shape)}')
    if not 0 <= strength:
        raise ValueError(f'color_jitter: strength={strength}, expected >= 0')
    n, s = x.shape[0], float(strength)
    b = _uniform(n, max(0.0, 1 - s), 1 + s, generator, x)
    c = _uniform(n, max(0.0, 1 - s), 1 + s, generator, x)
    a = _uniform(n, max(0.0, 1 - s), 1 + s, generator, x)
    h = _uniform(n, -min(s, 0.5), min(s, 0.5), generator, x)
    x = (x * b).clamp(0, 1)
    x = (c * x + (1 - c) * grayscale(x).mean((2, 3), keepdim=True)).clamp(0, 1)
    x = (a * x + (1 - a) * grayscale(x)).clamp(0, 1)
    hsv = rgb_to_hsv(x)
    hsv = torch.cat([(hsv[:, :1] + h) % 1.0, hsv[:, 1:]], 1)
    return hsv_to_rgb(hsv).clamp(0, 1)


def blur_kernel_size(length: int, fraction: float = 0.1) -> int:
    """The odd kernel size for one tenth of ``length``: ceil(f L), minus one when even (>= 1)."""
    k = int(math.ceil(fraction * length))
    return max(1, k - 1 if k % 2 == 0 else k)


def random_gaussian_blur(x: torch.Tensor, sigma_range: Sequence[float] = (0.15, 1.15), kernel_fraction: float = 0.1,
                         generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Blur (N, C, H, W) with one sigma ~ U(sigma_range) for the batch and the kernel of
    :func:`blur_kernel_size` per axis (its radius fixed by the image size, not by sigma); returns
    the blurred images and sigma (a 0-dim float64 tensor on the images' device)."""
    lo, hi = sigma_range
    sigma = lo + (hi - lo) * torch.rand((), generator=generator, dtype=torch.float64, device=x.device)
    n, c, h, w = x.shape
    radius = ((blur_kernel_size(h, kernel_fraction) - 1) // 2, (blur_kernel_size(w, kernel_fraction) - 1) // 2)
    out = gaussian_blur(x.reshape(n * c, 1, h, w), sigma, radius=radius)
    return out.view(n, c, h, w), sigma


def strong_augment(x: torch.Tensor, jitter_p: float = 0.8, jitter_strength: float = 0.25, blur_p: float = 0.5,
                   blur_sigma: Sequence[float] = (0.15, 1.15), blur_kernel_fraction: float = 0.1,
                   generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, dict]:
    """Colour jitter with probability ``jitter_p`` then Gaussian blur with probability ``blur_p``
    on (N, 3, H, W) RGB images in [0, 1] (one decision each per batch, as the report's "for each
    unsupervised batch": jitter iff u_jitter < jitter_p, blur iff u_blur < blur_p). Returns the
    images and dict(jitter=, blur=) the decisions as 0-dim bool tensors and blur_sigma= the drawn
    sigma (0-dim tensor; None when blur_p = 0).

    Draw order from ``generator``: u_jitter, u_blur, then the jitter factors (unless jitter_p = 0),
    then sigma (unless blur_p = 0), whatever the decisions."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f'strong_augment: expected (N, 3, H, W) RGB images, got {tuple(x.shape)}')
    for name, p in (('jitter_p', jitter_p), ('blur_p', blur_p)):
        if not 0 <= p <= 1:
            raise ValueError(f'strong_augment: {name}={p}, expected a probability in [0, 1]')
    u = torch.rand(2, generator=generator, dtype=torch.float64, device=x.device)
    info = dict(jitter=u[0] < jitter_p, blur=u[1] < blur_p, blur_sigma=None)
    if jitter_p > 0:
        jittered = color_jitter(x, jitter_strength, generator)
        x = jittered if jitter_p >= 1 else torch.where(info['jitter'], jittered, x)
    if blur_p > 0:
        blurred, info['blur_sigma'] = random_gaussian_blur(x, blur_sigma, blur_kernel_fraction, generator)
        x = blurred if blur_p >= 1 else torch.where(info['blur'], blurred, x)
    return x, info

"""Mask generators and mixing for consistency training (seed 004, ClassMix / DACS).

Masks M are (N, H, W) bool; mixing pairs image b with image (b + 1) mod N (seed 004 3.1):

    x'_b = M_b * x_b + (1 - M_b) * x_{(b+1) mod N}       (images, labels and weights alike)

ClassMix:  M_b = 1 where label_b is one of ceil(p |C_b|) classes drawn from the classes C_b present
           in label_b (p = 0.5); the ignore label is never drawn.
CutMix:    one axis-aligned rectangle of ``area`` (0.5) of the image, random aspect and position.
CowMix:    Gaussian noise smoothed with a Gaussian of sigma (log-uniform in [8, 32] px),
           thresholded at its own (1 - p) quantile so a proportion p of pixels is 1 (French et al.).
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


def class_mix_masks(labels: torch.Tensor, proportion: float = 0.5, ignore_index: int = 255,
                    generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, list]:
    """ClassMix masks from (N, H, W) integer (pseudo-)labels. Returns the (N, H, W) bool masks and,
    per image, the sorted list of classes chosen."""
    if labels.dim() != 3:
        raise ValueError(f'class_mix_masks: expected labels (N, H, W), got {tuple(labels.shape)}')
    masks, chosen = torch.zeros_like(labels, dtype=torch.bool), []
    for b in range(labels.shape[0]):
        classes = torch.unique(labels[b])
        classes = classes[classes != ignore_index]
        k = math.ceil(proportion * len(classes))
        pick = classes[torch.randperm(len(classes), generator=generator)[:k]] if k else classes[:0]
        masks[b] = torch.isin(labels[b], pick)
        chosen.append(sorted(pick.tolist()))
    return masks, chosen


def cut_mix_masks(n: int, height: int, width: int, area: float = 0.5,
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """(n, H, W) bool masks, each one rectangle covering round(area * H * W) pixels as nearly as
    integer sides allow: aspect log-uniform in [area, 1/area], position uniform."""
    if not 0 < area <= 1:
        raise ValueError(f'cut_mix_masks: area={area}, expected a fraction in (0, 1]')
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for b in range(n):
        log_r = (torch.rand((), generator=generator).item() * 2 - 1) * math.log(1 / area)
        r = math.exp(log_r)                                  # h / w aspect, so h * w = area * H * W
        h = min(height, max(1, round(math.sqrt(area * height * width * r))))
        w = min(width, max(1, round(area * height * width / h)))
        y = int(torch.randint(0, height - h + 1, (), generator=generator))
        x = int(torch.randint(0, width - w + 1, (), generator=generator))
        masks[b, y:y + h, x:x + w] = True
    return masks


def _gaussian_kernel(sigma: float, radius: int, limit: int, like: torch.Tensor) -> torch.Tensor:
    """1-D Gaussian of ``radius`` normalised to sum 1 after clamping the radius to ``limit``."""
    r = min(radius, limit)
    t = torch.arange(-r, r + 1, dtype=like.dtype, device=like.device)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float, radius: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    """Separable Gaussian blur of (N, 1, H, W) with std ``sigma`` px, reflect padding. The kernel
    radius is 3 sigma, or ``radius`` = (r_y, r_x) (kernel 2r + 1), clamped to what the map allows."""
    if radius is None:
        radius = (max(1, int(math.ceil(3 * sigma))),) * 2
    ky = _gaussian_kernel(sigma, int(radius[0]), x.shape[-2] - 1, x)
    kx = _gaussian_kernel(sigma, int(radius[1]), x.shape[-1] - 1, x)
    ry, rx = (len(ky) - 1) // 2, (len(kx) - 1) // 2
    x = F.pad(x, (rx, rx, 0, 0), mode='reflect') if rx else x
    x = F.conv2d(x, kx.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, ry, ry), mode='reflect') if ry else x
    return F.conv2d(x, ky.view(1, 1, -1, 1))


def cow_mix_masks(n: int, height: int, width: int, proportion: float = 0.5,
                  sigma_range: Sequence[float] = (8.0, 32.0),
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """(n, H, W) bool CowMasks: smoothed Gaussian noise above its (1 - p) quantile, so that
    round(p * H * W) pixels are 1 (up to ties); sigma log-uniform in ``sigma_range`` per mask."""
    lo, hi = sigma_range
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for b in range(n):
        sigma = math.exp(math.log(lo) + torch.rand((), generator=generator).item() * (math.log(hi) - math.log(lo)))
        noise = torch.randn(1, 1, height, width, generator=generator, dtype=torch.float64)
        field = gaussian_blur(noise, sigma).flatten()
        k = round(proportion * height * width)
        if k > 0:
            masks[b].view(-1)[field.topk(k).indices] = True
    return masks


def mix(first: torch.Tensor, masks: torch.Tensor, second: Optional[torch.Tensor] = None) -> torch.Tensor:
    """M * first + (1 - M) * second, where second defaults to ``first`` rolled by one in the batch
    (image b mixed with (b + 1) mod N). first: (N, ...) with spatial dims last (N, [C,] H, W)."""
    second = first.roll(-1, dims=0) if second is None else second
    m = masks.view(masks.shape[0], *([1] * (first.dim() - masks.dim())), *masks.shape[1:])
    return torch.where(m, first, second)

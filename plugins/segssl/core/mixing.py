"""Mask generators and mixing for consistency training (the ClassMix/DACS thesis, ClassMix / DACS).

Masks M are (N, H, W) bool; mixing pairs image b with image (b + 1) mod N (the ClassMix/DACS thesis 3.1):

    x'_b = M_b * x_b + (1 - M_b) * x_{(b+1) mod N}       (images, labels and weights alike)

ClassMix:  M_b = 1 where label_b is one of ceil(p |C_b|) classes drawn uniformly from the classes
           C_b present in label_b (p = 0.5); the ignore label is never drawn.
CutMix:    one axis-aligned rectangle of ``area`` (0.5) of the image, random aspect and position.
CowMix:    Gaussian noise smoothed with a Gaussian of sigma (log-uniform in [8, 32] px),
           thresholded at its own (1 - p) quantile so a proportion p of pixels is 1 (French et al.).

Every generator runs on the device of its data (ClassMix: the labels'; CutMix / CowMix:
``device``, by default the generator's) with no host sync: no ``.item()``, ``.tolist()`` or
data-dependent shape. The random draws come from ``generator``, which must live on that device
(None: the device's default generator).

A mixed batch travels as a :class:`MixedBatch` (mixed images, targets, weights and the masks that
made them), and a segmentor that is asked to keeps its last step as a :class:`MixStep`, so a figure
shows the masks used instead of reading them back off the pixels.
"""
import math
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

Sigma = Union[float, torch.Tensor]
PAIRINGS = ('rolled', 'labelled')


class MixedBatch(NamedTuple):
    """x'_b = M_b first_b + (1 - M_b) second_b, for images, targets and weights alike.

    images (N, C, H, W); targets (N, H, W) long labels, or (N, K, H, W) probabilities (soft
    targets); weights (N, H, W) float; masks M (N, H, W) bool, True where the pixel comes from the
    first image of the pair (image b of ClassMix's pair (b, (b + 1) mod N); the source image for
    DACS' InterMix)."""
    images: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    masks: torch.Tensor


class MixStep(NamedTuple):
    """One mixing step as a segmentor keeps it for a figure (``keep_last_mix``), detached.

    batch: the :class:`MixedBatch`; inputs: the (N, C, H, W) unlabelled (target) images x_u;
    labelled: dict(inputs=(N, C, H, W), labels=(N, H, W)) of the labelled (source) batch, or None;
    pairing: which images each mixed image b was made of: 'rolled' (x_u b with x_u (b + 1) mod N:
    ClassMix, CutMix, CowMix, IntraMix) or 'labelled' (labelled b pasted on x_u b: InterMix)."""
    batch: MixedBatch
    inputs: torch.Tensor
    labelled: Optional[Dict[str, torch.Tensor]]
    pairing: str


def _device(device, generator: Optional[torch.Generator]) -> torch.device:
    if device is not None:
        return torch.device(device)
    return generator.device if generator is not None else torch.device('cpu')


def class_mix_masks(labels: torch.Tensor, proportion: float = 0.5, ignore_index: int = 255,
                    generator: Optional[torch.Generator] = None,
                    num_classes: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """ClassMix masks from (N, H, W) integer (pseudo-)labels, on their device.

    C_b = the classes of [0, K) present in labels_b (``ignore_index``, and any other value outside
    [0, K), is never drawn). k_b = ceil(p |C_b|) of them are chosen uniformly: every class gets a
    score u ~ U(0, 1) from ``generator`` (an absent class scores 2) and image b takes its k_b
    lowest-scoring classes. K = ``num_classes``; None reads it off the labels (largest
    non-ignored value + 1), one host sync: a training step passes it.

    Returns the (N, H, W) bool masks M_b = [labels_b in chosen_b] and the (N, K) bool classes
    chosen per image."""
    if labels.dim() != 3:
        raise ValueError(f'class_mix_masks: expected labels (N, H, W), got {tuple(labels.shape)}')
    if not 0 <= proportion <= 1:
        raise ValueError(f'class_mix_masks: proportion={proportion}, expected a fraction in [0, 1]')
    n = labels.shape[0]
    flat = labels.reshape(n, -1).long()
    if num_classes is None:  # the one host sync, documented above
        num_classes = int(torch.where(flat == ignore_index, -1, flat).max()) + 1 if flat.numel() else 0
    k_cls = max(0, int(num_classes))
    valid = (flat >= 0) & (flat < k_cls) & (flat != ignore_index)
    index = torch.where(valid, flat, k_cls)  # bin K: never drawn
    present = torch.zeros(n, k_cls + 1, dtype=torch.bool, device=labels.device).scatter_(1, index, True)[:, :k_cls]
    k = torch.ceil(proportion * present.sum(1).to(torch.float64))  # k_b = ceil(p |C_b|)
    scores = torch.rand(n, k_cls, generator=generator, dtype=torch.float64, device=labels.device)
    rank = scores.masked_fill(~present, 2.0).argsort(1).argsort(1)  # present classes first
    chosen = rank < k[:, None]
    masks = torch.cat([chosen, chosen.new_zeros(n, 1)], 1).gather(1, index).view(labels.shape)
    return masks, chosen


def cut_mix_masks(n: int, height: int, width: int, area: float = 0.5, generator: Optional[torch.Generator] = None,
                  device: Optional[Union[str, torch.device]] = None) -> torch.Tensor:
    """(n, H, W) bool masks, each one rectangle covering round(area * H * W) pixels as nearly as
    integer sides allow: aspect r = h / w log-uniform in [area, 1/area], h = round(sqrt(area H W r))
    and w = round(area H W / h) (clamped to the image), corner uniform over the positions that fit.
    Made on ``device`` (default: the generator's, else the CPU) by comparisons, no host sync."""
    if not 0 < area <= 1:
        raise ValueError(f'cut_mix_masks: area={area}, expected a fraction in (0, 1]')
    device = _device(device, generator)
    u = torch.rand(3, n, generator=generator, dtype=torch.float64, device=device)
    r = torch.exp((u[0] * 2 - 1) * math.log(1 / area))  # h / w, so h * w = area * H * W
    s = area * height * width
    h = torch.round(torch.sqrt(s * r)).clamp(1, height)
    w = torch.round(s / h).clamp(1, width)
    y = torch.floor(u[1] * (height - h + 1))  # uniform in {0, ..., H - h}
    x = torch.floor(u[2] * (width - w + 1))
    rows = torch.arange(height, dtype=torch.float64, device=device)
    cols = torch.arange(width, dtype=torch.float64, device=device)
    in_rows = (rows >= y[:, None]) & (rows < (y + h)[:, None])
    in_cols = (cols >= x[:, None]) & (cols < (x + w)[:, None])
    return in_rows[:, :, None] & in_cols[:, None, :]


def _gaussian_kernels(sigma: Sigma, radius: int, limit: int, like: torch.Tensor) -> torch.Tensor:
    """(G, 2r + 1) 1-D Gaussians exp(-t^2 / 2 sigma^2), t = -r..r, r = min(radius, limit), each
    normalised to sum 1; G = 1 for a float or 0-dim ``sigma``, else one per entry of ``sigma``."""
    r = max(0, min(radius, limit))
    t = torch.arange(-r, r + 1, dtype=like.dtype, device=like.device)
    if torch.is_tensor(sigma):
        k = torch.exp(-t**2 / (2 * sigma.to(like.dtype).reshape(-1, 1)**2))
    else:
        k = torch.exp(-t**2 / (2 * sigma**2))[None]
    return k / k.sum(1, keepdim=True)


def gaussian_blur(x: torch.Tensor, sigma: Sigma, radius: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    """Separable Gaussian blur of (N, 1, H, W) with std ``sigma`` px, reflect padding.

    ``sigma``: a float, a 0-dim tensor (one std for all maps) or an (N,) tensor (one per map, the
    maps blurred as one grouped convolution). The kernel radius is ceil(3 sigma) for a float
    sigma, or ``radius`` = (r_y, r_x) (kernel 2r + 1; required for a tensor sigma, whose 3 sigma
    would be a host sync), clamped to H - 1, W - 1 as reflect padding allows."""
    if radius is None:
        if torch.is_tensor(sigma):
            raise ValueError('gaussian_blur: a tensor sigma needs radius=(r_y, r_x) (3 sigma would be a host sync)')
        radius = (max(1, int(math.ceil(3 * sigma))), ) * 2
    n, c, h, w = x.shape
    ky = _gaussian_kernels(sigma, int(radius[0]), h - 1, x)
    kx = _gaussian_kernels(sigma, int(radius[1]), w - 1, x)
    groups = ky.shape[0]
    if groups > 1:
        if c != 1 or groups != n:
            raise ValueError(f'gaussian_blur: {groups} sigmas for maps {tuple(x.shape)}, '
                             f'expected (N, 1, H, W) with N = {groups}')
        x = x.view(1, n, h, w)
    # the vertical pass as a row pass of the transposed maps (5x faster on a CPU at 512 x 1024);
    # the padding of each pass makes its input contiguous
    x = _blur_rows(x.transpose(-1, -2), ky).transpose(-1, -2)
    return _blur_rows(x, kx).view(n, c, h, w)


def _blur_rows(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """(B, G, H, W) convolved along W with the (G, 2r + 1) ``kernels`` (one per channel), reflect
    padding."""
    r = (kernels.shape[1] - 1) // 2
    x = F.pad(x, (r, r, 0, 0), mode='reflect') if r else x.contiguous()
    return F.conv2d(x, kernels.view(kernels.shape[0], 1, 1, -1), groups=kernels.shape[0])


def cow_mix_masks(n: int, height: int, width: int, proportion: float = 0.5, sigma_range: Sequence[float] = (8.0, 32.0),
                  generator: Optional[torch.Generator] = None,
                  device: Optional[Union[str, torch.device]] = None) -> torch.Tensor:
    """(n, H, W) bool CowMasks: float32 Gaussian noise smoothed with a Gaussian of sigma_b
    (log-uniform in ``sigma_range`` per mask), 1 on its round(p * H * W) largest values (its top-k:
    exactly that many pixels). One kernel radius for every mask, ceil(3 sigma_max) clamped to the
    map, so the n blurs run as one grouped convolution; a mask's weights exp(-t^2 / 2 sigma_b^2)
    vanish past its own 3 sigma_b. Made on ``device`` (default: the generator's, else the CPU)."""
    lo, hi = (float(s) for s in sigma_range)
    if not 0 < lo <= hi:
        raise ValueError(f'cow_mix_masks: sigma_range={tuple(sigma_range)}, expected 0 < min <= max')
    if not 0 <= proportion <= 1:
        raise ValueError(f'cow_mix_masks: proportion={proportion}, expected a fraction in [0, 1]')
    device = _device(device, generator)
    masks = torch.zeros(n, height * width, dtype=torch.bool, device=device)
    k = round(proportion * height * width)
    if n == 0 or k == 0:
        return masks.view(n, height, width)
    u = torch.rand(n, generator=generator, device=device)
    sigma = torch.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    noise = torch.randn(n, 1, height, width, generator=generator, device=device)
    r = max(1, math.ceil(3 * hi))
    field = gaussian_blur(noise, sigma, radius=(r, r)).view(n, -1)
    masks.scatter_(1, field.topk(k, dim=1, sorted=False).indices, True)
    return masks.view(n, height, width)


def mix(first: torch.Tensor, masks: torch.Tensor, second: Optional[torch.Tensor] = None) -> torch.Tensor:
    """M * first + (1 - M) * second, where second defaults to ``first`` rolled by one in the batch
    (image b mixed with (b + 1) mod N). first: (N, ...) with spatial dims last (N, [C,] H, W)."""
    second = first.roll(-1, dims=0) if second is None else second
    m = masks.view(masks.shape[0], *([1] * (first.dim() - masks.dim())), *masks.shape[1:])
    return torch.where(m, first, second)

"""Pixel-weighted unsupervised loss of consistency training (the ClassMix/DACS thesis, 2.1.1 and 3.2).

    L_u = 1/(N H W) sum_{n,i} w_{n,i} l(q_{n,i}, y_{n,i})

over ALL pixels (ignored ones contribute 0 but are counted, as the ClassMix code's
``mean(CE(reduction='none') * pixelWiseWeight)``), with q = softmax(student logits) and

    cross entropy (eq. 2.2):   l = -sum_c y_c log q_c
    squared error (eq. 2.1):   l = sum_c (y_c - q_c)^2

y is the one-hot of a hard pseudo-label (N, H, W) (``ignore_index`` -> l = 0) or a soft target
distribution (N, C, H, W) (the "no pseudo-label" ablation).
"""
import torch
import torch.nn.functional as F

LOSSES = ('ce', 'squared_error')


def weighted_pixel_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, kind: str = 'ce',
                        ignore_index: int = 255) -> torch.Tensor:
    """logits (N, C, H, W); targets (N, H, W) integer or (N, C, H, W) probabilities; weights
    (N, H, W). Returns the scalar L_u."""
    if kind not in LOSSES:
        raise ValueError(f'unsupervised loss kind={kind!r}: expected one of {LOSSES}')
    n, c, h, w = logits.shape
    if weights.shape != (n, h, w):
        raise ValueError(f'weighted_pixel_loss: weights {tuple(weights.shape)}, expected {(n, h, w)}')
    soft = targets.is_floating_point()
    if soft and targets.shape != logits.shape:
        raise ValueError(f'weighted_pixel_loss: soft targets {tuple(targets.shape)}, expected {tuple(logits.shape)}')
    if not soft and targets.shape != (n, h, w):
        raise ValueError(f'weighted_pixel_loss: hard targets {tuple(targets.shape)}, expected {(n, h, w)}')
    if soft:
        valid = torch.ones_like(weights, dtype=torch.bool)
        if kind == 'ce':
            per_pixel = -(targets * F.log_softmax(logits, 1)).sum(1)
        else:
            per_pixel = ((targets - F.softmax(logits, 1))**2).sum(1)
    else:
        # hard targets without a (N, C, H, W) one-hot tensor (160 MB at 2 x 19 x 512 x 1024)
        valid = targets != ignore_index
        index = torch.where(valid, targets, torch.zeros_like(targets)).long()
        if kind == 'ce':
            per_pixel = F.cross_entropy(logits, index, reduction='none')
        else:  # sum_c (y_c - p_c)^2 = sum_c p_c^2 - 2 p_t + 1
            p = F.softmax(logits, 1)
            per_pixel = p.pow(2).sum(1) - 2 * p.gather(1, index[:, None])[:, 0] + 1
    return (weights * torch.where(valid, per_pixel, torch.zeros_like(per_pixel))).mean()

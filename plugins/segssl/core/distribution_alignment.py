"""Distribution alignment of pseudo-labels (seed 004, 2.5.6; Berthelot et al., ReMixMatch).

A running estimate p~(y) of the class frequencies of the model's pseudo-labels is kept as an EMA,

    p~(y) <- m p~(y) + (1 - m) f(y),      f(y) = share of (non-ignored) pseudo-label pixels of class y,

with m = 0.99, and predictions q are pushed toward a prior p(y) (e.g. the labelled / source
class frequencies):

    q~(y) = q(y) p(y) / p~(y)  /  sum_y' q(y') p(y') / p~(y').

The running estimate starts at the prior (alignment is the identity until the model drifts).
The seed keeps the latest 128 samples' mean prediction; an EMA of pseudo-label frequencies is the
form the DACS ablation (distribution-aligned IntraMix) asks for.
"""
from typing import Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn

from .distributed import distributed_world_size


def class_frequencies(labels: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """(K,) share of each class among the non-ignored entries of integer ``labels`` (any shape);
    all zeros if every entry is ignored."""
    valid = labels[labels != ignore_index].long()
    if valid.numel() and (valid.min() < 0 or valid.max() >= num_classes):
        raise ValueError(f'class_frequencies: labels outside [0, {num_classes}) besides '
                         f'ignore_index={ignore_index}: min {valid.min().item()}, max {valid.max().item()}')
    counts = torch.bincount(valid, minlength=num_classes).to(torch.float64)
    return counts / counts.sum() if counts.sum() > 0 else counts


class DistributionAlignment(nn.Module):
    """Args:
        prior: p(y), K non-negative numbers (normalised here).
        momentum: m of the EMA (0.99).
        eps: floor of p~(y) in the ratio, so a class never predicted does not divide by zero.
    Buffers (saved in checkpoints): ``prior`` (K,), ``running`` p~ (K,).
    """

    def __init__(self, prior: Sequence[float], momentum: float = 0.99, eps: float = 1e-6,
                 ignore_index: int = 255):
        super().__init__()
        prior = torch.as_tensor(prior, dtype=torch.float64).flatten()
        if prior.numel() < 2 or (prior < 0).any() or prior.sum() <= 0:
            raise ValueError(f'DistributionAlignment: prior={prior.tolist()}, expected >= 2 '
                             'non-negative class frequencies with a positive sum')
        if not 0 <= momentum < 1:
            raise ValueError(f'DistributionAlignment: momentum={momentum}, expected [0, 1)')
        self.momentum, self.eps, self.ignore_index = momentum, eps, ignore_index
        self.register_buffer('prior', prior / prior.sum())
        self.register_buffer('running', (prior / prior.sum()).clone())

    @property
    def num_classes(self) -> int:
        return self.prior.numel()

    @torch.no_grad()
    def update(self, pseudo_labels: torch.Tensor) -> torch.Tensor:
        """EMA step with the frequencies f(y) of integer ``pseudo_labels`` (any shape) of the
        global batch: in a distributed run the class counts are summed over the ranks, so every
        rank keeps the same p~ (and a checkpoint's p~ is every rank's). A batch whose pixels are
        all ignored leaves p~ unchanged. On the labels' device, with no host sync. Returns p~."""
        labels = pseudo_labels.detach().flatten()
        valid = labels != self.ignore_index
        index = torch.where(valid, labels, torch.zeros_like(labels)).long()
        counts = torch.zeros(self.num_classes, dtype=self.running.dtype, device=labels.device)
        counts.index_add_(0, index, valid.to(counts.dtype))
        if distributed_world_size() > 1:
            dist.all_reduce(counts)
        total = counts.sum()
        f = (counts / total.clamp_min(1)).to(self.running.device)
        # weight of the new frequencies: 1 - m, or 0 when nothing was counted
        w = (total > 0).to(self.running.dtype).to(self.running.device) * (1 - self.momentum)
        self.running.copy_(torch.lerp(self.running, f, w))
        return self.running

    def align(self, probs: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """q~ = normalise(q p / p~) along ``dim`` (class axis) of probabilities ``probs``,
        e.g. (N, K, H, W)."""
        if probs.shape[dim] != self.num_classes:
            raise ValueError(f'DistributionAlignment.align: {probs.shape[dim]} classes on dim {dim} '
                             f'of {tuple(probs.shape)}, expected {self.num_classes}')
        ratio = self.prior / self.running.clamp_min(self.eps)
        shape = [1] * probs.dim()
        shape[dim] = -1
        q = probs * ratio.to(probs).view(shape)
        return q / q.sum(dim, keepdim=True).clamp_min(torch.finfo(q.dtype).tiny)

    def forward(self, probs: torch.Tensor, pseudo_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Update p~ with ``pseudo_labels`` (default: argmax of ``probs``), then align ``probs``."""
        self.update(probs.argmax(1) if pseudo_labels is None else pseudo_labels)
        return self.align(probs)

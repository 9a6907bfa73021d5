"""Distribution alignment of pseudo-labels (the ClassMix/DACS thesis, 2.5.6; Berthelot et al., ReMixMatch).

A running estimate p~(y) of the class frequencies of the model's pseudo-labels is kept as an EMA,

    p~(y) <- m p~(y) + (1 - m) f(y),      f(y) = share of (non-ignored) pseudo-label pixels of class y,

with m = 0.99, and predictions q are pushed toward a prior p(y) (e.g. the labelled / source
class frequencies):

    q~(y) = q(y) p(y) / p~(y)  /  sum_y' q(y') p(y') / p~(y').

The running estimate starts at the prior (alignment is the identity until the model drifts).
The report keeps the latest 128 samples' mean prediction; an EMA of pseudo-label frequencies is the
form the DACS ablation (distribution-aligned IntraMix) asks for.

Counting runs on the labels' device with no host sync: a fixed-size scatter_add_ into K + 1 bins
(the last one takes the ignored pixels and is dropped). ``torch.bincount`` is not used: on CUDA
it reads the labels' maximum back to the host to size its output.
"""
from typing import Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn

from .distributed import distributed_world_size


def class_counts(labels: torch.Tensor, num_classes: int, ignore_index: int = 255,
                 dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(K,) number of entries of each class y in [0, K) among the entries of integer ``labels``
    (any shape); ``ignore_index`` and any other value outside [0, K) are not counted. On the
    labels' device, no host sync."""
    labels = labels.detach().flatten().long()
    valid = (labels >= 0) & (labels < num_classes) & (labels != ignore_index)
    index = torch.where(valid, labels, num_classes)  # bin K: not counted
    counts = torch.zeros(num_classes + 1, dtype=dtype, device=labels.device)
    counts.scatter_add_(0, index, torch.ones((), dtype=dtype, device=labels.device).expand(index.shape))
    return counts[:num_classes]


def class_frequencies(labels: torch.Tensor, num_classes: int, ignore_index: int = 255,
                      check: bool = False) -> torch.Tensor:
    """(K,) float64 share f(y) of each class among the non-ignored entries of integer ``labels``
    (any shape); all zeros if every entry is ignored. Values outside [0, K) besides
    ``ignore_index`` are not counted, or with ``check=True`` raise ValueError (that check reads
    the labels on the host: for inspecting data, not for a training step)."""
    if check:
        bad = labels[(labels != ignore_index) & ((labels < 0) | (labels >= num_classes))]
        if bad.numel():
            raise ValueError(f'class_frequencies: labels outside [0, {num_classes}) besides '
                             f'ignore_index={ignore_index}: {sorted(set(bad.flatten().tolist()))[:8]}')
    counts = class_counts(labels, num_classes, ignore_index)
    return counts / counts.sum().clamp_min(1)


class DistributionAlignment(nn.Module):
    """Args:
        prior: p(y), K non-negative numbers (normalised here).
        momentum: m of the EMA (0.99).
        eps: floor of p~(y) in the ratio, so a class never predicted does not divide by zero.
    Buffers (saved in checkpoints): ``prior`` (K,), ``running`` p~ (K,).
    """

    def __init__(self, prior: Sequence[float], momentum: float = 0.99, eps: float = 1e-6, ignore_index: int = 255):
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
        all ignored leaves p~ unchanged; values outside [0, K) count as ignored. On the labels'
        device, with no host sync. Returns p~."""
        counts = class_counts(pseudo_labels, self.num_classes, self.ignore_index, self.running.dtype)
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

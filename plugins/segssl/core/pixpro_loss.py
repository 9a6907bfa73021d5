"""Pixel consistency loss of PixPro / the PixPro thesis (2.4.1):

    L = -cos(y_i, x'_j) - cos(y_j, x'_i), averaged over the positive pairs (i, j) of each image,
        then over the batch;

y = propagation-head output of the online branch, x' = target projector output (no gradient).
An image whose two crops share no positive pair contributes 0 (with finite gradients).
PixPro's code multiplies each of the two terms by 2; ``loss_weight`` can restore that.

Because x' carries no gradient, sum_{j in P(i)} cos(y_i, x'_j) = y_i/|y_i| . sum_{j in P(i)} x'_j/|x'_j|:
the inner sums come from ``sum_positive_targets`` (sparse, O(N C HW) memory) and only one dot
product per pixel is differentiated. ``dense=True`` uses the (N, HW, HW) pair matrix instead.
By default (``dense=None``) the dense matrix is used while HW_a * HW_b <= ``DENSE_MAX_PAIRS``
(PixPro's 7x7 and 14x14 maps: one batched matmul, about 2x faster than the K^2 sparse passes
on the CPU; benchmarks/results/matching_paths.md) and the sparse path above, for large maps (8x
faster than dense at 56x56). Neither waits for the device when the lattices were built on the CPU
and moved with ``FeatureLattice.to`` (the sparse window is sized from their CPU geometry).
"""
from typing import Optional

import torch
import torch.nn.functional as F

from .matching import FeatureLattice, positive_pairs_dense, sum_positive_targets

#: largest HW_a * HW_b matched densely by default: 21 x 21 maps (194k pairs, 0.8 MB per image),
#: where the two paths cost the same on the CPU (benchmarks/results/matching_paths.md); on a GPU
#: the dense matmul gains more (not measured here)
DENSE_MAX_PAIRS = 21**4


def _one_direction(y, target, la: FeatureLattice, lb: FeatureLattice, tau, dense):
    """Per image: sum over positive pairs of cos(y_i, x'_j), and the number of pairs. (N,), (N,)."""
    N, C = y.shape[:2]
    yn = F.normalize(y.flatten(2), dim=1)  # (N, C, HWa)
    tn = F.normalize(target.detach().flatten(2), dim=1)  # (N, C, HWb)
    if dense:
        A = positive_pairs_dense(la, lb, tau).to(y.dtype)  # (N, HWa, HWb)
        cos = torch.bmm(yn.transpose(1, 2), tn)
        return (cos * A).sum((1, 2)), A.sum((1, 2))
    sums, counts = sum_positive_targets(tn.view(N, C, lb.height, lb.width), la, lb, tau)
    return (yn * sums).sum((1, 2)), counts.sum(1)


def pixel_consistency_loss(y1: torch.Tensor, x2_target: torch.Tensor, y2: torch.Tensor, x1_target: torch.Tensor,
                           lattice1: FeatureLattice, lattice2: FeatureLattice, tau: float = 0.7,
                           dense: Optional[bool] = None, loss_weight: float = 1.0) -> torch.Tensor:
    """Symmetric pixel consistency loss (scalar).

    Args:
        y1, y2: (N, C, H, W) online head outputs of views 1 and 2.
        x1_target, x2_target: (N, C, H, W) target projector outputs of views 1 and 2.
        lattice1, lattice2: the views' feature lattices (see matching.lattice_from_boxes).
        tau: positive-pair threshold on the normalised bin-centre distance (0.7).
        dense: True: the dense pair matrix (O((HW)^2) memory); False: the sparse window
            (O(HW) memory); None: dense while HW_a * HW_b <= DENSE_MAX_PAIRS, else sparse.
    """
    if dense is None:
        hw1, hw2 = lattice1.height * lattice1.width, lattice2.height * lattice2.width
        dense = hw1 * hw2 <= DENSE_MAX_PAIRS
    s12, n12 = _one_direction(y1, x2_target, lattice1, lattice2, tau, dense)
    s21, n21 = _one_direction(y2, x1_target, lattice2, lattice1, tau, dense)
    per_image = -(s12 / n12.clamp(min=1) + s21 / n21.clamp(min=1))
    return loss_weight * per_image.mean()

"""Image-level self-supervised losses: BYOL (the Mask R-CNN thesis), NT-Xent (SimCLR, the ERFNet thesis and
the SimCLR report) and the video anchor loss of the SimCLR report (its "VideoSimCLRLoss").

BYOL (Grill et al. 2020; the Mask R-CNN thesis eq. 10), for a prediction p = q_theta(z_theta) of the online
network and the target projection z' = z'_xi of the other view, both (N, D)::

    L(p, z') = mean_n || p_n/||p_n|| - z'_n/||z'_n|| ||^2 = mean_n 2 - 2 cos(p_n, z'_n)

symmetrised: L_BYOL = L(p_1, z'_2) + L(p_2, z'_1) (each view predicts the other view's target).

NT-Xent (Chen et al. 2020; the SimCLR report eq. 1) over the 2N embeddings u = [z_a; z_b] (z_a, z_b (N, D),
row n of z_a and row n of z_b a positive pair), with s_ik = cos(u_i, u_k) and temperature tau::

    l_i = -log( exp(s_{i,pos(i)}/tau) / sum_{k != i} exp(s_ik/tau) ),  pos(i) = i +- N
    NT-Xent(z_a, z_b) = (1/2N) sum_{i=1}^{2N} l_i

(each denominator holds the 2N - 1 other embeddings; the SimCLR report prints sim(z_i, z_j) inside its
denominator sum, a typo for sim(z_i, z_k), which is what SimCLR defines and what is used here).

Video anchor loss (the SimCLR report, "Open Ended Question"), anchor frames z_0 and p other frames
z_1..z_p of the same N videos, each (N, D)::

    L = sum_{i=1}^{p} lambda_i NT-Xent(z_0, z_i),   lambda_i in [0, 1]
"""
from typing import Sequence, Union

import torch
import torch.nn.functional as F

from .distributed import all_gather_cat, distributed_world_size

__all__ = ['byol_loss', 'symmetric_byol_loss', 'nt_xent_loss', 'anchor_weights', 'video_anchor_loss']


def _check_pair(a: torch.Tensor, b: torch.Tensor, name: str) -> None:
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(f'{name}: expected two (N, D) tensors of one shape, got '
                         f'{tuple(a.shape)} and {tuple(b.shape)}')


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean_n (2 - 2 cos(p_n, z'_n)). prediction p: (N, D) online q(z); target z': (N, D); the
    target is detached (stop-gradient). Returns a scalar in [0, 4]."""
    _check_pair(prediction, target, 'byol_loss')
    cos = (F.normalize(prediction, dim=1) * F.normalize(target.detach(), dim=1)).sum(dim=1)
    return (2 - 2 * cos).mean()


def symmetric_byol_loss(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor,
                        symmetric: bool = True) -> torch.Tensor:
    """L(p1, z2') + L(p2, z1') (the Mask R-CNN thesis default), or L(p1, z2') alone if not ``symmetric``.
    p1, p2: online predictions of views 1, 2; z1, z2: target projections of views 1, 2; (N, D)."""
    loss = byol_loss(p1, z2)
    return loss + byol_loss(p2, z1) if symmetric else loss


def nt_xent_loss(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.5, gather: bool = True) -> torch.Tensor:
    """NT-Xent over 2N embeddings. z_a, z_b: (N, D), row n of each a positive pair (N >= 1;
    with N = 1 in one process the only negatives are absent and the loss is 0). temperature: tau
    (0.5).

    gather: in a distributed run of W processes, take the negatives from every rank's 2N
    embeddings (:func:`all_gather_cat`, differentiable), as SimCLR does: each local anchor's
    denominator then holds the 2NW - 1 other embeddings of the global batch, and the mean of the
    ranks' losses (what DDP's gradient averaging optimises) is the loss of one process with the
    whole batch. False: negatives from the local batch only. A no-op in one process.
    """
    _check_pair(z_a, z_b, 'nt_xent_loss')
    if temperature <= 0:
        raise ValueError(f'nt_xent_loss: temperature={temperature!r}, expected > 0')
    n = z_a.shape[0]
    u = F.normalize(torch.cat([z_a, z_b]), dim=1)  # (2N, D) local anchors
    rank = 0
    if gather and distributed_world_size() > 1:
        import torch.distributed as dist
        rank, candidates = dist.get_rank(), all_gather_cat(u)  # (2NW, D), rank order
    else:
        candidates = u
    logits = u @ candidates.t() / temperature  # s_ik / tau, (2N, 2NW)
    local = torch.arange(2 * n, device=u.device)
    offset = 2 * n * rank  # this rank's block
    logits[local, local + offset] = float('-inf')  # k != i
    positives = (local + n) % (2 * n) + offset  # pos(i) = i +- N
    return F.cross_entropy(logits, positives)  # mean of the 2N l_i


def anchor_weights(num_frames: int, scheme: Union[str, Sequence[float]] = 'linear') -> torch.Tensor:
    """lambda_1..lambda_p of the video anchor loss.

    scheme: 'linear' -> lambda_i = i / p (frames further from the anchor weigh more, the intent
    the SimCLR report states; it gives no values, so this is our default), 'uniform' -> 1 / p, or an
    explicit sequence of p values in [0, 1].
    """
    if num_frames < 1:
        raise ValueError(f'anchor_weights: num_frames={num_frames!r}, expected >= 1')
    if isinstance(scheme, str):
        if scheme == 'linear':
            return torch.arange(1, num_frames + 1, dtype=torch.float32) / num_frames
        if scheme == 'uniform':
            return torch.full((num_frames, ), 1.0 / num_frames)
        raise ValueError(f"anchor_weights: scheme={scheme!r}, expected 'linear', 'uniform' or "
                         'a sequence of weights')
    w = torch.as_tensor(list(scheme), dtype=torch.float32)
    if w.shape != (num_frames, ) or bool(((w < 0) | (w > 1)).any()):
        raise ValueError(f'anchor_weights: weights {list(scheme)!r}: expected {num_frames} '
                         'values in [0, 1] (one per non-anchor frame)')
    return w


def video_anchor_loss(anchor: torch.Tensor, frames: torch.Tensor, weights: torch.Tensor,
                      temperature: float = 0.5) -> torch.Tensor:
    """sum_i lambda_i NT-Xent(z_0, z_i). anchor z_0: (N, D); frames z_1..z_p: (N, p, D);
    weights lambda: (p,)."""
    if frames.dim() != 3 or anchor.dim() != 2 or frames.shape[0] != anchor.shape[0] \
            or frames.shape[2] != anchor.shape[1]:
        raise ValueError(f'video_anchor_loss: expected anchor (N, D) and frames (N, p, D), got '
                         f'{tuple(anchor.shape)} and {tuple(frames.shape)}')
    if tuple(weights.shape) != (frames.shape[1], ):
        raise ValueError(f'video_anchor_loss: {tuple(weights.shape)} weights for '
                         f'{frames.shape[1]} frames')
    losses = torch.stack([nt_xent_loss(anchor, frames[:, i], temperature) for i in range(frames.shape[1])])
    return (weights.to(losses) * losses).sum()

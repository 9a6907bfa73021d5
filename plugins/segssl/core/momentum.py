"""Momentum (teacher/target) networks: EMA update, cosine momentum schedule, Momentum BN.

EMA (the PixPro thesis 2.4; BYOL):   xi <- m xi + (1 - m) theta   for every parameter (and optionally buffer)
Cosine schedule (BYOL):     m_k = 1 - (1 - m_0) (cos(pi k / K) + 1) / 2,   m_0 = 0.99 -> 1 at k = K
Momentum BN (the PixPro thesis eq. 2.8; Li et al., Momentum^2 Teacher): in training, the batch statistics
    update the running ones, mu_t = (1 - a) mu_batch + a mu_{t-1} (same for sigma^2), and the
    layer normalises with those running statistics, so small batches still give stable ones. Its
    affine weight and bias are not trained: they are the EMA copy of the online BN's.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .distributed import distributed_world_size
from .sync_batchnorm import global_batch_moments


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float, buffers: bool = False) -> None:
    """xi <- m xi + (1 - m) theta over matching parameters (and floating buffers if ``buffers``)."""
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f'EMA momentum={momentum}: expected a value in [0, 1]')
    t_params, o_params = dict(target.named_parameters()), dict(online.named_parameters())
    if t_params.keys() != o_params.keys():
        raise ValueError(f'EMA: target and online networks differ in parameters: '
                         f'{sorted(t_params.keys() ^ o_params.keys())[:5]}')
    dst = list(t_params.values())
    src = [o_params[name].detach() for name in t_params]
    if buffers:
        o_bufs = dict(online.named_buffers())
        pairs = [(b, o_bufs[name]) for name, b in target.named_buffers() if b.is_floating_point() and name in o_bufs]
        dst += [b for b, _ in pairs]
        src += [o for _, o in pairs]
    if dst:  # one fused multi-tensor kernel per op instead of two kernels per tensor (same values)
        torch._foreach_mul_(dst, momentum)
        torch._foreach_add_(dst, src, alpha=1 - momentum)


def cosine_momentum(step: int, total_steps: int, base: float = 0.99, final: float = 1.0) -> float:
    """m_k = final - (final - base) (cos(pi k / K) + 1) / 2, clamped to k in [0, K]."""
    if total_steps <= 0:
        raise ValueError(f'cosine_momentum: total_steps={total_steps}, expected > 0')
    k = min(max(step, 0), total_steps)
    return final - (final - base) * (math.cos(math.pi * k / total_steps) + 1) / 2


class MomentumBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d that normalises with momentum-averaged statistics, also in training.

    Args:
        num_features: C of the (N, C, H, W) input.
        stat_momentum: a of eq. 2.8, the weight of the previous statistics (not given in the
            seed; default 0.9). The first batch initialises the statistics.
        sync: under torch.distributed, take the batch statistics over all processes (as the
            the report's SyncBN does), so every rank keeps the same running statistics.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, stat_momentum: float = 0.9, affine: bool = True,
                 sync: bool = True):
        super().__init__(num_features, eps=eps, momentum=None, affine=affine, track_running_stats=True)
        if not 0.0 <= stat_momentum < 1.0:
            raise ValueError(f'MomentumBatchNorm2d stat_momentum={stat_momentum}: expected [0, 1)')
        self.stat_momentum, self.sync = stat_momentum, sync

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                if self.sync and distributed_world_size() > 1:
                    mean, var, _ = global_batch_moments(x, differentiable=False)
                else:  # moments in float32 under AMP, as global_batch_moments
                    xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
                    mean = xf.mean((0, 2, 3))
                    var = xf.var((0, 2, 3), unbiased=False)
                # a = 0 on the first batch (it initialises); a tensor, so no host sync per step
                a = (self.num_batches_tracked > 0).to(self.running_mean.dtype) * self.stat_momentum
                self.running_mean.copy_(torch.lerp(mean.to(self.running_mean.dtype), self.running_mean, a))
                self.running_var.copy_(torch.lerp(var.to(self.running_var.dtype), self.running_var, a))
                self.num_batches_tracked += 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, training=False,
                            momentum=0.0, eps=self.eps)


def convert_to_momentum_bn(module: nn.Module, stat_momentum: float = 0.9, sync: bool = True) -> nn.Module:
    """Replace every BatchNorm2d / SyncBatchNorm in ``module`` by MomentumBatchNorm2d, keeping
    weights and statistics; returns the (possibly new) module."""
    if isinstance(module, (nn.BatchNorm2d, nn.SyncBatchNorm)) and not isinstance(module, MomentumBatchNorm2d):
        new = MomentumBatchNorm2d(module.num_features, module.eps, stat_momentum, module.affine, sync)
        with torch.no_grad():
            if module.affine:
                new.weight.copy_(module.weight)
                new.bias.copy_(module.bias)
            if module.running_mean is not None:
                new.running_mean.copy_(module.running_mean)
                new.running_var.copy_(module.running_var)
                new.num_batches_tracked.copy_(module.num_batches_tracked)
        return new
    for name, child in module.named_children():
        setattr(module, name, convert_to_momentum_bn(child, stat_momentum, sync))
    return module

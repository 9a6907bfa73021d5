"""Batch statistics over all processes of a torch.distributed group, on any device and backend.

torch 2.1's ``nn.SyncBatchNorm`` only runs on GPUs: its forward raises "SyncBatchNorm expected
input tensor to be on GPU" for CPU tensors, and ``DistributedDataParallel`` refuses a CPU module
that holds one ("SyncBatchNorm layers only work with GPU modules"); mmcv's SyncBN is a CUDA op.
:class:`AllReduceSyncBatchNorm` computes the same statistics with two all-reduces through
``torch.distributed.nn`` (differentiable), so SyncBN also works with the gloo backend on CPU.

For a global batch of N = sum_r N_r samples over W processes, per channel c:
    mu_c = sum_r sum_{i,h,w} x_r[i, c, h, w] / (N H W)
    sigma2_c = sum_r sum_{i,h,w} (x_r[i, c, h, w] - mu_c)^2 / (N H W)          (biased)
    y = (x - mu_c) / sqrt(sigma2_c + eps) * gamma_c + beta_c
and the running variance is updated with the unbiased sigma2_c * M / (M - 1), M = N H W, as
``nn.BatchNorm2d`` on the whole batch would; the gradient flows through both all-reduces.
"""
from typing import Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.nn import functional as dist_nn
from torch.nn.modules.batchnorm import _BatchNorm

from .distributed import distributed_world_size


def global_batch_moments(x: torch.Tensor,
                         differentiable: bool = True) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, biased variance (both (C,)) and element count M of ``x`` (N, C, ...) over dim 0 and
    the spatial dims of every process (two passes: the mean first, then centred squares).

    Counts and moments are taken in float32 for half-precision input (under AMP): in float16 a
    count above 65504 is inf (64 x 112 x 112 already is), and sums of that many terms lose the
    mean. float32 and float64 input keep their dtype. In one process (torch.distributed not
    initialised, or a world of one) they are that process's own moments, with no all-reduce."""
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    dims = [0] + list(range(2, x.dim()))
    if distributed_world_size() == 1:
        reduce = _no_reduce
    else:
        reduce = dist_nn.all_reduce if differentiable else _all_reduce_no_grad
    count = torch.full((1, ), float(x.numel() // x.shape[1]), dtype=x.dtype, device=x.device)
    sums = reduce(torch.cat([x.sum(dims), count]))
    m = sums[-1]
    mean = sums[:-1] / m
    shape = [1, -1] + [1] * (x.dim() - 2)
    var = reduce((x - mean.view(shape)).pow(2).sum(dims)) / m
    return mean, var, m


def _no_reduce(t: torch.Tensor) -> torch.Tensor:
    return t


def _all_reduce_no_grad(t: torch.Tensor) -> torch.Tensor:
    t = t.clone()
    dist.all_reduce(t)
    return t


class AllReduceSyncBatchNorm(_BatchNorm):
    """SyncBN for any device and backend (e.g. gloo on CPU); the same arguments and state as
    ``nn.SyncBatchNorm`` for the default process group. Outside training, or without a
    distributed group of more than one process, it is plain batch norm."""

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f'AllReduceSyncBatchNorm: expected at least 2D input, got {input.dim()}D')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and distributed_world_size() > 1):
            return super().forward(x)
        self._check_input_dim(x)
        mean, var, m = global_batch_moments(x, differentiable=True)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                f = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - f).add_(mean.detach(), alpha=f)
                unbiased = var.detach() * (m / (m - 1).clamp(min=1))
                self.running_var.mul_(1 - f).add_(unbiased, alpha=f)
        shape = [1, -1] + [1] * (x.dim() - 2)
        y = (x.to(mean.dtype) - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)  # as batch norm under autocast: the input's dtype


def convert_sync_batchnorm_any_device(module: nn.Module) -> nn.Module:
    """Replace every ``nn.SyncBatchNorm`` (and mmcv's ``SyncBatchNorm``) in ``module`` by
    :class:`AllReduceSyncBatchNorm`, sharing its parameters and buffers; returns the module."""
    is_sync = isinstance(module, nn.SyncBatchNorm) or (type(module).__name__ == 'SyncBatchNorm'
                                                       and isinstance(module, _BatchNorm))
    if is_sync:
        new = AllReduceSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                     module.track_running_stats)
        if module.affine:
            new.weight, new.bias = module.weight, module.bias
        if module.track_running_stats:
            new.running_mean, new.running_var = module.running_mean, module.running_var
            new.num_batches_tracked = module.num_batches_tracked
        new.train(module.training)
        return new
    for name, child in module.named_children():
        setattr(module, name, convert_sync_batchnorm_any_device(child))
    return module

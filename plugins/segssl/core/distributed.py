"""torch.distributed helpers that work on any backend (gloo on CPU, NCCL on GPU) and are no-ops
in a single process."""
import torch
import torch.distributed as dist


def distributed_world_size() -> int:
    """World size of the default process group, 1 when torch.distributed is not initialised."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def all_gather_cat(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (N_r, ...) of every rank along dim 0, in rank order: (sum_r N_r, ...).
    Differentiable: the gradient of each rank's slice flows back to that rank (summed over the
    ranks' losses), so e.g. an NT-Xent loss with negatives from all ranks under DDP gets the
    gradient of the loss on the global batch. Every rank must pass the same N_r."""
    if distributed_world_size() == 1:
        return x
    return _AllGatherCat.apply(x)


class _AllGatherCat(torch.autograd.Function):
    """Forward: all_gather + cat. Backward: all_reduce (sum) of the full gradient, then this
    rank's slice (all_reduce only, which every backend has; torch's differentiable all_gather
    needs reduce-scatter or all-to-all)."""

    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.n = dist.get_rank(), x.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.n:(ctx.rank + 1) * ctx.n]

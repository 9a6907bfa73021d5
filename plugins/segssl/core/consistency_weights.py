"""Weights of the unsupervised loss and the teacher's EMA warm-up (the ClassMix/DACS thesis, 2.5.4-2.5.5).

threshold proportion (eq. 2.15): lambda_u = lambda_u0 * mean_i 1(max_c p_i(c) > tau), tau = 0.968,
    one weight for all pixels of the batch (French et al.; the report's default);
pixel-wise threshold (eq. 2.14): lambda_u^(i) = lambda_u0 * 1(max_c p_i(c) > tau), per pixel;
constant: lambda_u = lambda_u0;
sigmoid ramp-up (eq. 2.13): lambda_u(k) = lambda_u0 * exp(-c (1 - k / k_max)^2) for k < k_max,
    then lambda_u0 (c = 5, k_max = 10000). The report prints exp(-c (k_max - k)^2), which would be
    0 until k_max; its references (Laine & Aila; French et al.) normalise by k_max, as here.
teacher EMA warm-up: alpha_k = min(1 - 1 / (k + 1), alpha), alpha = 0.99.
"""
import math

import torch

SCHEMES = ('threshold_proportion', 'pixel_threshold', 'constant', 'sigmoid_rampup')


def confidence_weights(probs: torch.Tensor, scheme: str = 'threshold_proportion', tau: float = 0.968, base: float = 1.0,
                       step: int = 0, rampup_steps: int = 10000, rampup_c: float = 5.0) -> torch.Tensor:
    """Per-pixel weights (N, H, W) of the unsupervised loss from the teacher's (N, C, H, W)
    class probabilities."""
    if scheme not in SCHEMES:
        raise ValueError(f'confidence weight scheme={scheme!r}: expected one of {SCHEMES}')
    n, _, h, w = probs.shape
    confident = probs.max(dim=1).values > tau  # (N, H, W)
    if scheme == 'threshold_proportion':
        # the proportion stays a device tensor: no host sync per step
        return (base * confident.float().mean()).expand(n, h, w).clone()
    if scheme == 'pixel_threshold':
        return base * confident.float()
    if scheme == 'constant':
        return torch.full((n, h, w), float(base), device=probs.device)
    t = min(max(step, 0), rampup_steps) / rampup_steps
    return torch.full((n, h, w), base * math.exp(-rampup_c * (1 - t)**2), device=probs.device)


def teacher_momentum(step: int, alpha: float = 0.99) -> float:
    """alpha_k = min(1 - 1 / (k + 1), alpha): 0 at k = 0 (teacher = student), then rising."""
    return min(1.0 - 1.0 / (step + 1), alpha)

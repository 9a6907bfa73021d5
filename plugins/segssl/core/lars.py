"""LARS: Layer-wise Adaptive Rate Scaling (You, Gitman & Ginsburg 2017, arXiv:1708.03888).

The optimiser of seed 000 (PixPro pretraining, section 2.1.2 eq. (2.3) and the experimental
setup: LARS, base lr 1.0 x batch/256, momentum 0.9, weight decay 4e-4, cosine schedule with
5 warm-up epochs). This is the update of PixPro's ``contrast/lars.py`` (a LARS wrapper around
``torch.optim.SGD``, ``trust_coef=0.001``, ``eps=1e-8``) written as one optimiser.

Update, for every parameter tensor ``w`` (one "layer" l) with gradient ``g``, learning rate
``lr`` (eta_0 in the paper, the value the lr scheduler sets), momentum ``m``, weight decay
``wd`` (beta) and trust coefficient ``eta`` (lambda in seed 000 eq. (2.3)):

    g'    = g + wd * w                                        (weight decay, L2 form)
    trust = eta * ||w|| / (||g'|| + eps)   if ||w|| > 0 and ||g'|| > 0, else 1
    v     = m * v + trust * g'                                (v = trust * g' at the first step)
    w     = w - lr * v

Norms are Frobenius norms of the whole tensor. In a group with ``lars_exclude=True`` the
trust ratio is 1 (and such groups are built with ``wd = 0``): plain SGD with momentum.

This is the PyTorch / torchvision SGD form (the learning rate multiplies the momentum buffer
when it is applied), exactly what PixPro runs: its LARS rescales ``p.grad`` by ``trust`` and
then calls ``torch.optim.SGD.step`` with ``dampening=0, nesterov=False``. The paper's form,
``v = m v + lr * trust * g'; w = w - v``, gives the same iterates while ``lr`` is constant and
differs only in how a change of ``lr`` acts on the velocity already accumulated.

Departure from PixPro (``contrast/lars.py``): there a group without the ``ignore`` key gets no
adaptation at all; here a group without ``lars_exclude`` *is* adapted (the LARS default), and
exclusion is asked for explicitly, as :func:`lars_param_groups` does.
"""
from typing import Dict, Iterable, List, Optional

import torch
from torch import nn
from torch.optim.optimizer import Optimizer

__all__ = ['LARS', 'lars_param_groups', 'is_lars_excluded']

_NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
               nn.modules.instancenorm._InstanceNorm, nn.LocalResponseNorm)


class LARS(Optimizer):
    """SGD with momentum and layer-wise adaptive rate scaling (see the module docstring).

    Args:
        params: parameters or parameter-group dicts. A group may set ``lars_exclude=True``
            (no trust-ratio adaptation) and its own ``weight_decay``/``lr``/``momentum``.
        lr (float): learning rate eta_0 (> 0), e.g. ``1.0 * batch / 256`` for seed 000.
        momentum (float): momentum m in [0, 1). Default 0.9.
        weight_decay (float): L2 weight decay beta >= 0, added to the gradient before the
            trust ratio is computed (as in PixPro). Default 0.
        eta (float): trust coefficient (lambda of seed 000 eq. (2.3)) > 0. Default 0.001
            (PixPro's ``trust_coef``).
        eps (float): added to ``||g'||`` in the trust ratio for numerical stability. Default
            1e-8 (PixPro).
        lars_exclude (bool): default of the per-group flag. Default False.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0, eta: float = 0.001, eps: float = 1e-8,
                 lars_exclude: bool = False):
        if not lr > 0.0:
            raise ValueError(f'LARS: lr={lr!r}: expected a learning rate > 0')
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'LARS: momentum={momentum!r}: expected a value in [0, 1)')
        if not weight_decay >= 0.0:
            raise ValueError(f'LARS: weight_decay={weight_decay!r}: expected a value >= 0')
        if not eta > 0.0:
            raise ValueError(f'LARS: eta={eta!r}: expected a trust coefficient > 0')
        if not eps >= 0.0:
            raise ValueError(f'LARS: eps={eps!r}: expected a value >= 0')
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, eps=eps,
                        lars_exclude=bool(lars_exclude))
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group['lr'], group['momentum']
            weight_decay, eta, eps = group['weight_decay'], group['eta'], group['eps']
            exclude = group['lars_exclude']
            for p in group['params']:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError('LARS does not support sparse gradients')
                d_p = p.grad
                if weight_decay != 0:
                    d_p = d_p.add(p, alpha=weight_decay)
                if not exclude:
                    w_norm = torch.linalg.vector_norm(p)
                    g_norm = torch.linalg.vector_norm(d_p)
                    # trust = 1 where either norm is 0 (a fresh zero-initialised weight or a
                    # zero gradient): no division by zero, no NaN.
                    trust = torch.where((w_norm > 0) & (g_norm > 0),
                                        eta * w_norm / (g_norm + eps), torch.ones_like(w_norm))
                    d_p = d_p.mul(trust)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get('momentum_buffer')
                    if buf is None:
                        buf = state['momentum_buffer'] = torch.clone(d_p).detach()
                    else:
                        buf.mul_(momentum).add_(d_p)
                    d_p = buf
                p.add_(d_p, alpha=-lr)
        return loss


def is_lars_excluded(name: str, param: nn.Parameter, module: Optional[nn.Module]) -> bool:
    """True for the parameters PixPro keeps out of adaptation and weight decay: every 1-D
    tensor (biases, BN/GN/LN affine weights; PixPro's ``len(param.shape) == 1`` rule), any
    parameter named ``bias``, and any parameter of a normalisation layer."""
    return (param.ndim <= 1 or name.rsplit('.', 1)[-1] == 'bias'
            or isinstance(module, _NORM_TYPES))


def lars_param_groups(model: nn.Module, weight_decay: float,
                      exclude_bn_and_bias: bool = True) -> List[Dict]:
    """Split ``model``'s trainable parameters into LARS parameter groups.

    Returns ``[{'params': [...], 'weight_decay': weight_decay, 'lars_exclude': False},
    {'params': [...], 'weight_decay': 0.0, 'lars_exclude': True}]`` where the second group holds
    the BN parameters and biases (see :func:`is_lars_excluded`); each group also carries
    ``param_names`` (dotted names, for logs and tests). Empty groups are left out. Parameters
    with ``requires_grad=False`` (e.g. a momentum/target encoder) are skipped, as in PixPro.
    With ``exclude_bn_and_bias=False`` every trainable parameter is in the first group.
    """
    adapted, excluded = ([], []), ([], [])
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            full_name = f'{module_name}.{name}' if module_name else name
            target = excluded if (exclude_bn_and_bias
                                  and is_lars_excluded(name, param, module)) else adapted
            target[0].append(param)
            target[1].append(full_name)
    # A parameter shared by two modules is listed once (the first module that holds it).
    seen = set()
    groups = []
    for (params, names), wd, exclude in ((adapted, weight_decay, False), (excluded, 0.0, True)):
        kept_params, kept_names = [], []
        for p, n in zip(params, names):
            if id(p) not in seen:
                seen.add(id(p))
                kept_params.append(p)
                kept_names.append(n)
        if kept_params:
            groups.append(dict(params=kept_params, param_names=kept_names,
                               weight_decay=float(wd), lars_exclude=exclude))
    return groups

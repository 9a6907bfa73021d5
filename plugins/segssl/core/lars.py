"""LARS: Layer-wise Adaptive Rate Scaling (You, Gitman & Ginsburg 2017, arXiv:1708.03888).

The optimiser of the PixPro thesis (PixPro pretraining, section 2.1.2 eq. (2.3) and the experimental
setup: LARS, base lr 1.0 x batch/256, momentum 0.9, weight decay 4e-4, cosine schedule with
5 warm-up epochs). This is the update of PixPro's ``contrast/lars.py`` (a LARS wrapper around
``torch.optim.SGD``, ``trust_coef=0.001``, ``eps=1e-8``) written as one optimiser.

Update, for every parameter tensor ``w`` (one "layer" l) with gradient ``g``, learning rate
``lr`` (eta_0 in the paper, the value the lr scheduler sets), momentum ``m``, weight decay
``wd`` (beta) and trust coefficient ``eta`` (lambda in the PixPro thesis eq. (2.3)):

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


def _foreach_devices():
    """Device types whose tensors take the ``torch._foreach_*`` path by default: the CPU (C++
    kernels for every foreach op, in torch 2.1 .. 2.14) and PyTorch's own list of devices with
    foreach kernels."""
    try:
        from torch.utils._foreach_utils import _get_foreach_kernels_supported_devices
        return frozenset(['cpu', *_get_foreach_kernels_supported_devices()])
    except ImportError:  # a private helper: if a later torch drops it, CPU and CUDA are safe
        return frozenset(['cpu', 'cuda'])


_FOREACH_DEVICES = _foreach_devices()
_PLAIN = (torch.Tensor, nn.Parameter)  # tensor subclasses (e.g. DTensor) take the loop


def _scale_(tensors: List[torch.Tensor], factor: float) -> None:
    """``t *= factor`` for every tensor (one device and dtype). ``torch._foreach_mul_`` with a
    Python number rounds it to a float16/bfloat16 tensor's dtype on the CPU (0.9 -> 0.8984375 in
    bfloat16), where ``Tensor.mul_`` keeps it in float32: those tensors are scaled one by one (on
    the CPU the foreach op is that loop anyway)."""
    if tensors and tensors[0].device.type == 'cpu' and tensors[0].dtype in (torch.float16, torch.bfloat16):
        for t in tensors:
            t.mul_(factor)
    else:
        torch._foreach_mul_(tensors, factor)


_NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm,
               nn.LocalResponseNorm)


class LARS(Optimizer):
    """SGD with momentum and layer-wise adaptive rate scaling (see the module docstring).

    Args:
        params: parameters or parameter-group dicts. A group may set ``lars_exclude=True``
            (no trust-ratio adaptation) and its own ``weight_decay``/``lr``/``momentum``.
        lr (float): learning rate eta_0 (> 0), e.g. ``1.0 * batch / 256`` for the PixPro thesis.
        momentum (float): momentum m in [0, 1). Default 0.9.
        weight_decay (float): L2 weight decay beta >= 0, added to the gradient before the
            trust ratio is computed (as in PixPro). Default 0.
        eta (float): trust coefficient (lambda of the PixPro thesis eq. (2.3)) > 0. Default 0.001
            (PixPro's ``trust_coef``).
        eps (float): added to ``||g'||`` in the trust ratio for numerical stability. Default
            1e-8 (PixPro).
        lars_exclude (bool): default of the per-group flag. Default False.
        foreach (bool or None): True: ``torch._foreach_*`` multi-tensor ops; False: a loop over
            the tensors; None (default): foreach on the CPU and the devices of PyTorch's
            foreach-kernel list (CUDA, XPU, ...), the loop elsewhere (see ``step``). Same values
            either way. Also a per-group key.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                 eta: float = 0.001, eps: float = 1e-8, lars_exclude: bool = False, foreach: Optional[bool] = None):
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
        if foreach not in (None, True, False):
            raise ValueError(f'LARS: foreach={foreach!r}: expected True, False or None')
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, eps=eps,
                        lars_exclude=bool(lars_exclude), foreach=foreach)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss.

        Per parameter group and per (device, dtype) of its tensors, either path:

        * foreach: every line of the update is one ``torch._foreach_*`` call over all the tensors
          (``_foreach_norm`` for the norms) and the trust ratios are one ``torch.where`` over the
          stacked norms: on a GPU ~6 multi-tensor ops and ~8 small kernels per group instead of 3
          to 15 launches per tensor.
        * loop: the same formulas tensor by tensor (the trust ratio is a ``torch.where`` too).

        Neither reads a value back to the host. ``foreach=None`` takes the foreach path for plain
        tensors (not subclasses such as DTensor, as ``torch.optim``) on the CPU (C++ kernels that
        loop over the tensors: as fast as the loop, benchmarks/results/lars_step.md) and on the
        devices of PyTorch's foreach-kernel list, and the loop elsewhere, e.g. on 'meta', which
        lacks ``_foreach_norm`` in torch 2.1. On the CPU both paths give the same bits
        (tests/test_lars.py); fused GPU kernels may round differently (norm reduction order,
        ~1e-7 relative in float32; not measured here, no GPU)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            buckets = {}
            for p in group['params']:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError('LARS does not support sparse gradients')
                # one stack of norms needs one device and dtype; foreach kernels fuse only then
                buckets.setdefault((p.device, p.dtype, p.grad.dtype), []).append(p)
            for (device, _, _), params in buckets.items():
                foreach = group.get('foreach')
                if foreach is None:
                    foreach = device.type in _FOREACH_DEVICES and all(type(p) in _PLAIN for p in params)
                if foreach:
                    self._step_foreach(params, group)
                else:
                    self._step_per_tensor(params, group)
        return loss

    def _step_foreach(self, params: List[torch.Tensor], group: Dict) -> None:
        """The update of the module docstring on ``params`` (one device and dtype, all with grads),
        one ``torch._foreach_*`` op per line."""
        lr, momentum = group['lr'], group['momentum']
        weight_decay, eta, eps = group['weight_decay'], group['eta'], group['eps']
        grads = [p.grad for p in params]
        owned = weight_decay != 0  # d is a new list (else: the grads themselves)
        d = torch._foreach_add(grads, params, alpha=weight_decay) if owned else grads  # g' = g + wd w
        if not group['lars_exclude']:
            w_norm = torch.stack(torch._foreach_norm(params))
            g_norm = torch.stack(torch._foreach_norm(d))
            # trust = 1 where either norm is 0 (a fresh zero-initialised weight or a zero
            # gradient): no division by zero, no NaN; a tensor op, not a host-side branch
            trust = torch.where((w_norm > 0) & (g_norm > 0), eta * w_norm / (g_norm + eps),
                                torch.ones_like(w_norm)).unbind(0)
            if owned:
                torch._foreach_mul_(d, trust)
            else:  # p.grad itself stays as it is
                d, owned = torch._foreach_mul(d, trust), True
        if momentum != 0:
            states = [self.state[p] for p in params]
            old = [i for i, st in enumerate(states) if st.get('momentum_buffer') is not None]
            if old:
                bufs = [states[i]['momentum_buffer'] for i in old]
                _scale_(bufs, momentum)  # v = m v + trust g'
                torch._foreach_add_(bufs, [d[i] for i in old])
            for i, st in enumerate(states):
                if st.get('momentum_buffer') is None:  # first step: v = trust g'
                    st['momentum_buffer'] = d[i] if owned else torch.clone(d[i]).detach()
            d = [st['momentum_buffer'] for st in states]
        torch._foreach_add_(params, d, alpha=-lr)  # w = w - lr v

    def _step_per_tensor(self, params: List[torch.Tensor], group: Dict) -> None:
        """The same update, tensor by tensor (devices without foreach kernels, ``foreach=False``)."""
        lr, momentum = group['lr'], group['momentum']
        weight_decay, eta, eps = group['weight_decay'], group['eta'], group['eps']
        for p in params:
            d_p = p.grad
            if weight_decay != 0:
                d_p = d_p.add(p, alpha=weight_decay)
            if not group['lars_exclude']:
                w_norm = torch.linalg.vector_norm(p)
                g_norm = torch.linalg.vector_norm(d_p)
                trust = torch.where((w_norm > 0) & (g_norm > 0), eta * w_norm / (g_norm + eps), torch.ones_like(w_norm))
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


def is_lars_excluded(name: str, param: nn.Parameter, module: Optional[nn.Module]) -> bool:
    """True for the parameters PixPro keeps out of adaptation and weight decay: every 1-D
    tensor (biases, BN/GN/LN affine weights; PixPro's ``len(param.shape) == 1`` rule), any
    parameter named ``bias``, and any parameter of a normalisation layer."""
    return (param.ndim <= 1 or name.rsplit('.', 1)[-1] == 'bias' or isinstance(module, _NORM_TYPES))


def lars_param_groups(model: nn.Module, weight_decay: float, exclude_bn_and_bias: bool = True) -> List[Dict]:
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
            target = excluded if (exclude_bn_and_bias and is_lars_excluded(name, param, module)) else adapted
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
            groups.append(dict(params=kept_params, param_names=kept_names, weight_decay=float(wd),
                               lars_exclude=exclude))
    return groups

"""LARS (segssl.core.lars) against a hand computation, and its mmengine registration/schedule."""
import copy
import math

import pytest
import torch
from torch import nn

from segssl.core.lars import LARS, lars_param_groups

ETA, EPS, WD, MOMENTUM = 0.001, 1e-8, 4e-4, 0.9


class TinyNet(nn.Module):
    """conv (weight + bias) -> BN -> ReLU -> pool -> linear (weight + bias)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3)))


ADAPTED = ['conv.weight', 'fc.weight']
EXCLUDED = ['conv.bias', 'bn.weight', 'bn.bias', 'fc.bias']


def _model(seed=0):
    torch.manual_seed(seed)
    model = TinyNet().double()
    with torch.no_grad():  # BN affine parameters away from their (1, 0) initialisation
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
    return model


def _backward(model, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 5, 5, generator=g, dtype=torch.float64)
    model.zero_grad()
    (model(x)**2).sum().backward()


def _norm(values):
    """Frobenius norm written out element by element."""
    return math.sqrt(sum(v * v for v in values))


def _reference_step(weights, grads, velocity, lr, excluded):
    """One LARS step on flat lists of Python floats (module docstring of segssl.core.lars)."""
    new_w, new_v = {}, {}
    for name, w in weights.items():
        wd = 0.0 if name in excluded else WD
        g = [gi + wd * wi for gi, wi in zip(grads[name], w)]
        trust = 1.0
        if name not in excluded:
            w_norm, g_norm = _norm(w), _norm(g)
            if w_norm > 0 and g_norm > 0:
                trust = ETA * w_norm / (g_norm + EPS)
        g = [trust * gi for gi in g]
        v = g if velocity is None else [MOMENTUM * vi + gi for vi, gi in zip(velocity[name], g)]
        new_v[name] = v
        new_w[name] = [wi - lr * vi for wi, vi in zip(w, v)]
    return new_w, new_v


def _flat(model, attr):
    return {n: (getattr(p, attr) if attr else p).detach().flatten().tolist() for n, p in model.named_parameters()}


def test_param_groups_split_bn_and_bias():
    groups = lars_param_groups(_model(), weight_decay=WD)
    assert [g['param_names'] for g in groups] == [ADAPTED, EXCLUDED]
    assert [(g['weight_decay'], g['lars_exclude']) for g in groups] == [(WD, False), (0.0, True)]
    (single, ) = lars_param_groups(_model(), weight_decay=WD, exclude_bn_and_bias=False)
    assert single['param_names'] == [n for n, _ in _model().named_parameters()]
    assert (single['weight_decay'], single['lars_exclude']) == (WD, False)
    # PixPro's rule: any 1-D tensor is excluded, whatever its name or module.
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.PReLU(4))
    assert [g['param_names'] for g in lars_param_groups(model, WD)] == [['0.weight'], ['1.weight']]
    frozen = _model()
    frozen.conv.requires_grad_(False)  # a momentum encoder's parameters are left out
    names = [n for g in lars_param_groups(frozen, WD) for n in g['param_names']]
    assert 'conv.weight' not in names and 'conv.bias' not in names and len(names) == 4


def test_two_steps_equal_hand_computation():
    """Two steps (momentum buffer used; lr changed in between as a scheduler would) equal the
    element-wise reference in double precision."""
    model = _model()
    opt = LARS(lars_param_groups(model, WD), lr=0.5, momentum=MOMENTUM, eta=ETA, eps=EPS)
    weights, velocity = _flat(model, None), None
    for step, lr in enumerate((0.5, 0.2)):
        for group in opt.param_groups:
            group['lr'] = lr
        _backward(model, seed=step)
        grads = _flat(model, 'grad')
        weights, velocity = _reference_step(weights, grads, velocity, lr, EXCLUDED)
        opt.step()
        got = _flat(model, None)
        for name in weights:
            assert got[name] == pytest.approx(weights[name], rel=1e-12, abs=1e-15), (step, name)


def test_excluded_params_get_plain_sgd_momentum_without_weight_decay():
    """BN weights/biases and conv/linear biases follow torch.optim.SGD(momentum, wd=0)."""
    model, reference = _model(), _model()
    opt = LARS(lars_param_groups(model, WD), lr=0.3, momentum=MOMENTUM)
    sgd = torch.optim.SGD([p for n, p in reference.named_parameters() if n in EXCLUDED], lr=0.3, momentum=MOMENTUM,
                          weight_decay=0.0)
    gen = torch.Generator().manual_seed(0)
    for step in range(3):
        for p, q in zip(model.parameters(), reference.parameters()):
            p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            q.grad = p.grad.clone()
        opt.step()
        sgd.step()
    got, want = dict(model.named_parameters()), dict(reference.named_parameters())
    for name in EXCLUDED:
        torch.testing.assert_close(got[name], want[name], rtol=1e-12, atol=1e-15)
    # ... while the adapted weights moved differently from plain SGD.
    assert not torch.allclose(got['conv.weight'], want['conv.weight'])


def test_zero_weight_or_zero_grad_gives_no_nan():
    w_zero = nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))  # ||w|| = 0
    g_zero = nn.Parameter(torch.full((2, 2), 2.0, dtype=torch.float64))  # ||g|| = 0, wd = 0
    both = nn.Parameter(torch.zeros(4, dtype=torch.float64).reshape(2, 2))
    opt = LARS([dict(params=[w_zero, g_zero, both])], lr=0.1, momentum=MOMENTUM, weight_decay=0.0)
    w_zero.grad = torch.ones_like(w_zero)
    g_zero.grad = torch.zeros_like(g_zero)
    both.grad = torch.zeros_like(both)
    opt.step()
    # trust = 1 where a norm is 0: w_zero moves by -lr * g, the others stay where they are.
    torch.testing.assert_close(w_zero.detach(), torch.full((3, 2), -0.1, dtype=torch.float64))
    torch.testing.assert_close(g_zero.detach(), torch.full((2, 2), 2.0, dtype=torch.float64))
    torch.testing.assert_close(both.detach(), torch.zeros(2, 2, dtype=torch.float64))
    # With weight decay, a zero gradient still moves a non-zero weight, by a finite step:
    # g' = wd w, trust = eta ||w|| / (wd ||w|| + eps).
    p = nn.Parameter(torch.full((2, ), 3.0, dtype=torch.float64))
    opt = LARS([p], lr=1.0, weight_decay=0.5, eta=ETA, eps=EPS)
    p.grad = torch.zeros_like(p)
    opt.step()
    w_norm = 3.0 * math.sqrt(2)
    trust = ETA * w_norm / (0.5 * w_norm + EPS)
    assert torch.isfinite(p).all()
    assert p.detach().tolist() == pytest.approx([3.0 - trust * 1.5] * 2, rel=1e-12)


def _per_tensor_step(params, state, lr, momentum, weight_decay, exclude, eta=ETA, eps=EPS):
    """The module docstring's update written tensor by tensor with torch ops (the loop LARS.step
    was before it used torch._foreach_*): the bit-for-bit reference on the CPU."""
    for p in params:
        if p.grad is None:
            continue
        g = p.grad.add(p, alpha=weight_decay) if weight_decay != 0 else p.grad
        if not exclude:
            w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
            if w_norm > 0 and g_norm > 0:
                g = g.mul(eta * w_norm / (g_norm + eps))
        if momentum != 0:
            if id(p) not in state:
                state[id(p)] = g.clone()
            else:
                state[id(p)].mul_(momentum).add_(g)
            g = state[id(p)]
        p.add_(g, alpha=-lr)


def _mixed_groups(seed):
    """Three groups: adapted with weight decay (float32, float64 and bfloat16 tensors, one zero
    weight, one without a gradient), excluded without decay, adapted without decay or momentum."""
    g = torch.Generator().manual_seed(seed)

    def param(*shape, dtype=torch.float32, zero=False):
        t = torch.zeros(shape, dtype=dtype) if zero else torch.randn(shape, generator=g).to(dtype)
        return nn.Parameter(t)

    adapted = [
        param(16, 8, 3, 3),
        param(7, 5),
        param(4, 4, dtype=torch.float64),
        param(6, 2, zero=True),
        param(3, 3, dtype=torch.bfloat16),
        param(5, 5),
        param(2, 3)
    ]
    excluded = [param(16), param(7), param(3, dtype=torch.float64)]
    plain = [param(4, 6), param(6)]
    groups = [
        dict(params=adapted, weight_decay=WD, lars_exclude=False, momentum=MOMENTUM),
        dict(params=excluded, weight_decay=0.0, lars_exclude=True, momentum=MOMENTUM),
        dict(params=plain, weight_decay=0.0, lars_exclude=False, momentum=0.0)
    ]
    return groups, g


def _grads(groups, g, step):
    for group in groups:
        for k, p in enumerate(group['params']):
            if group['weight_decay'] and k == len(group['params']) - 1:
                p.grad = None  # a parameter without a gradient
            elif k == 1 and step == 1:
                p.grad = torch.zeros_like(p)  # a zero gradient
            else:
                p.grad = torch.randn(p.shape, generator=g).to(p.dtype)


@pytest.mark.parametrize('foreach', [True, False, None])
def test_step_equals_the_per_tensor_loop_bit_for_bit(foreach):
    """Three steps (lr changed in between) on float32, float64 and bfloat16 tensors: the foreach
    update (the CPU's default) and the loop give exactly the bits of the per-tensor reference and
    leave p.grad untouched."""
    groups, gen = _mixed_groups(0)
    ref_groups = [dict(group, params=[nn.Parameter(p.detach().clone()) for p in group['params']]) for group in groups]
    opt = LARS(groups, lr=0.5, eta=ETA, eps=EPS, foreach=foreach)
    ref_state = {}
    for step, lr in enumerate((0.5, 0.2, 0.3)):
        _grads(groups, gen, step)
        for group, ref in zip(opt.param_groups, ref_groups):
            group['lr'] = lr
            for p, q in zip(group['params'], ref['params']):
                q.grad = None if p.grad is None else p.grad.clone()
        grads = [None if p.grad is None else p.grad.clone() for group in groups for p in group['params']]
        opt.step()
        with torch.no_grad():
            for ref in ref_groups:
                _per_tensor_step(ref['params'], ref_state, lr, ref['momentum'], ref['weight_decay'],
                                 ref['lars_exclude'])
        params = [p for group in opt.param_groups for p in group['params']]
        refs = [q for ref in ref_groups for q in ref['params']]
        for k, (p, q, grad) in enumerate(zip(params, refs, grads)):
            assert p.dtype == q.dtype and torch.equal(p, q), (step, k)
            assert (p.grad is None) if grad is None else torch.equal(p.grad, grad), (step, k)
            if q.grad is not None and id(q) in ref_state:
                assert torch.equal(opt.state[p]['momentum_buffer'], ref_state[id(q)]), (step, k)
    zero = opt.param_groups[0]['params'][3]  # ||w|| = 0 at step 1: trust 1
    assert torch.isfinite(zero).all() and zero.abs().sum() > 0


@pytest.mark.parametrize('foreach', [True, False])
def test_step_reads_nothing_back_from_the_tensors(foreach, monkeypatch):
    """No .item(), .tolist(), bool(), int(), float(), .cpu() or .numpy() on a tensor in a step
    (each would wait for the GPU): they raise while the step runs. On the 'meta' device (no
    values at all; the loop by default) a step also runs."""
    from segssl.core import lars
    groups, gen = _mixed_groups(1)
    opt = LARS(groups, lr=0.1, foreach=foreach)

    def forbidden(*args, **kwargs):
        raise AssertionError('a tensor value was read on the host')

    for step in range(2):
        _grads(groups, gen, step)
        with monkeypatch.context() as m:
            for name in ('item', 'tolist', '__bool__', '__int__', '__float__', '__index__', 'cpu', 'numpy'):
                m.setattr(torch.Tensor, name, forbidden)
            opt.step()
    assert 'meta' not in lars._FOREACH_DEVICES  # torch 2.1 has no meta _foreach_norm
    ps = [nn.Parameter(torch.empty(4, 3, device='meta')), nn.Parameter(torch.empty(3, device='meta'))]
    for p in ps:
        p.grad = torch.empty_like(p)
    opt = LARS([dict(params=ps[:1]), dict(params=ps[1:], lars_exclude=True, weight_decay=0.0)], lr=0.1, weight_decay=WD)
    opt.step()
    opt.step()
    assert opt.state[ps[0]]['momentum_buffer'].is_meta


def test_foreach_none_follows_the_foreach_device_list(monkeypatch):
    """foreach=None: torch._foreach_* on the CPU and the devices of PyTorch's foreach-kernel list,
    the loop elsewhere (emulated by taking 'cpu' out of the list); True / False force a path."""
    from segssl.core import lars
    assert {'cpu', 'cuda'} <= lars._FOREACH_DEVICES and 'meta' not in lars._FOREACH_DEVICES
    calls = []
    norm = torch._foreach_norm
    monkeypatch.setattr(torch, '_foreach_norm', lambda *a, **k: calls.append(1) or norm(*a, **k))

    def uses_foreach(foreach):
        del calls[:]
        groups, gen = _mixed_groups(2)
        _grads(groups, gen, 0)
        LARS(groups, lr=0.1, foreach=foreach).step()
        return bool(calls)

    assert uses_foreach(None) and uses_foreach(True) and not uses_foreach(False)
    monkeypatch.setattr(lars, '_FOREACH_DEVICES', lars._FOREACH_DEVICES - {'cpu'})
    assert not uses_foreach(None) and uses_foreach(True)
    with pytest.raises(ValueError, match='foreach'):
        LARS([nn.Parameter(torch.zeros(1))], lr=1.0, foreach='yes')


def test_invalid_arguments_are_named():
    params = [nn.Parameter(torch.zeros(1))]
    for kwargs, word in ((dict(lr=0.0), 'lr'), (dict(lr=1.0, momentum=1.0), 'momentum'),
                         (dict(lr=1.0, weight_decay=-1.0), 'weight_decay'), (dict(lr=1.0, eta=0.0), 'eta')):
        with pytest.raises(ValueError, match=word):
            LARS(params, **kwargs)


# ----------------------------------------------------------------------------- mmengine side
def _build(cfg, model):
    import segssl.mmseg.optim  # noqa: F401  (registers LARS and the constructor)
    # isort: split
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(model, copy.deepcopy(cfg))


def test_build_optim_wrapper_with_lars_constructor_gives_two_groups():
    model = _model()
    wrapper = _build(
        dict(type='OptimWrapper', constructor='LARSOptimWrapperConstructor',
             optimizer=dict(type='LARS', lr=0.25, weight_decay=WD, momentum=0.9)), model)
    opt = wrapper.optimizer
    assert type(opt) is LARS
    assert [g['param_names'] for g in opt.param_groups] == [ADAPTED, EXCLUDED]
    params = dict(model.named_parameters())
    for group in opt.param_groups:
        assert [id(p) for p in group['params']] == [id(params[n]) for n in group['param_names']]
        assert (group['lr'], group['momentum'], group['eta']) == (0.25, 0.9, 0.001)
    assert [(g['weight_decay'], g['lars_exclude']) for g in opt.param_groups] == [(WD, False), (0.0, True)]
    # Stepping through the wrapper is the plain LARS step.
    reference = _model()
    ref_opt = LARS(lars_param_groups(reference, WD), lr=0.25, momentum=0.9)
    _backward(model, 0)
    _backward(reference, 0)
    wrapper.step()
    ref_opt.step()
    for (n, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=n)


def test_build_optim_wrapper_options():
    # exclude_bn_and_bias=False: one group, everything adapted and decayed.
    wrapper = _build(
        dict(constructor='LARSOptimWrapperConstructor', paramwise_cfg=dict(exclude_bn_and_bias=False),
             optimizer=dict(type='LARS', lr=0.1, weight_decay=WD)), _model())
    assert [(len(g['params']), g['weight_decay'], g['lars_exclude'])
            for g in wrapper.optimizer.param_groups] == [(6, WD, False)]
    # mmengine's default constructor also builds LARS (one group, flag at its default).
    wrapper = _build(dict(optimizer=dict(type='LARS', lr=0.1, weight_decay=WD)), _model())
    assert type(wrapper.optimizer) is LARS
    assert [g['lars_exclude'] for g in wrapper.optimizer.param_groups] == [False]
    # paramwise_cfg keys of the default constructor are refused by name.
    with pytest.raises(ValueError, match='norm_decay_mult'):
        _build(
            dict(constructor='LARSOptimWrapperConstructor', paramwise_cfg=dict(norm_decay_mult=0.0),
                 optimizer=dict(type='LARS', lr=0.1)), _model())


def test_warmup_cosine_schedule_from_config_matches_formula():
    """The PixPro thesis schedule through mmengine's schedulers (as the Runner builds them): base lr
    1.0 x batch/256, 5 linear warm-up epochs from lr/100, then cosine to 1e-6."""
    from mmengine.registry import PARAM_SCHEDULERS
    batch, epoch_length, epochs, warmup_epochs, eta_min, start = 64, 10, 20, 5, 1e-6, 0.01
    base = 1.0 * batch / 256
    wrapper = _build(
        dict(constructor='LARSOptimWrapperConstructor', optimizer=dict(type='LARS', lr=base, weight_decay=WD,
                                                                       momentum=0.9)), nn.Linear(2, 2))
    cfgs = [
        dict(type='LinearLR', start_factor=start, by_epoch=True, begin=0, end=warmup_epochs,
             convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', T_max=epochs - warmup_epochs, eta_min=eta_min, by_epoch=True,
             begin=warmup_epochs, end=epochs, convert_to_iter_based=True)
    ]
    schedulers = [
        PARAM_SCHEDULERS.build(cfg, default_args=dict(optimizer=wrapper, epoch_length=epoch_length)) for cfg in cfgs
    ]
    lrs = []
    for _ in range(epochs * epoch_length):
        lrs.append([g['lr'] for g in wrapper.optimizer.param_groups])
        wrapper.step()
        for scheduler in schedulers:
            scheduler.step()

    warm, total = warmup_epochs * epoch_length, (epochs - warmup_epochs) * epoch_length

    def expected(i):
        if i < warm:  # mmengine's LinearLR reaches end_factor (1) at its last iteration
            return base * (start + (1 - start) * i / (warm - 1))
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (i - warm) / total)) / 2

    for i in (0, 1, 25, warm - 1, warm, warm + 1, warm + total // 2, len(lrs) - 1):
        assert lrs[i] == pytest.approx([expected(i)] * 2, rel=1e-9), i  # both groups
    assert lrs[0][0] == pytest.approx(base / 100) and lrs[warm][0] == pytest.approx(base)
    assert lrs[warm + total // 2][0] == pytest.approx((base + eta_min) / 2)

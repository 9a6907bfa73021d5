"""Tier 1 of the GPU acceptance check: segssl.core and segssl.convert on a device vs the CPU.

Needs only torch and numpy (no mmengine, mmseg, mmcv, detectron2 or torchvision). Every entry of
``CHECKS`` is ``(name, fn)``; ``fn(device, quick)`` builds random inputs on the CPU from a fixed
seed, runs one computation on the CPU and on ``device``, compares outputs (and gradients), raises
AssertionError with a one-line message when the difference exceeds the check's tolerance, and
times the device path. It returns ``{'max_abs_diff', 'tolerance', 'timed', 'ms'}``.

max_abs_diff is the largest |device - cpu| over the compared tensors; a tensor whose largest CPU
magnitude exceeds 1 is divided by it first, and a gradient always is (so a tolerance reads as
absolute for O(1) values, relative for large values and for gradients). float32 runs with TF32
off. ``quick=True``: tiny sizes and 2 timed repetitions (the whole list runs on a CPU in seconds).
Run: ``PYTHONPATH=plugins python tools/gpu_check_core.py [--quick] [--device cuda]``.
"""
import contextlib
import copy
import math
import os
import statistics
import sys
import tempfile
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from segssl import core
from segssl.convert import convert, expected_resnet_shapes
from segssl.core.consistency_weights import SCHEMES

CPU = torch.device('cpu')


def _leaves(obj, grad=False):
    """(tensor, is_gradient) pairs of a nest of tensors, numbers, lists, tuples and dicts."""
    if isinstance(obj, torch.Tensor):
        yield obj, grad
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, grad or 'grad' in str(k))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _leaves(v, grad)
    elif isinstance(obj, (bool, int, float)):
        yield torch.tensor(float(obj)), grad


def max_diff(ref, got) -> float:
    """Largest |got - ref| over the leaves (scaled as the module docstring says); NaN vs NaN is 0."""
    a_all, b_all = list(_leaves(ref)), list(_leaves(got))
    if len(a_all) != len(b_all):
        raise AssertionError(f'{len(b_all)} device results for {len(a_all)} CPU results')
    worst = 0.0
    for (a, grad), (b, _) in zip(a_all, b_all):
        if a.shape != b.shape:
            raise AssertionError(f'shape {tuple(b.shape)} on the device, {tuple(a.shape)} on the CPU')
        if a.numel() == 0:
            continue
        a, b = a.detach().cpu().double(), b.detach().cpu().double()
        d = torch.where((a == b) | (a.isnan() & b.isnan()), torch.zeros_like(a), (a - b).abs())
        peak = float(torch.nan_to_num(a.abs(), nan=0.0, posinf=0.0).max())
        scale = (peak if peak > 0 else 1.0) if grad else max(1.0, peak)
        worst = max(worst, float(torch.nan_to_num(d, nan=math.inf).max()) / scale)
    return worst


def assert_close(name, ref, got, tol) -> float:
    d = max_diff(ref, got)
    if not d <= tol:
        raise AssertionError(f'{name}: max |device - cpu| = {d:.3g} exceeds the tolerance {tol:.3g}')
    return d


def time_ms(fn, device, quick) -> float:
    """Median wall milliseconds of ``fn()`` after warm-up, synchronising a CUDA device."""

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    for _ in range(1 if quick else 3):
        fn()
    sync()
    times = []
    for _ in range(2 if quick else 10):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


@contextlib.contextmanager
def strict_fp32():
    """TF32 off for matmuls and cuDNN convolutions (float32 compared as float32)."""
    flags = [(torch.backends.cuda.matmul, 'allow_tf32'), (torch.backends.cudnn, 'allow_tf32')]
    try:
        old = [getattr(o, a) for o, a in flags]
        for o, a in flags:
            setattr(o, a, False)
    except (AttributeError, RuntimeError):  # a torch that refuses the legacy flags
        old = None
    try:
        yield
    finally:
        for (o, a), v in zip(flags, old or []):
            setattr(o, a, v)


def _to(obj, device):
    """A copy of ``obj`` on ``device``: tensors keep requires_grad, modules are deep-copied."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone().to(device).requires_grad_(obj.requires_grad)
    if isinstance(obj, nn.Module):
        return copy.deepcopy(obj).to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(v, device) for v in obj)
    return obj


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _module(seed, build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _run(name, compute, inputs, device, quick, tol, timed, hot=None, extra=None):
    """Compare ``compute(*inputs)`` on the CPU and on ``device``, then time ``hot`` (or compute)."""
    with strict_fp32():
        ref = compute(*_to(inputs, CPU))
        dev = _to(inputs, device)
        got = compute(*dev)
        diff = assert_close(name, ref, got, tol)
        if extra is not None:
            extra(got, dev)
        ms = time_ms(lambda: (hot or compute)(*dev), device, quick)
    return dict(max_abs_diff=diff, tolerance=tol, timed=timed, ms=ms)


def _boxes(n, g, size=224.0):
    """(n, 4) float64 crop boxes of scale 0.35..1 (overlapping views share positives)."""
    r = lambda: torch.rand(n, generator=g, dtype=torch.float64)  # noqa: E731
    s = (0.35 + 0.65 * r()).sqrt() * size
    w, h = (s * (0.8 + 0.45 * r())).clamp(max=size), (s * (0.8 + 0.45 * r())).clamp(max=size)
    x1, y1 = r() * (size - w), r() * (size - h)
    return torch.stack([x1, y1, x1 + w, y1 + h], 1)


def _pixel_consistency(hw, dense):

    def check(device, quick):
        n, c = (2, 16) if quick else (64, 256)
        g = _gen(hw)
        y1, x2, y2, x1 = (torch.randn(n, c, hw, hw, generator=g) for _ in range(4))
        y1.requires_grad_(), y2.requires_grad_()
        boxes, flips = torch.stack([_boxes(n, g), _boxes(n, g)]), torch.rand(2, n, generator=g) < 0.5

        def loss_and_grads(y1, x2, y2, x1, boxes, flips, dense=dense):
            l1, l2 = (core.lattice_from_boxes(boxes[v], flips[v], hw, hw) for v in range(2))
            loss = core.pixel_consistency_loss(y1, x2, y2, x1, l1, l2, dense=dense)
            return loss, torch.autograd.grad(loss, (y1, y2)), (l1, l2)

        def compute(*t):
            loss, grads, (l1, l2) = loss_and_grads(*t)
            pairs = core.positive_pairs_dense(l1, l2) if dense else core.sum_positive_targets(t[1], l1, l2)[1]
            return {'loss': loss, 'grad': grads, 'pairs': pairs}

        def same_as_other_path(got, t):  # the sparse and dense paths agree on the device
            other = loss_and_grads(*t, dense=not dense)
            assert_close(f'pixel_consistency {hw}x{hw}: dense vs sparse on {device}', {
                'loss': other[0],
                'grad': other[1]
            }, {
                'loss': got['loss'],
                'grad': got['grad']
            }, 1e-4)

        path = 'dense pair matrix' if dense else 'sparse K x K window'
        return _run(f"pixel_consistency_{'dense' if dense else 'sparse'}_{hw}x{hw}", compute,
                    (y1, x2, y2, x1, boxes, flips), device, quick, 1e-4,
                    f'pixel_consistency_loss forward+backward ({path}), batch {n}, C {c}, {hw}x{hw}',
                    hot=lambda *t: loss_and_grads(*t)[:2], extra=same_as_other_path)

    return check


def _propagation(kind):

    def check(device, quick):
        n, c, hw = (2, 16, 7) if quick else (64, 256, 14)
        build = {
            'ppm': lambda: core.PixelPropagation(c),
            'local_ppm': lambda: core.LocalPixelPropagation(c, frame=5),
            'self_attention': lambda: core.SelfAttentionPropagation(c)
        }[kind]
        head = _module(0, build)
        if kind == 'self_attention':
            head.gamma.data.fill_(0.5)  # gamma starts at 0: let the attention branch count
        g = _gen(1)
        x, w = torch.randn(n, c, hw, hw, generator=g).requires_grad_(), torch.randn(n, c, hw, hw, generator=g)

        def compute(head, x, w):
            y = head(x)
            return {'y': y, 'grad': torch.autograd.grad((y * w).sum(), [x] + list(head.parameters()))}

        return _run(kind, compute, (head, x, w), device, quick, 1e-4,
                    f'{type(head).__name__} forward+backward, batch {n}, C {c}, {hw}x{hw}')

    return check


def check_momentum_bn_autocast(device, quick):
    """MomentumBatchNorm2d (two training steps) and global_batch_moments of a conv output under
    autocast on the device, against float32 on the CPU. A CPU device checks bf16 only."""
    n, c, hw = (4, 8, 7) if quick else (64, 64, 28)
    net = _module(0, lambda: nn.Sequential(nn.Conv2d(c, c, 1), core.MomentumBatchNorm2d(c)))
    g = _gen(2)
    x, w = torch.randn(n, c, hw, hw, generator=g), torch.randn(n, c, hw, hw, generator=g)

    def compute(net, x, w, dtype=None):
        with torch.autocast(x.device.type, dtype=dtype) if dtype else contextlib.nullcontext():
            net(x)  # the first batch initialises the statistics
            y = net(0.5 * x + 0.1)
            mean, var, m = core.global_batch_moments(net[0](x))
        loss = (y.float() * w).sum() + var.sum()
        bn = net[1]
        return {
            'values': [y.float(), bn.running_mean, bn.running_var, mean, var, m],
            'grad': torch.autograd.grad(loss, list(net.parameters()))
        }

    tols = {torch.float16: 1e-2, torch.bfloat16: 6e-2}
    dtypes = [torch.float16, torch.bfloat16] if device.type == 'cuda' else [torch.bfloat16]
    note = '' if device.type == 'cuda' else ' (fp16 skipped: CPU autocast checked in bf16 only)'
    worst = (0.0, tols[dtypes[0]])
    ref = compute(*_to((net, x, w), CPU))
    dev = _to((net, x, w), device)
    for dtype in dtypes:
        d = assert_close(f'momentum_bn_autocast {dtype}', ref, compute(*_to(dev, device), dtype), tols[dtype])
        worst = max(worst, (d, tols[dtype]), key=lambda p: p[0] / p[1])
    ms = time_ms(lambda: [compute(*dev, dt) for dt in dtypes], device, quick)
    names = '+'.join('fp16' if dt == torch.float16 else 'bf16' for dt in dtypes)
    return dict(
        max_abs_diff=worst[0], tolerance=worst[1], ms=ms,
        timed=f'{names} autocast: conv1x1+MomentumBN 2 steps + global_batch_moments, forward+backward, '
        f'batch {n}, C {c}, {hw}x{hw}{note}')


def _mixing(kind):

    def check(device, quick):
        n, hw = (2, 32) if quick else (16, 256)
        g = _gen(3)
        images = torch.randn(n, 3, hw, hw, generator=g)
        labels = torch.randint(0, 6, (n, hw // 8, hw // 8), generator=g).repeat_interleave(8, 1).repeat_interleave(8, 2)
        labels[:, :hw // 8] = 255  # an ignored band, never drawn by ClassMix

        def compute(images, labels):
            gen = torch.Generator(images.device).manual_seed(7)  # the data's device, its own stream
            if kind == 'classmix':
                masks, chosen = core.class_mix_masks(labels, generator=gen, num_classes=6)
            else:
                make = core.cut_mix_masks if kind == 'cutmix' else core.cow_mix_masks
                masks, chosen = make(n, hw, hw, generator=gen, device=images.device), None
            return {
                'masks': masks,
                'chosen': chosen,
                'images': core.mix(images, masks),
                'labels': core.mix(labels, masks)
            }

        def same_on_every_device(got):
            """What the device's own random stream leaves the same: the number of classes chosen
            per image (ceil(p |C_b|)) and the CowMix share; a CutMix box has no such part."""
            if kind == 'classmix':
                return {'chosen': got['chosen'].sum(1)}
            return {'share': got['masks'].flatten(1).sum(1)} if kind == 'cowmix' else {}

        def invariants(got, t):
            m, images, labels = got['masks'], t[0], t[1]
            assert m.device == images.device, f'{kind}: masks on {m.device}, data on {images.device}'
            assert m.dtype == torch.bool and m.shape == (n, hw, hw), f'{kind}: masks {m.dtype} {tuple(m.shape)}'
            want = torch.where(m[:, None], images, images.roll(-1, 0))
            assert torch.equal(got['images'], want), f'{kind}: mixed image differs from its sources'
            counts = m.flatten(1).sum(1).tolist()
            if kind == 'classmix':
                for b in range(n):
                    cls = torch.nonzero(got['chosen'][b]).flatten()
                    present = [int(v) for v in labels[b].unique().tolist() if v != 255]
                    assert len(cls) == math.ceil(len(present) / 2) and set(cls.tolist()) <= set(present), \
                        f'classmix: chose {cls.tolist()} of {present}'
                    assert torch.equal(m[b], torch.isin(labels[b], cls)), 'classmix: mask is not the chosen classes'
            elif kind == 'cowmix':
                assert all(k == round(0.5 * hw * hw) for k in counts), f'cowmix: mask sizes {counts}'
            else:
                assert all(abs(k - 0.5 * hw * hw) <= 2 * hw for k in counts), f'cutmix: mask sizes {counts}'

        with strict_fp32():
            ref = compute(*_to((images, labels), CPU))
            invariants(ref, (images, labels))
            dev = _to((images, labels), device)
            got = compute(*dev)
            diff = assert_close(kind, same_on_every_device(ref), same_on_every_device(got), 0.0)
            invariants(got, dev)
            ms = time_ms(lambda: compute(*dev), device, quick)
        return dict(
            max_abs_diff=diff, tolerance=0.0, ms=ms,
            timed=f'{kind} masks (a generator on the device: its own stream, checked by invariants) + '
            f'mix of images and labels, batch {n}, {hw}x{hw}')

    return check


def _probs(g, n, k, hw):
    return torch.softmax(4 * torch.randn(n, k, hw, hw, generator=g), 1)


def check_dacs(device, quick):
    n, k, hw = (2, 5, 16) if quick else (8, 19, 256)
    g = _gen(4)
    src, tgt = torch.randn(n, 3, hw, hw, generator=g), torch.randn(n, 3, hw, hw, generator=g)
    labels = torch.randint(0, k, (n, hw, hw), generator=g)
    labels[:, :2] = 255
    align = core.DistributionAlignment(torch.rand(k, generator=g) + 0.1)

    def compute(src, labels, tgt, probs, align):
        # p = 1 pastes every present class: the same masks whatever the device's stream
        gen = lambda seed: torch.Generator(src.device).manual_seed(seed)  # noqa: E731
        inter = core.dacs_mix(src, labels, tgt, probs, proportion=1.0, generator=gen(5))
        intra = core.intra_mix(tgt, probs, proportion=1.0, alignment=align, generator=gen(6))
        return {'inter': inter, 'intra': intra, 'running': align.running}

    return _run(
        'dacs', compute, (src, labels, tgt, _probs(g, n, k, hw), align), device, quick, 1e-6,
        f'dacs_mix (InterMix) + intra_mix (p = 1) with DistributionAlignment, batch {n}, {k} classes, {hw}x{hw}')


def check_distribution_alignment(device, quick):
    n, k, hw = (2, 5, 8) if quick else (8, 19, 256)
    g = _gen(8)
    align = core.DistributionAlignment(torch.rand(k, generator=g) + 0.1, momentum=0.9)
    probs = _probs(g, n, k, hw)
    pseudo = torch.randint(0, k, (3, n, hw, hw), generator=g)
    pseudo[:, :, 0] = 255

    def compute(align, probs, pseudo):
        out = [align.update(p).clone() for p in pseudo]
        return out + [align.align(probs), align(probs)]

    return _run('distribution_alignment', compute, (align, probs, pseudo), device, quick, 1e-6,
                f'3 DistributionAlignment updates + align + forward, batch {n}, {k} classes, {hw}x{hw}')


def check_weighted_loss(device, quick):
    n, k, hw = (2, 5, 8) if quick else (8, 19, 256)
    g = _gen(9)
    logits = (3 * torch.randn(n, k, hw, hw, generator=g)).requires_grad_()
    probs, soft = _probs(g, n, k, hw), _probs(g, n, k, hw)
    hard = torch.randint(0, k, (n, hw, hw), generator=g)
    hard[:, 0] = 255

    def compute(logits, probs, hard, soft):
        ws = [core.confidence_weights(probs, s, step=2500) for s in SCHEMES]
        w = ws[SCHEMES.index('pixel_threshold')] + 0.5
        losses = [
            core.weighted_pixel_loss(logits, t, w, kind) for t in (hard, soft) for kind in ('ce', 'squared_error')
        ]
        return {'weights': ws, 'losses': losses, 'grad': torch.autograd.grad(sum(losses), logits)}

    return _run(
        'weighted_pixel_loss', compute, (logits, probs, hard, soft), device, quick, 1e-5,
        f'confidence_weights (4 schemes) + weighted_pixel_loss (ce, squared error; hard, soft) '
        f'forward+backward, batch {n}, {k} classes, {hw}x{hw}')


def check_image_contrastive(device, quick):
    n, d, p = (8, 16, 3) if quick else (256, 256, 4)
    g = _gen(10)
    t = [torch.randn(n, d, generator=g) for _ in range(6)] + [torch.randn(n, p, d, generator=g)]
    for i in (0, 1, 4, 5, 6):
        t[i].requires_grad_()

    def compute(p1, p2, z1, z2, za, zb, frames):
        losses = [
            core.byol_loss(p1, z2),
            core.symmetric_byol_loss(p1, p2, z1, z2),
            core.nt_xent_loss(za, zb),
            core.nt_xent_loss(za, zb, temperature=0.1),
            core.video_anchor_loss(za, frames, core.anchor_weights(p))
        ]
        return {'losses': losses, 'grad': torch.autograd.grad(sum(losses), (p1, p2, za, zb, frames))}

    return _run(
        'image_contrastive', compute, t, device, quick, 1e-4,
        f'byol_loss + symmetric_byol_loss + nt_xent_loss x2 + video_anchor_loss ({p} frames) '
        f'forward+backward, batch {n}, D {d}')


def check_ema_lars(device, quick):
    c, n, hw = (8, 4, 8) if quick else (64, 64, 32)

    def net():
        return nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))

    online, target = _module(0, net), _module(1, net)
    g = _gen(11)
    x, y = torch.randn(n, 3, hw, hw, generator=g), torch.randint(0, 10, (n, ), generator=g)

    def compute(online, target, x, y):
        opt = core.LARS(core.lars_param_groups(online, 1e-4), lr=0.5)
        for _ in range(2):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(online(x), y).backward()
            opt.step()
            core.ema_update(target, online, 0.99, buffers=True)
        return [v for m in (online, target) for v in m.state_dict().values() if v.is_floating_point()]

    return _run('ema_lars', compute, (online, target, x, y), device, quick, 1e-5,
                f'2 x (forward+backward, LARS step, ema_update with buffers), small CNN C {c}, batch {n}, {hw}x{hw}')


def check_convert(device, quick):
    g = _gen(12)
    src_sd = OrderedDict()
    for name, shape in expected_resnet_shapes(18).items():
        if name.endswith('num_batches_tracked'):
            src_sd[name] = torch.randint(1, 1000, (), generator=g)
        elif name.endswith('running_var'):
            src_sd[name] = torch.rand(shape, generator=g) + 0.5
        else:
            src_sd[name] = torch.randn(shape, generator=g)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, 'resnet18.pth'), os.path.join(tmp, 'resnet18_mmseg.pth')
        torch.save(src_sd, src)
        convert(src, dst, 'mmseg')
        load = lambda: torch.load(dst, map_location=device, weights_only=True)['state_dict']  # noqa: E731
        got = load()
        assert list(got) == list(src_sd), f'convert: keys differ: {sorted(set(got) ^ set(src_sd))[:5]}'
        for name, t in got.items():
            assert t.device.type == device.type and t.dtype == src_sd[name].dtype, \
                f'convert: {name} is {t.dtype} on {t.device}, expected {src_sd[name].dtype} on {device}'
        diff = assert_close('convert', list(src_sd.values()), list(got.values()), 0.0)
        ms = time_ms(load, device, quick)
    return dict(max_abs_diff=diff, tolerance=0.0, ms=ms,
                timed=f'torch.load(weights_only=True) of the converted ResNet-18 mmseg checkpoint onto {device.type}')


CHECKS = ([(f'pixel_consistency_{p}_{s}x{s}', _pixel_consistency(s, p == 'dense')) for s in (7, 14)
           for p in ('dense', 'sparse')] + [(k, _propagation(k)) for k in ('ppm', 'local_ppm', 'self_attention')] +
          [('momentum_bn_autocast', check_momentum_bn_autocast)] + [(k, _mixing(k))
                                                                    for k in ('classmix', 'cutmix', 'cowmix')] +
          [('dacs_mix', check_dacs), ('distribution_alignment', check_distribution_alignment),
           ('weighted_pixel_loss', check_weighted_loss), ('image_contrastive', check_image_contrastive),
           ('ema_lars', check_ema_lars), ('convert_resnet18_mmseg', check_convert)])

if __name__ == '__main__':
    dev = torch.device(sys.argv[sys.argv.index('--device') +
                                1] if '--device' in sys.argv else 'cuda' if torch.cuda.is_available() else 'cpu')
    for name, fn in CHECKS:
        r = fn(dev, '--quick' in sys.argv)
        print(f'{name:32s} diff {r["max_abs_diff"]:.2e} <= {r["tolerance"]:.0e}  {r["ms"]:9.2f} ms  {r["timed"]}')

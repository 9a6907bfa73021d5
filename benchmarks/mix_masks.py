#!/usr/bin/env python
"""The ClassMix / DACS mix step on the device, no host sync (issue 17, item 15): each function
against the implementation it replaced (kept below as the "before"), on the CPU, in one run, at
the report's sizes: 2 x 512 x 1024 labels of 19 classes (ClassMix, DACS InterMix with 2 x 3 x 512
x 1024 images, class frequencies / the alignment's update), CutMix and CowMix masks 2 x 512 x 1024,
the DACS jitter + blur of 2 x 3 x 512 x 1024 images.

The before and after draw different random streams (the new ones are batched), so the run checks
each output's invariants (ceil(p |C_b|) classes, masks = their pixels, CowMix share, CutMix
area) rather than equality; class frequencies and the alignment must agree exactly, and strong
augmentation with p = 1 (the same draws) too.

    python benchmarks/mix_masks.py [--threads 1] [--repeats 3] [--out FILE]
"""
import math
import sys

import torch
import torch.nn.functional as F
from timing import benchmark_parser, publish, timed

from segssl.core import DistributionAlignment, class_frequencies, class_mix_masks, cow_mix_masks, cut_mix_masks
from segssl.core.dacs import inter_mix
from segssl.core.mixing import mix
from segssl.core.strong_augment import blur_kernel_size, color_jitter, strong_augment


# ---- before: the replaced implementations ---------------------------------------------------------
def before_class_mix_masks(labels, proportion=0.5, ignore_index=255, generator=None):
    masks, chosen = torch.zeros_like(labels, dtype=torch.bool), []
    for b in range(labels.shape[0]):
        classes = torch.unique(labels[b])
        classes = classes[classes != ignore_index]
        k = math.ceil(proportion * len(classes))
        pick = classes[torch.randperm(len(classes), generator=generator)[:k]] if k else classes[:0]
        masks[b] = torch.isin(labels[b], pick)
        chosen.append(sorted(pick.tolist()))
    return masks, chosen


def before_cut_mix_masks(n, height, width, area=0.5, generator=None):
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for b in range(n):
        r = math.exp((torch.rand((), generator=generator).item() * 2 - 1) * math.log(1 / area))
        h = min(height, max(1, round(math.sqrt(area * height * width * r))))
        w = min(width, max(1, round(area * height * width / h)))
        y = int(torch.randint(0, height - h + 1, (), generator=generator))
        x = int(torch.randint(0, width - w + 1, (), generator=generator))
        masks[b, y:y + h, x:x + w] = True
    return masks


def _before_kernel(sigma, radius, limit, like):
    r = min(radius, limit)
    t = torch.arange(-r, r + 1, dtype=like.dtype, device=like.device)
    k = torch.exp(-t**2 / (2 * sigma**2))
    return k / k.sum()


def before_gaussian_blur(x, sigma, radius=None):
    if radius is None:
        radius = (max(1, int(math.ceil(3 * sigma))), ) * 2
    ky = _before_kernel(sigma, int(radius[0]), x.shape[-2] - 1, x)
    kx = _before_kernel(sigma, int(radius[1]), x.shape[-1] - 1, x)
    ry, rx = (len(ky) - 1) // 2, (len(kx) - 1) // 2
    x = F.pad(x, (rx, rx, 0, 0), mode='reflect') if rx else x
    x = F.conv2d(x, kx.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, ry, ry), mode='reflect') if ry else x
    return F.conv2d(x, ky.view(1, 1, -1, 1))


def before_cow_mix_masks(n, height, width, proportion=0.5, sigma_range=(8.0, 32.0), generator=None):
    lo, hi = sigma_range
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for b in range(n):
        sigma = math.exp(math.log(lo) + torch.rand((), generator=generator).item() * (math.log(hi) - math.log(lo)))
        noise = torch.randn(1, 1, height, width, generator=generator, dtype=torch.float64)
        field = before_gaussian_blur(noise, sigma).flatten()
        k = round(proportion * height * width)
        if k > 0:
            masks[b].view(-1)[field.topk(k).indices] = True
    return masks


def before_inter_mix(src, src_labels, tgt, tgt_labels, tgt_weights, generator=None):
    masks, _ = before_class_mix_masks(src_labels.cpu(), 0.5, 255, generator)
    masks = masks.to(src.device)
    return mix(src, masks, tgt), mix(src_labels.long(), masks, tgt_labels.long()), \
        mix(torch.ones_like(tgt_weights), masks, tgt_weights), masks


def before_class_frequencies(labels, num_classes, ignore_index=255):
    valid = labels[labels != ignore_index].long()
    if valid.numel() and (valid.min() < 0 or valid.max() >= num_classes):
        raise ValueError('labels outside [0, K)')
    counts = torch.bincount(valid, minlength=num_classes).to(torch.float64)
    return counts / counts.sum() if counts.sum() > 0 else counts


def before_alignment_update(da, labels):
    labels = labels.flatten()
    valid = labels != da.ignore_index
    index = torch.where(valid, labels, torch.zeros_like(labels)).long()
    counts = torch.zeros(da.num_classes, dtype=da.running.dtype, device=labels.device)
    counts.index_add_(0, index, valid.to(counts.dtype))
    total = counts.sum()
    w = (total > 0).to(da.running.dtype) * (1 - da.momentum)
    da.running.copy_(torch.lerp(da.running, counts / total.clamp_min(1), w))
    return da.running


def before_random_gaussian_blur(x, sigma_range=(0.15, 1.15), fraction=0.1, generator=None):
    lo, hi = sigma_range
    sigma = lo + (hi - lo) * torch.rand((), generator=generator, dtype=torch.float64).item()
    n, c, h, w = x.shape
    radius = ((blur_kernel_size(h, fraction) - 1) // 2, (blur_kernel_size(w, fraction) - 1) // 2)
    return before_gaussian_blur(x.reshape(n * c, 1, h, w), sigma, radius=radius).view(n, c, h, w), sigma


def before_strong_augment(x, jitter_p=0.8, blur_p=0.5, generator=None):
    u = torch.rand(2, generator=generator, dtype=torch.float64)
    do_jitter, do_blur = bool(u[0] < jitter_p), bool(u[1] < blur_p)
    if do_jitter:
        x = color_jitter(x, 0.25, generator)
    if do_blur:
        x, _ = before_random_gaussian_blur(x, generator=generator)
    return x


# ---- the run ----------------------------------------------------------------------------------------
def check_class_mix(labels, masks, chosen):
    for b in range(labels.shape[0]):
        picked = chosen[b] if isinstance(chosen[b], list) else torch.nonzero(chosen[b]).flatten().tolist()
        present = set(labels[b].unique().tolist()) - {255}
        assert len(picked) == math.ceil(len(present) / 2) and set(picked) <= present, picked
        assert torch.equal(masks[b], torch.isin(labels[b], torch.tensor(picked, dtype=labels.dtype)))


def main(argv=None):
    p = benchmark_parser(__doc__, 'mix_masks', repeats=3, threads=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    n, k, h, w = 2, 19, 512, 1024
    g = torch.Generator().manual_seed(0)
    blocks = torch.randint(0, k, (n, h // 16, w // 16), generator=g)  # 16 x 16 px regions
    labels = blocks.repeat_interleave(16, 1).repeat_interleave(16, 2)
    labels[:, :32] = 255  # an ignored band
    src, tgt = torch.rand(n, 3, h, w, generator=g), torch.rand(n, 3, h, w, generator=g)
    pseudo, weights = torch.randint(0, k, (n, h, w), generator=g), torch.rand(n, h, w, generator=g)
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731

    # invariants of both implementations, exact agreement where the draws are the same
    check_class_mix(labels, *before_class_mix_masks(labels, generator=gen()))
    check_class_mix(labels, *class_mix_masks(labels, generator=gen(), num_classes=k))
    for cut in (before_cut_mix_masks(n, h, w, generator=gen()), cut_mix_masks(n, h, w, generator=gen())):
        assert ((cut.flatten(1).sum(1) / (h * w) - 0.5).abs() < 0.01).all()
    for cow in (before_cow_mix_masks(n, h, w, generator=gen()), cow_mix_masks(n, h, w, generator=gen())):
        assert (cow.flatten(1).sum(1) == h * w // 2).all()
    assert torch.equal(before_class_frequencies(labels, k), class_frequencies(labels, k))
    da_a, da_b = DistributionAlignment([1.0] * k), DistributionAlignment([1.0] * k)
    assert torch.equal(before_alignment_update(da_a, pseudo), da_b.update(pseudo))
    torch.testing.assert_close(before_strong_augment(tgt, 1.0, 1.0, gen()),
                               strong_augment(tgt, jitter_p=1.0, blur_p=1.0, generator=gen())[0])

    seeds = range(4)  # the jitter / blur decisions of 4 seeded steps, the same in both columns
    rows = [
        ('ClassMix masks, 19 classes (`class_mix_masks`)', lambda: before_class_mix_masks(labels, generator=gen()),
         lambda: class_mix_masks(labels, generator=gen(), num_classes=k)),
        ('DACS InterMix: masks from the source labels + mix (`inter_mix`)',
         lambda: before_inter_mix(src, labels, tgt, pseudo, weights, gen()),
         lambda: inter_mix(src, labels, tgt, pseudo, weights, generator=gen(), num_classes=k)),
        ('CutMix masks (`cut_mix_masks`)', lambda: before_cut_mix_masks(n, h, w, generator=gen()),
         lambda: cut_mix_masks(n, h, w, generator=gen())),
        ('CowMix masks, sigma in [8, 32] (`cow_mix_masks`)', lambda: before_cow_mix_masks(n, h, w, generator=gen()),
         lambda: cow_mix_masks(n, h, w, generator=gen())),
        ('class frequencies (`class_frequencies`)', lambda: before_class_frequencies(labels, k),
         lambda: class_frequencies(labels, k)),
        ('distribution alignment update (`DistributionAlignment.update`)',
         lambda: before_alignment_update(da_a, pseudo), lambda: da_b.update(pseudo)),
        ('DACS jitter (p 0.8) + blur (p 0.5), 4 seeded steps (`strong_augment`)',
         lambda: [before_strong_augment(tgt, generator=torch.Generator().manual_seed(s)) for s in seeds],
         lambda: [strong_augment(tgt, generator=torch.Generator().manual_seed(s)) for s in seeds]),
    ]
    results = [(name, timed(before, args.repeats), timed(after, args.repeats)) for name, before, after in rows]
    decisions = [strong_augment(tgt[:, :, :8, :8], generator=torch.Generator().manual_seed(s))[1] for s in seeds]
    taken = ', '.join(f"{'J' if d['jitter'] else '-'}{'B' if d['blur'] else '-'}" for d in decisions)
    lines = [
        '# ClassMix / DACS mix step on the device, no host sync (CPU)', '',
        f'Command: `python benchmarks/mix_masks.py --threads {args.threads} --repeats {args.repeats}` '
        f'(torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} after a warm-up; '
        f'labels {n} x {h} x {w} with {k} classes in 16 x 16 px regions and an ignored band, images '
        f'{n} x 3 x {h} x {w}, masks {n} x {h} x {w}). "before" is the replaced implementation, kept in the '
        'benchmark file; the run checks the invariants of both (ceil(p |C_b|) classes of those present, '
        'masks = their pixels, the CowMix share exactly p, the CutMix area within 1 %) and exact agreement of '
        'the class frequencies, the alignment update and strong augmentation at p = 1.', '',
        '| step | before s | now s | ratio now / before |', '| --- | ---: | ---: | ---: |'
    ]
    lines += [f'| {name} | {b:.4f} | {a:.4f} | {a / b:.2f} |' for name, b, a in results]
    lines += [
        '', f'The 4 strong-augmentation steps take (J jitter, B blur) {taken} in both columns. Now a step '
        'whose probability is in (0, 1) is computed and kept or dropped by a device-side decision '
        '(`torch.where`, no `bool(tensor)`), so on a CPU it costs its work even when dropped; before, '
        'the host read the decision and skipped it.', ''
    ]
    text = '\n'.join(lines)
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

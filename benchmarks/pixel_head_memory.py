#!/usr/bin/env python
"""Time and peak CPU memory of pixel head + positive-pair matching + loss, forward and backward:
dense PPM with the dense pair matrix (PixPro's way) vs LocalPPM (n = 5, 7) with the sparse
matching, at several feature-map sizes, batch 8, 256 channels. Each configuration runs in a
fresh subprocess; memory is its peak RSS minus the RSS after building the inputs.

    python benchmarks/pixel_head_memory.py [--sizes 7 14 28 56 114] [--batch 8] [--out FILE]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

from timing import publish

DENSE_LIMIT_GB = 12.0  # skip the dense path where its (HW)^2 matrices would not fit


def one_run(kind, size, batch, channels, frame):
    import torch

    from segssl.core import LocalPixelPropagation, PixelPropagation, lattice_from_boxes, pixel_consistency_loss
    torch.manual_seed(0)
    torch.set_num_threads(2)
    head = PixelPropagation(channels) if kind == 'dense' else LocalPixelPropagation(channels, frame=frame)
    x1 = torch.randn(batch, channels, size, size, requires_grad=True)
    x2 = torch.randn(batch, channels, size, size, requires_grad=True)
    t1, t2 = torch.randn(batch, channels, size, size), torch.randn(batch, channels, size, size)
    g = torch.Generator().manual_seed(1)
    boxes = []
    for _ in range(2):
        s = 60 + 160 * torch.rand(batch, 1, generator=g)
        xy = (224 - s) * torch.rand(batch, 2, generator=g)
        boxes.append(torch.cat([xy, xy + s], 1))
    flips = torch.rand(batch, generator=g) < 0.5
    l1, l2 = lattice_from_boxes(boxes[0], flips, size, size), lattice_from_boxes(boxes[1], ~flips, size, size)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    loss = pixel_consistency_loss(head(x1), t2, head(x2), t1, l1, l2, dense=(kind == 'dense'))
    loss.backward()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {'seconds': seconds, 'peak_mb': (peak - base) / 1024, 'loss': float(loss)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', type=int, nargs='+', default=[7, 14, 28, 56, 114])
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--channels', type=int, default=256)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'results', 'pixel_head_memory.md'))
    p.add_argument('--one', nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        kind, size, frame = args.one
        print(json.dumps(one_run(kind, int(size), args.batch, args.channels, int(frame))))
        return
    rows = []
    for size in args.sizes:
        dense_gb = 3 * args.batch * (size * size)**2 * 4 / 1e9
        results = {}
        for kind, frame in (('dense', 0), ('local', 5), ('local', 7)):
            name = 'PPM dense' if kind == 'dense' else f'LocalPPM {frame}x{frame}'
            if kind == 'dense' and dense_gb > DENSE_LIMIT_GB:
                results[name] = None
                continue
            out = subprocess.run([
                sys.executable, __file__, '--batch',
                str(args.batch), '--channels',
                str(args.channels), '--one', kind,
                str(size),
                str(frame)
            ], check=True, stdout=subprocess.PIPE, text=True).stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
            print(size, name, results[name], flush=True)
        rows.append((size, results))
    cmd = 'python benchmarks/pixel_head_memory.py ' + ' '.join(sys.argv[1:])
    lines = [
        '# Pixel head + matching + loss: dense PPM vs LocalPPM (CPU, forward + backward)', '',
        f'Command: `{cmd.strip()}` (batch {args.batch}, {args.channels} channels, 2 threads). '
        'Memory: peak RSS of a fresh process over the inputs. Dense PPM is skipped where its '
        f'(HW)^2 matrices need more than {DENSE_LIMIT_GB:.0f} GB.', '',
        '| map | PPM dense s / MB | LocalPPM 5x5 s / MB | LocalPPM 7x7 s / MB | memory dense / local 5x5 |',
        '| --- | --- | --- | --- | --- |'
    ]

    def cell(v):
        return 'skipped' if v is None else f"{v['seconds']:.3f} / {v['peak_mb']:.0f}"

    for size, r in rows:
        d, l5 = r['PPM dense'], r['LocalPPM 5x5']
        ratio = f"{d['peak_mb'] / max(l5['peak_mb'], 1):.1f}x" if d else '-'
        lines.append(f"| {size}x{size} | {cell(d)} | {cell(l5)} | {cell(r['LocalPPM 7x7'])} | {ratio} |")
    return publish(args.out, lines + [''])


if __name__ == '__main__':
    main()

#!/usr/bin/env python
"""Time the checkpoint bridge on a ResNet-101 SSL checkpoint, per target, in one run.

Writes a random-weight ResNet-101 in segssl's pretraining format (online + target encoder +
heads, as a real checkpoint), then times ``segssl.convert.convert`` to each target
(median of ``--repeats`` runs: read, check, write) and the read+check step alone, and writes
a Markdown table of seconds and ratios (to the torchvision target) to ``--out``.

    python benchmarks/convert_checkpoint.py [--repeats 5] [--out benchmarks/results/convert_checkpoint.md]
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

import torch
import torchvision
from timing import publish

from segssl.convert import convert, read_resnet

TARGETS = (('torchvision', 'r101_tv.pth'), ('mmseg', 'r101_mmseg.pth'), ('detectron2', 'r101_d2.pkl'))


def make_source(path):
    torch.manual_seed(0)
    sd = {k: v for k, v in torchvision.models.resnet101().state_dict().items() if not k.startswith('fc.')}
    ckpt = {
        'meta': {
            'epoch': 100
        },
        'state_dict': {
            **{
                'online_backbone.' + k: v
                for k, v in sd.items()
            },
            **{
                'target_backbone.' + k: v.clone()
                for k, v in sd.items()
            }, 'online_neck.proj.weight': torch.randn(256, 2048, 1, 1),
            'target_neck.proj.weight': torch.randn(256, 2048, 1, 1)
        }
    }
    torch.save(ckpt, path)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default=os.path.join('benchmarks', 'results', 'convert_checkpoint.md'))
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'ssl_r101.pth')
        make_source(src)
        src_mb = os.path.getsize(src) / 2**20
        convert(src, os.path.join(tmp, 'warmup.pth'), 'torchvision')  # page cache, imports
        med, best = median_time(lambda: read_resnet(src), args.repeats)
        rows.append(('read + check only (no write)', med, best, None))
        for target, name in TARGETS:
            dst = os.path.join(tmp, name)
            med, best = median_time(lambda: convert(src, dst, target), args.repeats)
            rows.append((f'--to {target}', med, best, os.path.getsize(dst) / 2**20))
    base = dict((r[0], r[1]) for r in rows)['--to torchvision']
    command = 'python benchmarks/convert_checkpoint.py ' + ' '.join(sys.argv[1:])
    lines = [
        '# Checkpoint bridge: conversion time of a ResNet-101 checkpoint per target', '',
        f'Command: `{command.strip()}` (from the repository root, the segssl venv).', '',
        f'Source: random-weight ResNet-101 in segssl\'s pretraining format (online + target '
        f'encoder + heads), {src_mb:.0f} MiB. Each figure: median (and best) of '
        f'{args.repeats} runs of `segssl.convert.convert` (load, detect, check, write to a '
        'temp file, rename), after one warm-up run; ratio = median / median of --to torchvision.', '',
        f'Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python '
        f'{platform.python_version()}, torch {torch.__version__}, torch threads '
        f'{torch.get_num_threads()}, 1-min load average at the end {os.getloadavg()[0]:.1f} '
        '(the machine was shared with other work; expect +-20% noise).', '',
        '| target | median s | best s | ratio | output MiB |', '| --- | ---: | ---: | ---: | ---: |'
    ]
    for name, med, best, mb in rows:
        lines.append(f'| {name} | {med:.3f} | {best:.3f} | {med / base:.2f} | '
                     f'{"-" if mb is None else f"{mb:.0f}"} |')
    text = '\n'.join(lines) + '\n'
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

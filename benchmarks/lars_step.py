#!/usr/bin/env python
"""LARS step (the PixPro thesis's PixPro optimiser): ``core.lars.LARS`` (default: ``torch._foreach_*`` per
parameter group, trust ratios as one ``torch.where``) against ``LARS(foreach=False)`` (the
per-tensor loop it replaced, kept in core for devices without foreach kernels), on a torchvision
ResNet-50's parameters (PixPro's two groups from ``lars_param_groups``, weight decay 4e-4, momentum 0.9) with
random gradients, in one run; same bits (checked over three steps, the first of which creates
the momentum buffers).

    python benchmarks/lars_step.py [--threads 1] [--repeats 10] [--rounds 5] [--out FILE]
"""
import argparse
import copy
import os
import sys

import torch
import torchvision
from timing import publish, timed

from segssl.core.lars import LARS, lars_param_groups


def with_gradients(model, seed):
    g = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=g) * 1e-2
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=10)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'results', 'lars_step.md'))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = [with_gradients(torchvision.models.resnet50(), 1)]
    models += [copy.deepcopy(models[0])]
    opts = [
        LARS(lars_param_groups(models[0], 4e-4), lr=1.0, momentum=0.9, foreach=False),
        LARS(lars_param_groups(models[1], 4e-4), lr=1.0, momentum=0.9)
    ]
    for step in range(3):
        for m in models:
            with_gradients(m, 10 + step)
        for opt in opts:
            opt.step()
        for (n, a), b in zip(models[0].named_parameters(), models[1].parameters()):
            assert torch.equal(a, b), (step, n)
    groups = [len(g['params']) for g in opts[1].param_groups]
    numel = sum(q.numel() for q in models[0].parameters())
    # interleaved rounds, so that a change of the machine's load hits every variant alike
    rounds = [[timed(opt.step, args.repeats) for opt in opts] for _ in range(args.rounds)]
    before, after = (sorted(r[k] for r in rounds)[len(rounds) // 2] for k in range(2))
    text = '\n'.join([
        '# LARS step: torch._foreach_* against the per-tensor loop (CPU)', '',
        f'Command: `python benchmarks/lars_step.py --threads {args.threads} --repeats {args.repeats} '
        f'--rounds {args.rounds}` (torch {torch.__version__}, {args.threads} thread(s), median of '
        f'{args.repeats} after a warm-up; '
        f'torchvision ResNet-50, {sum(groups)} parameter tensors ({numel / 1e6:.1f} M values) in '
        f'PixPro\'s two groups: {groups[0]} adapted with weight decay 4e-4, {groups[1]} BN/bias '
        'excluded; momentum 0.9; random gradients, momentum buffers already created; the median of '
        f'{args.rounds} interleaved rounds). Bit-identical parameters over three steps (checked in the run). '
        'Neither reads a value back to the host (the trust ratio is a torch.where in both).', '',
        '| step | ms | ratio |', '| --- | ---: | ---: |',
        f'| `LARS(foreach=False)`: the per-tensor loop (before) | {before * 1e3:.2f} | 1.00 |',
        f'| `LARS()`: torch._foreach_* per group (now) | {after * 1e3:.2f} | {after / before:.2f} |', '',
        'On the CPU a foreach op is a C++ loop over the tensors, so the two cost the same here up to '
        'the machine\'s noise (rounds differ by several %). The gain is meant for a GPU: per group 6 '
        'multi-tensor ops and about 8 small kernels for the stacked trust ratios, instead of 3 '
        f'(excluded) to 15 (adapted) kernel launches per tensor ({sum(groups)} tensors; the trust '
        'multiply may still launch one kernel per tensor there, as the fused kernels want equal '
        'shapes); not measured here (no GPU).', ''
    ])
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

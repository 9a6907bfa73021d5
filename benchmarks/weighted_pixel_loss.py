#!/usr/bin/env python
"""ClassMix / DACS unsupervised loss with hard pseudo-labels: ``core.weighted_pixel_loss``
(cross entropy with reduction='none', no one-hot) against the one-hot formula it replaced,
-sum_c y_c log p_c with y = one_hot(targets), at the report's 2 x 19 x 512 x 1024, forward + backward,
in one run. The one-hot tensor alone is N C H W floats.

    python benchmarks/weighted_pixel_loss.py [--threads 1] [--repeats 3] [--out FILE]
"""
import sys

import torch
import torch.nn.functional as F
from timing import benchmark_parser, publish, timed

from segssl.core.weighted_pixel_loss import weighted_pixel_loss


def one_hot_ce(logits, targets, weights, ignore_index=255):
    valid = targets != ignore_index
    y = F.one_hot(torch.where(valid, targets, torch.zeros_like(targets)).long(), logits.shape[1])
    per_pixel = -(y.permute(0, 3, 1, 2).to(logits.dtype) * F.log_softmax(logits, 1)).sum(1)
    return (weights * torch.where(valid, per_pixel, torch.zeros_like(per_pixel))).mean()


def main(argv=None):
    p = benchmark_parser(__doc__, 'weighted_pixel_loss', repeats=3, threads=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    n, c, h, w = 2, 19, 512, 1024
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(n, c, h, w, generator=g)
    targets = torch.randint(0, c, (n, h, w), generator=g)
    targets[:, ::9] = 255
    weights = torch.rand(n, h, w, generator=g)

    def run(fn):
        x = logits.clone().requires_grad_(True)
        loss = fn(x, targets, weights)
        loss.backward()
        return loss.detach(), x.grad

    (a, ga), (b, gb) = run(one_hot_ce), run(lambda x, t, wt: weighted_pixel_loss(x, t, wt, 'ce'))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-9)
    before = timed(lambda: run(one_hot_ce), args.repeats)
    after = timed(lambda: run(lambda x, t, wt: weighted_pixel_loss(x, t, wt, 'ce')), args.repeats)
    one_hot_mb = n * c * h * w * 4 / 2**20
    text = '\n'.join([
        '# Weighted pixel loss, hard pseudo-labels: no one-hot tensor (CPU)', '',
        f'Command: `python benchmarks/weighted_pixel_loss.py --threads {args.threads} --repeats {args.repeats}` '
        f'(torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} after a warm-up; '
        f'{n} x {c} x {h} x {w} float32 logits, 1/9 of the rows ignored, forward + backward). Same loss and '
        'gradient (checked in the run).', '', '| path | s | ratio | one-hot tensor MB |',
        '| --- | ---: | ---: | ---: |',
        f'| one-hot formula (before) | {before:.3f} | 1.00 | {one_hot_mb:.0f} (int64 one_hot: {2 * one_hot_mb:.0f}) |',
        f'| cross entropy, reduction=none (now) | {after:.3f} | {after / before:.2f} | 0 |', ''
    ])
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

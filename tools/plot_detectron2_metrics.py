#!/usr/bin/env python
"""Plot detectron2 runs' metrics.json (the Mask R-CNN thesis's curves) and print the final-loss table.

    python tools/plot_detectron2_metrics.py ssl=work_dirs/run_ssl scratch=work_dirs/run_scratch \
        --out work_dirs/curves.png [--table work_dirs/final_losses.md] [--beta 0.99] [--plain-ema]

Each run is LABEL=PATH or PATH (label: the folder name); PATH is an OUTPUT_DIR or its metrics.json.
Panels: loss_box_reg, loss_cls, loss_mask, their sum, total_loss, mask_rcnn/accuracy,
false_positive, false_negative; EMA-smoothed (beta 0.99, bias-corrected as TensorBoard does;
--plain-ema for s_1 = x_1) over the logged points, raw values faint.
"""
import argparse
import os
import sys

from segssl.cli import HelpFormatter, fail
from segssl.io.atomic import atomic_outputs
from segssl.runs.detectron2_metrics import LOSS_SUM, LOSSES, MASK_HEAD, final_loss_table, read_metrics, smoothed

TOOL = 'plot_detectron2_metrics'
PANELS = LOSSES + (LOSS_SUM, 'total_loss') + MASK_HEAD


def parse_run(spec):
    label, sep, path = spec.partition('=')
    if not sep:
        path = spec
        label = os.path.basename(os.path.normpath(spec if os.path.isdir(spec) else os.path.dirname(spec)))
    return label, path


def plot(runs, out, beta=0.99, debias=True):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 4, figsize=(20, 8))
    for ax, key in zip(axes.ravel(), PANELS):
        for i, (label, curves) in enumerate(runs):
            if key not in curves:
                continue
            its, raw, sm = smoothed(curves, key, beta, debias)
            color = f'C{i}'
            ax.plot(its, raw, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(its, sm, color=color, label=label, linewidth=1.6)
        ax.set_title(key if key != LOSS_SUM else 'loss_box_reg + loss_cls + loss_mask')
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    axes[0, 0].legend()
    fig.suptitle(f'EMA beta {beta} ({"bias-corrected" if debias else "plain"}); raw values faint')
    fig.tight_layout()
    with atomic_outputs(out) as (tmp, ):
        fig.savefig(tmp, format='png', dpi=80)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('runs', nargs='+', help='LABEL=PATH or PATH (OUTPUT_DIR or metrics.json)')
    p.add_argument('--out', required=True, help='PNG figure')
    p.add_argument('--table', default=None,
                   help='also write the final-loss table (Markdown) here (default: print it only)')
    p.add_argument('--beta', type=float, default=0.99, help='EMA smoothing factor of the curves')
    p.add_argument('--plain-ema', action='store_true', help='plain EMA (s_1 = x_1), not bias-corrected')
    args = p.parse_args(argv)
    try:
        runs = [(label, read_metrics(path)) for label, path in map(parse_run, args.runs)]
        table = final_loss_table(runs, args.beta, not args.plain_ema)
    except (FileNotFoundError, ValueError, KeyError) as e:
        fail(TOOL, e)
    plot(runs, args.out, args.beta, not args.plain_ema)
    print(table)
    if args.table:
        with atomic_outputs(args.table) as (tmp, ):
            with open(tmp, 'w') as f:
                f.write(table)
    print(f'figure: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

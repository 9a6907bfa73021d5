"""Figures of runs (matplotlib, written as PNG): training curves of several runs on one plot and
per-class IoU bars of two runs, read from what mmengine / mmseg wrote in a work dir.

``per_class_iou`` parses the last "per class results" table that mmseg's IoUMetric prints into
the run's log (mmseg keeps per-class IoU only there, not in scalars.json).
"""
import glob
import os
import re
from typing import Dict, List, Sequence, Tuple

from segssl.io.atomic import atomic_outputs

_ROW = re.compile(r'^\|\s*(?P<name>[^|]+?)\s*\|\s*(?P<iou>nan|[-0-9.]+)\s*\|')


def per_class_iou(work_dir: str) -> Dict[str, float]:
    """Class name -> IoU (%) from the last per-class table in ``work_dir/*/*.log``."""
    logs = sorted(glob.glob(os.path.join(work_dir, '*', '*.log')))
    if not logs:
        raise FileNotFoundError(f'no mmengine log under {work_dir}/*/*.log')
    table: Dict[str, float] = {}
    for path in logs:
        current, inside = None, False
        for line in open(path, errors='replace'):
            if 'per class results' in line:
                current, inside = {}, True
                continue
            if not inside:
                continue
            m = _ROW.match(line.strip())
            if m and m.group('name') != 'Class':
                current[m.group('name')] = float(m.group('iou'))
            elif current and not line.strip().startswith(('|', '+')):
                table, inside = current, False
        if inside and current:
            table = current
    if not table:
        raise RuntimeError(f'no per-class IoU table in {logs}: was the run evaluated with IoUMetric?')
    return table


def _save(fig, out_png: str) -> str:
    with atomic_outputs(out_png) as (tmp, ):
        fig.savefig(tmp, format='png', dpi=110, bbox_inches='tight')
    return out_png


def plot_curves(series: Dict[str, List[Tuple[float, float]]], out_png: str, ylabel: str, title: str = '') -> str:
    """One line per run: ``series`` maps a run label to its (step, value) points."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    if not series or not any(series.values()):
        raise ValueError(f'plot_curves({out_png}): no points to plot')
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, pts in series.items():
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    try:
        return _save(fig, out_png)
    finally:
        plt.close(fig)


def plot_per_class_bars(runs: Dict[str, Dict[str, float]], out_png: str, classes: Sequence[str] = None,
                        title: str = 'per-class IoU') -> str:
    """Grouped bars: per class, one bar per run (IoU in %). ``classes`` fixes the order (default:
    the first run's)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    if not runs:
        raise ValueError('plot_per_class_bars: no runs')
    classes = list(classes or next(iter(runs.values())))
    x, width = np.arange(len(classes)), 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(7, 0.5 * len(classes)), 4))
    for i, (label, ious) in enumerate(runs.items()):
        ax.bar(x + i * width - 0.4 + width / 2, [ious.get(c, float('nan')) for c in classes], width, label=label)
    ax.set_xticks(x, classes, rotation=60, ha='right')
    ax.set_ylabel('IoU (%)')
    ax.set_title(title)
    ax.legend()
    try:
        return _save(fig, out_png)
    finally:
        plt.close(fig)

"""Reading detectron2's ``metrics.json`` (one JSON record per line, written by ``JSONWriter``
every 20 iterations: losses are medians over the last 20 iterations) into curves, and the Mask R-CNN thesis's
final-loss table. Framework-free: the file is plain JSON lines."""
import json
import math
import os

import numpy as np

from segssl.runs.smoothing import ema_smooth

LOSSES = ('loss_box_reg', 'loss_cls', 'loss_mask')
LOSS_SUM = 'loss_box_reg+loss_cls+loss_mask'
MASK_HEAD = ('mask_rcnn/accuracy', 'mask_rcnn/false_positive', 'mask_rcnn/false_negative')


def read_metrics(path):
    """``{key: (iterations ndarray, values ndarray)}`` from a metrics.json, plus the sum of the
    three losses under ``LOSS_SUM`` (at the records holding all three). A record repeated for an
    iteration (a resumed run) replaces the earlier one.
    """
    if os.path.isdir(path):
        path = os.path.join(path, 'metrics.json')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'metrics file {path!r} does not exist (detectron2 writes '
                                'OUTPUT_DIR/metrics.json while training)')
    by_iter = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path!r} line {n}: not JSON ({e})') from None
            if 'iteration' not in rec:
                raise ValueError(f'{path!r} line {n}: no "iteration" key')
            by_iter.setdefault(rec['iteration'], {}).update(rec)
    curves = {}
    for it in sorted(by_iter):
        rec = by_iter[it]
        if all(k in rec for k in LOSSES):
            rec[LOSS_SUM] = sum(rec[k] for k in LOSSES)
        for k, v in rec.items():
            if k != 'iteration' and isinstance(v, (int, float)) and not isinstance(v, bool):
                curves.setdefault(k, ([], []))
                curves[k][0].append(it)
                curves[k][1].append(float(v))
    return {k: (np.array(its), np.array(vals, dtype=np.float64)) for k, (its, vals) in curves.items()}


def smoothed(curves, key, beta=0.99, debias=True):
    """``(iterations, raw, EMA-smoothed)`` of ``key``; KeyError naming the keys present."""
    if key not in curves:
        raise KeyError(f'{key!r} not in metrics (found: {", ".join(sorted(curves)) or "nothing"})')
    its, vals = curves[key]
    return its, vals, ema_smooth(vals, beta, debias)


def final_loss_table(runs, beta=0.99, debias=True):
    """Markdown table: per run, the last logged iteration and the final EMA-smoothed (and raw)
    loss_box_reg, loss_cls, loss_mask and their sum, and the last segm AP if evaluated.

    Args:
        runs (list[tuple[str, dict]]): ``(label, read_metrics(...))``.
    """
    head = ('| run | iteration | ' + ' | '.join(LOSSES) + ' | sum | segm AP |\n'
            '| --- | ---: | ' + ' | '.join('---:' for _ in LOSSES) + ' | ---: | ---: |')
    rows = [head]
    for label, curves in runs:
        cells, last_it = [], None
        for key in LOSSES + (LOSS_SUM, ):
            its, raw, sm = smoothed(curves, key, beta, debias)
            last_it = int(its[-1])
            cells.append(f'{sm[-1]:.4f} ({raw[-1]:.4f})')
        ap = curves.get('segm/AP')
        ap_cell = '-' if ap is None or not math.isfinite(ap[1][-1]) else f'{ap[1][-1]:.2f}'
        rows.append(f'| {label} | {last_it} | ' + ' | '.join(cells) + f' | {ap_cell} |')
    kind = 'bias-corrected' if debias else 'plain'
    return ('\n'.join(rows) + f'\n\nLosses: final {kind} EMA (beta {beta}) of the logged values, '
            'raw last logged value in brackets.\n')

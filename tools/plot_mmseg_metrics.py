#!/usr/bin/env python
"""Loss curves and per-class IoU of mmseg runs, read from mmengine's scalars.json.

    python tools/plot_mmseg_metrics.py work_dirs/fcn ssl=work_dirs/fcn_ssl \
        [--out mmseg_metrics.png] [--metrics IoU Acc] [--losses loss decode.loss_ce]

Each RUN is PATH or NAME=PATH (NAME: the work dir's folder name). PATH is a work dir (its newest
TIMESTAMP/vis_data/scalars.json, as mmengine names them), a TIMESTAMP folder, or a scalars.json.
scalars.json holds one JSON object per line: training lines (``loss``, ``lr``, ..., ``step``)
and validation lines (``aAcc``, ``mIoU``, ..., ``step``); the per-class values ``IoU.<class>``,
``Acc.<class>`` are there when the run had segssl's PerClassMetricsHook
(``default_hooks.per_class_metrics``, in every segssl schedule).

The figure (PNG, written atomically): a panel of each --losses key against the iteration, one
line per run, and per --metrics family a panel of per-class bars from each run's last validation
(a NaN value, a class with an empty union, has no bar). The same per-class values are printed as
a Markdown table, with the run's mean (``mIoU`` for IoU) in the last row.
"""
import argparse
import glob
import json
import math
import os
import sys
from typing import Dict, List, Sequence, Tuple

from segssl.cli import HelpFormatter
from segssl.io.atomic import atomic_outputs

SCALARS = os.path.join('vis_data', 'scalars.json')


def scalars_path(path: str) -> str:
    """The scalars.json a RUN names: the file itself, TIMESTAMP/vis_data/scalars.json, or a work
    dir's newest TIMESTAMP/vis_data/scalars.json (mmengine's timestamps sort by time)."""
    if os.path.isfile(path):
        return path
    if os.path.isfile(os.path.join(path, SCALARS)):
        return os.path.join(path, SCALARS)
    found = sorted(glob.glob(os.path.join(glob.escape(path), '*', SCALARS)))
    if not os.path.isdir(path) or not found:
        raise FileNotFoundError(f'{path}: no scalars.json (expected a work dir holding '
                                f'TIMESTAMP/{SCALARS}, a TIMESTAMP folder or a scalars.json file)')
    return max(found, key=lambda p: os.path.basename(os.path.dirname(os.path.dirname(p))))


def read_records(path: str) -> List[dict]:
    """The JSON objects of a scalars.json, one per line (mmengine writes NaN for empty classes)."""
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{n}: not a JSON line ({e.msg})') from None
            if not isinstance(rec, dict):
                raise ValueError(f'{path}:{n}: expected a JSON object, got {type(rec).__name__}')
            records.append(rec)
    if not records:
        raise ValueError(f'{path}: empty')
    return records


def curves(records: Sequence[dict], keys: Sequence[str], path: str) -> Dict[str, List[Tuple[int, float]]]:
    """key -> (step, value) of every record holding it (training lines)."""
    out = {}
    for key in keys:
        out[key] = [(rec.get('step', rec.get('iter')), rec[key]) for rec in records if key in rec]
        if not out[key]:
            raise ValueError(f'{path}: no record has {key!r} (a training scalar, e.g. loss or decode.loss_ce)')
    return out


def last_per_class(records: Sequence[dict], family: str, path: str) -> Tuple[int, Dict[str, float], float]:
    """(step, class -> value, mean) of the last record holding ``<family>.<class>`` keys; mean is
    that record's ``m<family>`` (mIoU, mAcc, ...) or NaN if absent."""
    prefix = family + '.'
    for rec in reversed(records):
        values = {k[len(prefix):]: float(v) for k, v in rec.items() if k.startswith(prefix)}
        if values:
            return rec.get('step'), values, float(rec.get('m' + family, math.nan))
    raise ValueError(f'{path}: no validation record has {family}.<class> keys (they come from segssl\'s '
                     f'PerClassMetricsHook, default_hooks.per_class_metrics)')


def load_run(spec: str, losses: Sequence[str], metrics: Sequence[str]) -> dict:
    """A RUN (PATH or NAME=PATH; a PATH that exists is never split at '='): its name, its
    scalars.json, the --losses curves and the last per-class values of each --metrics family."""
    name, sep, path = spec.partition('=')
    if not sep or os.path.exists(spec):
        name, path = '', spec
    scalars = scalars_path(path)
    if not name:
        folder = os.path.dirname(os.path.abspath(scalars))
        if os.path.basename(folder) == 'vis_data':
            folder = os.path.dirname(os.path.dirname(folder))  # WORK_DIR/TIMESTAMP/vis_data -> WORK_DIR
        name = os.path.basename(folder)
    records = read_records(scalars)
    return dict(name=name, path=scalars, curves=curves(records, losses, scalars),
                per_class={f: last_per_class(records, f, scalars)
                           for f in metrics})


def fmt(v: float) -> str:
    return 'nan' if math.isnan(v) else f'{v:.2f}'


def table(runs: Sequence[dict], family: str) -> str:
    """Markdown: one row per class (in the first run's order, then any others'), one column per run."""
    classes = list(dict.fromkeys(c for r in runs for c in r['per_class'][family][1]))
    head = '| class | ' + ' | '.join(f'{r["name"]} {family}' for r in runs) + ' |'
    rows = [head, '|' + '---|' * (len(runs) + 1)]
    for c in classes:
        rows.append(f'| {c} | ' + ' | '.join(fmt(r['per_class'][family][1].get(c, math.nan)) for r in runs) + ' |')
    rows.append(f'| m{family} | ' + ' | '.join(fmt(r['per_class'][family][2]) for r in runs) + ' |')
    return '\n'.join(rows)


def plot(runs: Sequence[dict], losses: Sequence[str], metrics: Sequence[str], out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401  (matplotlib.ticker.MaxNLocator)
    import numpy as np
    n_classes = max(len(r['per_class'][f][1]) for r in runs for f in metrics)
    fig, axes = plt.subplots(1 + len(metrics), 1,
                             figsize=(max(8, 0.45 * n_classes * max(1,
                                                                    len(runs) / 2)), 4 * (1 + len(metrics))),
                             squeeze=False)
    ax = axes[0, 0]
    for i, r in enumerate(runs):
        for j, key in enumerate(losses):
            steps, values = zip(*r['curves'][key])
            ax.plot(steps, values, color=f'C{i}', linestyle=('-', '--', ':', '-.')[j % 4],
                    marker='.' if len(steps) < 20 else None, label=f'{r["name"]}: {key}')
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel('iteration')
    ax.set_ylabel(', '.join(losses))
    ax.set_title('training loss')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    width = 0.8 / len(runs)
    for ax, family in zip(axes[1:, 0], metrics):
        classes = list(dict.fromkeys(c for r in runs for c in r['per_class'][family][1]))
        x = np.arange(len(classes))
        for i, r in enumerate(runs):
            step, values, mean = r['per_class'][family]
            ax.bar(x + (i - (len(runs) - 1) / 2) * width, [values.get(c, math.nan) for c in classes], width,
                   color=f'C{i}', label=f'{r["name"]} (step {step}, m{family} {fmt(mean)})')
        ax.set_xticks(x)
        ax.set_xticklabels(classes, rotation=60, ha='right', fontsize=8)
        ax.set_ylabel(f'{family} (%)')
        ax.set_title(f'{family} per class, last validation')
        ax.grid(axis='y', alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        with atomic_outputs(out) as (tmp, ):
            fig.savefig(tmp, format='png', dpi=90)
    finally:
        plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        'runs', nargs='+', metavar='RUN',
        help='PATH or NAME=PATH: a work dir (newest TIMESTAMP/vis_data/scalars.json), a TIMESTAMP '
        'folder or a scalars.json; NAME labels the run (default: the work dir\'s name)')
    p.add_argument('--out', default='mmseg_metrics.png', help='the PNG figure (default: %(default)s)')
    p.add_argument(
        '--metrics', nargs='+', default=['IoU'],
        help='per-class families to show, the <family>.<class> keys of scalars.json: IoU, Acc, '
        'Dice, ... (default: IoU)')
    p.add_argument('--losses', nargs='+', default=['loss'],
                   help='training scalars plotted against the iteration, e.g. loss decode.loss_ce '
                   '(default: loss)')
    args = p.parse_args(argv)
    try:
        runs = [load_run(spec, args.losses, args.metrics) for spec in args.runs]
    except (OSError, ValueError) as e:
        p.exit(2, f'{p.prog}: error: {e}\n')
    for family in args.metrics:
        print(table(runs, family))
        print()
    plot(runs, args.losses, args.metrics, args.out)
    print(f'figure: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

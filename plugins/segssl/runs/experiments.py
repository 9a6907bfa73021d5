"""Experiments over configs x seeds: plan the runs, run each through the tool it belongs to
(mmseg's ``tools/train.py`` for ``.py`` configs, detectron2's ``tools/train_net.py`` for ``.yaml``),
read back the metric the tool wrote, and tabulate mean +- std over seeds as the reports' tables do.

Framework-free: it starts processes and reads JSON. A finished run leaves ``segssl_run.json``
(written atomically, only after the tool succeeded and its metric was read), so re-running an
experiment skips what is done and resumes what is not.
"""
import csv
import io
import json
import math
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from segssl.io.atomic import atomic_outputs

from .scalars import last_mmengine_metrics

DONE_FILE = 'segssl_run.json'


@dataclass(frozen=True)
class Run:
    """One training run: ``config`` trained with ``seed`` into ``work_dir``."""
    config: str
    seed: int
    work_dir: str
    extra: Tuple[str, ...] = ()  # appended to the tool's command line

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.config))[0]

    @property
    def kind(self) -> str:
        ext = os.path.splitext(self.config)[1]
        if ext == '.py':
            return 'mmseg'
        if ext in ('.yaml', '.yml'):
            return 'detectron2'
        raise ValueError(f'{self.config}: expected an mmseg .py or a detectron2 .yaml config')


def plan_runs(configs: Sequence[str], seeds: Sequence[int], out: str, extra: Sequence[str] = ()) -> List[Run]:
    """Every (config, seed) pair, each in ``out/<config name>/seed<seed>``."""
    if not configs or not seeds:
        raise ValueError(f'an experiment needs configs and seeds, got {list(configs)} and {list(seeds)}')
    names = [os.path.splitext(os.path.basename(c))[0] for c in configs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f'two configs share the name(s) {sorted(dup)}: their work dirs would collide')
    return [
        Run(c, int(s), os.path.join(out, n, f'seed{int(s)}'), tuple(extra)) for c, n in zip(configs, names)
        for s in seeds
    ]


def command(run: Run, python: str, launcher_prefix: Sequence[str] = ()) -> List[str]:
    """The command line that trains ``run``; ``launcher_prefix`` (e.g. ``torchrun --nproc_per_node=8``)
    replaces ``python`` for distributed mmseg runs."""
    if run.kind == 'mmseg':
        head = list(launcher_prefix) if launcher_prefix else [python]
        cmd = head + ['tools/train.py', run.config, '--work-dir', run.work_dir]
        if launcher_prefix:
            cmd += ['--launcher', 'pytorch']
        extra = list(run.extra)
        seed = f'randomness.seed={run.seed}'
        if '--cfg-options' in extra:  # train.py keeps only the last --cfg-options list: join them
            extra.insert(extra.index('--cfg-options') + 1, seed)
        else:
            extra += ['--cfg-options', seed]
        return cmd + extra
    return [
        python, 'tools/train_net.py', '--config-file', run.config, 'OUTPUT_DIR', run.work_dir, 'SEED',
        str(run.seed)
    ] + list(run.extra)


def read_metrics(run: Run, metric_key: str = 'mIoU') -> Dict[str, float]:
    """The final evaluation a finished run wrote: mmengine's last ``scalars.json`` record holding
    ``metric_key`` (mmseg), or ``eval_results.json`` flattened as ``segm/AP`` etc. (detectron2)."""
    if run.kind == 'mmseg':
        rec = last_mmengine_metrics(run.work_dir, metric_key)
        return {k: float(v) for k, v in rec.items() if isinstance(v, (int, float))}
    path = os.path.join(run.work_dir, 'eval_results.json')
    if not os.path.isfile(path):
        raise RuntimeError(f'{path} is missing: the detectron2 run did not finish its evaluation')
    res = json.load(open(path))
    return {f'{task}/{k}': float(v) for task, vals in res.items() for k, v in vals.items()}


def is_finished(run: Run) -> bool:
    return os.path.isfile(os.path.join(run.work_dir, DONE_FILE))


def finished_record(run: Run) -> dict:
    """What :func:`mark_finished` recorded: ``config``, ``seed``, ``seconds`` and ``metrics``."""
    with open(os.path.join(run.work_dir, DONE_FILE)) as f:
        return json.load(f)


def finished_metrics(run: Run) -> Dict[str, float]:
    return finished_record(run)['metrics']


def mark_finished(run: Run, metrics: Dict[str, float], seconds: float) -> None:
    """Record a finished run atomically: the file exists only once complete."""
    dst = os.path.join(run.work_dir, DONE_FILE)
    with atomic_outputs(dst) as (tmp, ):
        with open(tmp, 'w') as f:
            json.dump({
                'config': run.config,
                'seed': run.seed,
                'seconds': round(seconds, 1),
                'metrics': metrics
            }, f, indent=1)


def execute(runs: Sequence[Run], train: Callable[[Run], float], metric_key: str = 'mIoU',
            log: Callable[[str], None] = print) -> Dict[Run, Dict[str, float]]:
    """Run each unfinished run with ``train(run) -> seconds`` (which must raise on failure), read
    its metrics, mark it finished; finished runs are skipped. Returns metrics per run."""
    results = {}
    for i, run in enumerate(runs, 1):
        if is_finished(run):
            log(f'[{i}/{len(runs)}] {run.name} seed {run.seed}: finished before, skipped')
        else:
            log(f'[{i}/{len(runs)}] {run.name} seed {run.seed}: training in {run.work_dir}')
            seconds = train(run)
            mark_finished(run, read_metrics(run, metric_key), seconds)
        results[run] = finished_metrics(run)
    return results


def mean_std(values: Sequence[float]):
    """Mean and sample standard deviation (n - 1 in the denominator; 0 for a single value)."""
    n = len(values)
    if n == 0:
        raise ValueError('mean_std of no values')
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean)**2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def summarise(results: Dict[Run, Dict[str, float]], metrics: Sequence[str]) -> List[dict]:
    """One row per config (in first-seen order): per metric its mean, std and per-seed values."""
    rows: Dict[str, dict] = {}
    for run, vals in results.items():
        row = rows.setdefault(run.name, {'config': run.name, 'seeds': [], 'values': {m: [] for m in metrics}})
        row['seeds'].append(run.seed)
        for m in metrics:
            if m not in vals:
                raise KeyError(f'{run.work_dir}: no metric {m!r}; it has {sorted(vals)}')
            row['values'][m].append(vals[m])
    for row in rows.values():
        row['stats'] = {m: mean_std(v) for m, v in row['values'].items()}
    return list(rows.values())


def table_markdown(rows: List[dict], metrics: Sequence[str]) -> str:
    head = '| config | seeds | ' + ' | '.join(f'{m} (mean +- std)' for m in metrics) + ' | per seed |'
    lines = [head, '|' + ' --- |' * (len(metrics) + 3)]
    for r in rows:
        cells = [f'{r["stats"][m][0]:.2f} +- {r["stats"][m][1]:.2f}' for m in metrics]
        per_seed = '; '.join(f'{m}: ' + ', '.join(f'{v:.2f}' for v in r['values'][m]) for m in metrics)
        lines.append(f'| {r["config"]} | {", ".join(map(str, r["seeds"]))} | ' + ' | '.join(cells) + f' | {per_seed} |')
    return '\n'.join(lines) + '\n'


def table_csv(rows: List[dict], metrics: Sequence[str]) -> str:
    """One line per config: seeds, mean and std per metric, and the per-seed values joined by ';'."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['config', 'seeds'] + [f'{m}_{s}' for m in metrics for s in ('mean', 'std', 'per_seed')])
    for r in rows:
        cells = []
        for m in metrics:
            mean, std = r['stats'][m]
            cells += [f'{mean:.4f}', f'{std:.4f}', ';'.join(f'{v:.4f}' for v in r['values'][m])]
        w.writerow([r['config'], ';'.join(map(str, r['seeds']))] + cells)
    return buf.getvalue()


def write_tables(rows: List[dict], metrics: Sequence[str], out: str, stem: str = 'results',
                 preamble: Optional[str] = None) -> List[str]:
    """``out/<stem>.md`` and ``out/<stem>.csv``, both or neither."""
    md_path, csv_path = os.path.join(out, stem + '.md'), os.path.join(out, stem + '.csv')
    with atomic_outputs(md_path, csv_path) as (md_tmp, csv_tmp):
        with open(md_tmp, 'w') as f:
            f.write((preamble + '\n\n' if preamble else '') + table_markdown(rows, metrics))
        with open(csv_tmp, 'w') as f:
            f.write(table_csv(rows, metrics))
    return [md_path, csv_path]


def write_results(stem: str, summary: dict, md_lines: Sequence[str]) -> str:
    """A headline tool's ``<stem>.json`` (``summary``) and ``<stem>.md`` (the lines), both or neither;
    returns the markdown, framed, for the tool to print."""
    text = '\n'.join(md_lines)
    with atomic_outputs(stem + '.json', stem + '.md') as (tj, tm):
        with open(tj, 'w') as f:
            json.dump(summary, f, indent=1)
        with open(tm, 'w') as f:
            f.write(text + '\n')
    return '\n' + '=' * 78 + '\n' + text + '\n' + '=' * 78


def compare_arms(a: Sequence[float], b: Sequence[float]) -> dict:
    """The reports' headline test, A against B over seeds: the difference of means, the larger of the
    two sample stds (the seed-to-seed spread), whether A beats B by more than that spread, and
    whether every A run is above every B run."""
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    spread = max(sa, sb)
    return dict(a_mean=ma, a_std=sa, b_mean=mb, b_std=sb, diff=ma - mb, spread=spread, a_better_beyond_spread=(ma - mb)
                > spread, separated=min(a) > max(b))


def comparison_markdown(title: str, a_name: str, a: Sequence[float], b_name: str, b: Sequence[float],
                        seeds: Sequence[int], unit: str = 'mIoU') -> str:
    """A report-style table of two arms (per-seed values and mean +- std) and its verdict line."""
    c = compare_arms(a, b)
    lines = [
        f'### {title}', '', '| arm | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | mean +- std |',
        '| --- |' + ' ---: |' * (len(seeds) + 1)
    ]
    for name, vals, m, s in ((a_name, a, c['a_mean'], c['a_std']), (b_name, b, c['b_mean'], c['b_std'])):
        lines.append(f'| {name} | ' + ' | '.join(f'{v:.2f}' for v in vals) + f' | {m:.2f} +- {s:.2f} |')
    verdict = 'yes' if c['a_better_beyond_spread'] else 'no'
    lines += [
        '', f'{a_name} - {b_name}: {c["diff"]:+.2f} {unit}; largest seed std {c["spread"]:.2f}; '
        f'better by more than the seed spread: {verdict}; every {a_name} run above every {b_name} run: '
        f'{"yes" if c["separated"] else "no"}'
    ]
    return '\n'.join(lines) + '\n'

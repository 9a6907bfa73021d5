#!/usr/bin/env python
"""DACS vs source-only on segssl's synthetic source -> cityscapes renderings (the ClassMix/DACS thesis's claim
that cross-domain mixing beats training on the source alone), several seeds each, through mmseg's
own train.py, so the figures can be regenerated:

    python tools/run_dacs_experiment.py [--out work_dirs/dacs_experiment] [--iters 1000]
        [--seeds 0 1 2] [--methods source-only dacs] [--data DIR]

Each run uses the synthetic twin configs in configs/uda/ with the same iterations, optimiser,
crops and batch (2 source [+ 2 target]); the seed sets mmengine's randomness.seed (weights, data
order, crops) and, for DACS, the mask/augmentation generator. The target validation mIoU after
the last iteration (no early stopping, as the report) of every run goes to OUT/results.json and a
table with mean +- sample std per method to OUT/results.md, both atomically. Runs go through
segssl.runs.experiments.execute: a finished run leaves OUT/<method>_s<seed>/segssl_run.json (written
atomically once its metrics are read) and is reused (delete OUT/<method>_s<seed> to redo one).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter
from segssl.io.atomic import atomic_outputs
from segssl.runs import add_threads_option, thread_env
from segssl.runs.experiments import Run, command, execute, finished_record

CONFIGS = {
    'source-only': 'configs/uda/source-only_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
    'dacs': 'configs/uda/dacs_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
}
DATA = dict(num_train=64, num_val=32, height=64, width=128, seed=0)


def plan(methods, seeds, iters, out):
    """{Run: method} for every seed and method (seeds outer), each in ``OUT/<method>_s<seed>``:
    ``iters`` iterations, one validation and checkpoint at the end; the seed is mmengine's
    randomness.seed (segssl.runs.experiments.command adds it) and, for DACS, the model's generator."""
    runs = {}
    for seed in seeds:
        for method in methods:
            opts = [
                f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}', f'param_scheduler.0.end={iters}',
                f'default_hooks.checkpoint.interval={iters}'
            ]
            if method == 'dacs':
                opts.append(f'model.seed={seed}')
            run = Run(CONFIGS[method], seed, os.path.join(out, f'{method}_s{seed}'), ('--cfg-options', *opts))
            runs[run] = method
    return runs


def train(run, data_root):
    """Train ``run`` through tools/train.py, its output in ``<work_dir>.log``; return the seconds
    (raises if the training fails, so the run is not marked finished)."""
    env = dict(os.environ, SEGSSL_DATA_ROOT=data_root, PYTHONUNBUFFERED='1')
    log_path = run.work_dir + '.log'
    t0 = time.time()
    with open(log_path, 'w') as log:
        r = subprocess.run(command(run, sys.executable), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode:
        raise RuntimeError(f'{run.name} seed {run.seed} failed (exit {r.returncode}); see {log_path}')
    return time.time() - t0


def summarise(results, methods):
    rows = {}
    for m in methods:
        v = [r['mIoU'] for r in results if r['method'] == m]
        rows[m] = dict(values=v, mean=statistics.mean(v), std=statistics.stdev(v) if len(v) > 1 else 0.0)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument('--out', default='work_dirs/dacs_experiment',
                    help='folder of the runs, results.json and results.md')
    ap.add_argument('--data', default=None, help='synthetic data root, generated if missing (default: OUT/data)')
    ap.add_argument('--iters', type=int, default=1000, help='training iterations per run')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='one run per method and seed')
    ap.add_argument('--methods', nargs='+', default=list(CONFIGS), choices=list(CONFIGS), help='methods to run')
    add_threads_option(ap, 1)
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error(f'--threads must be >= 1, got {args.threads}')
    os.environ.update(thread_env(args.threads))  # every run inherits it: figures independent of the shell
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    data_root = os.path.abspath(args.data or os.path.join(out, 'data'))
    if not os.path.isdir(os.path.join(data_root, 'source')):
        from segssl.synthetic import generate
        generate(data_root, **DATA)
    runs = plan(args.methods, args.seeds, args.iters, out)
    metrics = execute(list(runs), lambda run: train(run, data_root))
    results = []
    for run, method in runs.items():
        m = metrics[run]
        r = dict(method=method, seed=run.seed, iters=int(m.get('step', args.iters)), mIoU=m['mIoU'], aAcc=m['aAcc'],
                 seconds=finished_record(run)['seconds'])
        print(f"{method:12s} seed {run.seed}: target val mIoU {r['mIoU']:.2f}  ({r['seconds']:.0f} s)", flush=True)
        results.append(r)
    rows = summarise(results, args.methods)
    lines = [
        f'Synthetic source -> cityscapes, {args.iters} iterations, seeds {args.seeds}, target val mIoU (%)', '',
        '| method | ' + ' | '.join(f'seed {s}' for s in args.seeds) + ' | mean +- std |',
        '| --- |' + ' --- |' * (len(args.seeds) + 1)
    ]
    for m, row in rows.items():
        lines.append(f'| {m} | ' + ' | '.join(f'{v:.2f}'
                                              for v in row['values']) + f" | {row['mean']:.2f} +- {row['std']:.2f} |")
    if {'dacs', 'source-only'} <= set(rows):
        gap = rows['dacs']['mean'] - rows['source-only']['mean']
        spread = max(rows['dacs']['std'], rows['source-only']['std'])
        lines += [
            '', f'DACS - source-only: {gap:+.2f} mIoU; larger seed std: {spread:.2f}; '
            f"DACS ahead by more than the spread: {'yes' if gap > spread else 'no'}"
        ]
    text = '\n'.join(lines)
    print(text)
    with atomic_outputs(os.path.join(out, 'results.json'), os.path.join(out, 'results.md')) as (js, md):
        with open(js, 'w') as f:
            json.dump(dict(results=results, summary=rows, data=DATA), f, indent=1)
        with open(md, 'w') as f:
            f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

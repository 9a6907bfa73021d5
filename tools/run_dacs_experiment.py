#!/usr/bin/env python
"""DACS vs source-only on segssl's synthetic source -> cityscapes renderings (seed 004's claim
that cross-domain mixing beats training on the source alone), several seeds each, through mmseg's
own train.py, so the figures can be regenerated:

    python tools/run_dacs_experiment.py [--out work_dirs/dacs_experiment] [--iters 1000]
        [--seeds 0 1 2] [--methods source-only dacs] [--data DIR]

Each run uses the synthetic twin configs in configs/uda/ with the same iterations, optimiser,
crops and batch (2 source [+ 2 target]); the seed sets mmengine's randomness.seed (weights, data
order, crops) and, for DACS, the mask/augmentation generator. The target validation mIoU after
the last iteration (no early stopping, as the seed) of every run goes to OUT/results.json and a
table with mean +- sample std per method to OUT/results.md. Runs already finished in OUT are
reused (delete OUT/<method>_s<seed> to redo one).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter  # noqa: E402

CONFIGS = {
    'source-only': 'configs/uda/source-only_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
    'dacs': 'configs/uda/dacs_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
}
DATA = dict(num_train=64, num_val=32, height=64, width=128, seed=0)


def final_metrics(work_dir):
    """The last validation record (mIoU, aAcc, ...) mmengine wrote under ``work_dir``."""
    records = [json.loads(line) for p in sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
               for line in open(p)]
    vals = [r for r in records if 'mIoU' in r]
    if not vals:
        raise RuntimeError(f'{work_dir}: no validation record in scalars.json (did the run finish?)')
    return vals[-1]


def run_one(method, seed, iters, data_root, out):
    work = os.path.join(out, f'{method}_s{seed}')
    done = os.path.join(work, 'metrics.json')
    if os.path.isfile(done):
        return json.load(open(done))
    opts = [f'randomness.seed={seed}', f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'param_scheduler.0.end={iters}', f'default_hooks.checkpoint.interval={iters}']
    if method == 'dacs':
        opts.append(f'model.seed={seed}')
    env = dict(os.environ, SEGSSL_DATA_ROOT=data_root, PYTHONUNBUFFERED='1')
    t0 = time.time()
    with open(os.path.join(out, f'{method}_s{seed}.log'), 'w') as log:
        r = subprocess.run([sys.executable, 'tools/train.py', CONFIGS[method], '--work-dir', work,
                            '--cfg-options', *opts], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode:
        raise RuntimeError(f'{method} seed {seed} failed (exit {r.returncode}); see {log.name}')
    rec = final_metrics(work)
    result = dict(method=method, seed=seed, iters=iters, mIoU=rec['mIoU'], aAcc=rec['aAcc'],
                  seconds=round(time.time() - t0, 1))
    with open(done, 'w') as f:
        json.dump(result, f)
    return result


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
    ap.add_argument('--data', default=None,
                    help='synthetic data root, generated if missing (default: OUT/data)')
    ap.add_argument('--iters', type=int, default=1000, help='training iterations per run')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='one run per method and seed')
    ap.add_argument('--methods', nargs='+', default=list(CONFIGS), choices=list(CONFIGS), help='methods to run')
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    data_root = os.path.abspath(args.data or os.path.join(out, 'data'))
    if not os.path.isdir(os.path.join(data_root, 'source')):
        from segssl.synthetic import generate
        generate(data_root, **DATA)
    results = []
    for seed in args.seeds:
        for method in args.methods:
            r = run_one(method, seed, args.iters, data_root, out)
            print(f"{method:12s} seed {seed}: target val mIoU {r['mIoU']:.2f}  ({r['seconds']:.0f} s)", flush=True)
            results.append(r)
    rows = summarise(results, args.methods)
    lines = [f'Synthetic source -> cityscapes, {args.iters} iterations, seeds {args.seeds}, target val mIoU (%)',
             '', '| method | ' + ' | '.join(f'seed {s}' for s in args.seeds) + ' | mean +- std |',
             '| --- |' + ' --- |' * (len(args.seeds) + 1)]
    for m, row in rows.items():
        lines.append(f'| {m} | ' + ' | '.join(f'{v:.2f}' for v in row['values'])
                     + f" | {row['mean']:.2f} +- {row['std']:.2f} |")
    if {'dacs', 'source-only'} <= set(rows):
        gap = rows['dacs']['mean'] - rows['source-only']['mean']
        spread = max(rows['dacs']['std'], rows['source-only']['std'])
        lines += ['', f'DACS - source-only: {gap:+.2f} mIoU; larger seed std: {spread:.2f}; '
                  f"DACS ahead by more than the spread: {'yes' if gap > spread else 'no'}"]
    text = '\n'.join(lines)
    print(text)
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(dict(results=results, summary=rows, data=DATA), f, indent=1)
    with open(os.path.join(out, 'results.md'), 'w') as f:
        f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

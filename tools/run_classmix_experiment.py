#!/usr/bin/env python
"""ClassMix vs supervised-only on the synthetic set with 1/8 of the labels (the ClassMix/DACS thesis's claim, CPU
sized): the same student (DeepLab-v2, random-init half-width ResNet-18, 64x128), optimiser, schedule and
iterations; 3 seeds each; validation mIoU after the last iteration (mmseg's IoUMetric).

    python tools/run_classmix_experiment.py --work-dir work_dirs/classmix_experiment
    python tools/run_classmix_experiment.py --work-dir work_dirs/classmix_warm --warm-start 300

Generates the data (tools/make_synthetic_data.py) and the splits (tools/make_label_splits.py)
under WORK_DIR/data unless --data is given, runs every training through tools/train.py, and
writes WORK_DIR/results.json (every figure) and WORK_DIR/results.md (table, mean +- std, and
whether the difference of means exceeds the seed spread), both atomically. Runs go through
segssl.runs.experiments.execute: a finished run leaves WORK_DIR/<method>_seed<seed>/segssl_run.json
(written atomically once its metrics are read) and is reused, so the script can be resumed.
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
from segssl.runs.experiments import Run, execute, finished_record

CONFIGS = {
    'supervised': 'configs/semi/supervised_deeplabv2_r18-d8_synthetic-1-8_64x128.py',
    'classmix': 'configs/semi/classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py',
}


def run(cmd, env=None, log=None):
    full_env = dict(os.environ,
                    PYTHONPATH=os.path.join(ROOT, 'plugins') + os.pathsep + os.environ.get('PYTHONPATH', ''),
                    **(env or {}))
    with open(log, 'w') if log else open(os.devnull, 'w') as f:
        r = subprocess.run([sys.executable] + cmd, cwd=ROOT, env=full_env, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode:
        raise SystemExit(f'run_classmix_experiment: {" ".join(cmd[:2])} failed (exit {r.returncode}); see {log}')


def method_opts(method, iters, split, seed=None, batch=None, init_from=None, log_interval=25):
    """--cfg-options for one ClassMix / supervised-only run: ``iters`` iterations (one PolyLR, one
    validation and checkpoint at the end), the split's labelled (+ unlabelled) list, and optionally
    a seed, a batch size and a warm-start checkpoint for the student (and so the teacher)."""
    opts = [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}', f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}', f'default_hooks.logger.interval={log_interval}'
    ]
    opts += [f'randomness.seed={seed}'] if seed is not None else []
    opts += [f'train_dataloader.batch_size={batch}'] if batch is not None else []
    if init_from:
        prefix = 'model.segmentor' if method == 'classmix' else 'model'
        opts += [f'{prefix}.init_cfg.type=Pretrained', f'{prefix}.init_cfg.checkpoint={init_from}']
    if method == 'classmix':
        opts += ([f'model.seed={seed}'] if seed is not None else []) + [
            f'train_dataloader.dataset.labelled.ann_file=splits/{split}/labelled.txt',
            f'train_dataloader.dataset.unlabelled.ann_file=splits/{split}/unlabelled.txt'
        ]
    else:
        opts += [f'train_dataloader.dataset.ann_file=splits/{split}/labelled.txt']
    return opts


def summarise(results, args):
    lines = [
        f'# ClassMix vs supervised-only, synthetic set, split {args.split}', '',
        f'DeepLab-v2 on a half-width ResNet-18 at 64x128, {args.iters} iterations, batch '
        f'{args.batch} labelled (+ {args.batch} unlabelled for ClassMix), seeds {args.seeds}; '
        f'data: {args.num_train} train / {args.num_val} val images' +
        (f'; both methods start from {args.init_from}' if args.init_from else '; random init') + '.', '',
        '| method | ' + ' | '.join(f'seed {s}' for s in args.seeds) + ' | mean +- std |',
        '| --- |' + ' --- |' * (len(args.seeds) + 1)
    ]
    stats = {}
    for method in CONFIGS:
        vals = [results[method].get(str(s)) for s in args.seeds]
        done = [v for v in vals if v is not None]
        if not done:
            stats[method] = (None, None, [])
            continue
        mean = statistics.mean(done) if done else float('nan')
        std = statistics.stdev(done) if len(done) > 1 else float('nan')
        stats[method] = (mean, std, done)
        lines.append(f'| {method} | ' + ' | '.join('-' if v is None else f'{v:.2f}'
                                                   for v in vals) + f' | {mean:.2f} +- {std:.2f} |')
    command = 'Command: `python tools/run_classmix_experiment.py ' + ' '.join(sys.argv[1:]) + '`'
    if any(not stats[m][2] for m in CONFIGS):  # one method only (e.g. the --warm-start warm-up): no verdict
        return '\n'.join(lines + ['', command]) + '\n', None
    (ms, ss, ds), (mc, sc, dc) = stats['supervised'], stats['classmix']
    diff = mc - ms
    spread = max(ss, sc)
    separated = min(dc) > max(ds)
    beats = diff > spread
    lines += [
        '', f'difference of means (ClassMix - supervised): {diff:+.2f} mIoU; largest seed std: {spread:.2f}; '
        f'ClassMix better by more than the seed spread: {"yes" if beats else "no"}' +
        ('' if beats or abs(diff) <= spread else ' (it is WORSE by more than the spread)') +
        f'; every ClassMix run above every supervised run: {"yes" if separated else "no"}', '', command
    ]
    return '\n'.join(lines) + '\n', dict(diff=diff, spread=spread, separated=separated, classmix_better=beats)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/classmix_experiment',
                   help='folder of the runs, results.json and results.md')
    p.add_argument('--data', help='synthetic data root with cityscapes/splits (default: generate under WORK_DIR/data)')
    p.add_argument('--num-train', type=int, default=64, help='train images of generated data')
    p.add_argument('--num-val', type=int, default=32, help='val images of generated data')
    p.add_argument('--split', default='1-8', help='label fraction of the labelled split (cityscapes/splits/SPLIT)')
    p.add_argument('--iters', type=int, default=300, help='training iterations per run')
    p.add_argument('--batch', type=int, default=4, help='labelled (and unlabelled) images per batch')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='one run per method and seed')
    p.add_argument('--methods', nargs='+', default=list(CONFIGS), choices=list(CONFIGS), help='methods to run')
    p.add_argument('--cfg-options', nargs='*', default=[], help='extra options for the ClassMix runs only')
    p.add_argument(
        '--init-from', help="warm start: a checkpoint path with '{seed}' (e.g. an earlier run's "
        "WORK/supervised_seed{seed}/iter_300.pth) that initialises both methods' student "
        '(and so the teacher) instead of random init (default: random init)')
    p.add_argument(
        '--warm-start', type=int, metavar='N',
        help='first train supervised-only N iterations per seed (in WORK_DIR/warmup), then start both '
        "methods from that seed's checkpoint: the protocol of the report, whose teacher never starts random "
        '(default: no warm start)')
    add_threads_option(p, 1)
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f'--threads must be >= 1, got {args.threads}')
    os.environ.update(thread_env(args.threads))  # every run inherits it: figures independent of the shell
    if args.warm_start is not None and args.init_from:
        p.error('--warm-start and --init-from both set the starting weights: give one')
    if args.warm_start is not None and args.warm_start < 1:
        p.error(f'--warm-start must be >= 1 iteration, got {args.warm_start}')
    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    data = os.path.abspath(args.data) if args.data else os.path.join(work, 'data')
    if not os.path.isdir(data):
        run([
            'tools/make_synthetic_data.py', data, '--size', '64x128', '--num-train',
            str(args.num_train), '--num-val',
            str(args.num_val), '--parts', 'cityscapes'
        ], log=os.path.join(work, 'make_data.log'))
    if not os.path.isfile(os.path.join(data, 'cityscapes', 'splits', 'meta.json')):
        run(['tools/make_label_splits.py',
             os.path.join(data, 'cityscapes'), '--dataset', 'cityscapes'], log=os.path.join(work, 'make_splits.log'))
    if args.warm_start:
        warm = os.path.join(work, 'warmup')
        main([
            '--work-dir', warm, '--data', data, '--split', args.split, '--iters',
            str(args.warm_start), '--batch',
            str(args.batch), '--methods', 'supervised', '--seeds'
        ] + [str(s) for s in args.seeds])
        args.init_from = os.path.join(warm, 'supervised_seed{seed}', f'iter_{args.warm_start}.pth')
    results_path = os.path.join(work, 'results.json')
    results = json.load(open(results_path)) if os.path.isfile(results_path) else {}
    results.setdefault('runs', {})
    methods = {
        Run(CONFIGS[method], seed, os.path.join(work, f'{method}_seed{seed}')): method
        for seed in args.seeds
        for method in args.methods
    }

    def train(r):
        """Train one run through tools/train.py (log: WORK_DIR/<method>_seed<seed>.log); its seconds."""
        method, t0 = methods[r], time.time()
        opts = method_opts(method, args.iters, args.split, seed=r.seed, batch=args.batch,
                           init_from=args.init_from.format(seed=r.seed) if args.init_from else None)
        opts += args.cfg_options if method == 'classmix' else []
        run(['tools/train.py', r.config, '--work-dir', r.work_dir, '--cfg-options'] + opts,
            env={'SEGSSL_DATA_ROOT': data}, log=r.work_dir + '.log')
        return time.time() - t0

    for r, metrics in execute(list(methods), train).items():
        wall_s = finished_record(r)['seconds']
        print(f'{methods[r]} seed {r.seed}: mIoU {metrics["mIoU"]:.2f} in {wall_s} s', flush=True)
        results['runs'].setdefault(methods[r], {})[str(r.seed)] = dict(mIoU=metrics['mIoU'], aAcc=metrics.get('aAcc'),
                                                                       wall_s=wall_s)
    table = {m: {s: r['mIoU'] for s, r in results['runs'].get(m, {}).items()} for m in CONFIGS}
    text, verdict = summarise(table, args)
    results['verdict'] = verdict
    with atomic_outputs(results_path, os.path.join(work, 'results.md')) as (js, md):
        with open(js, 'w') as f:
            f.write(json.dumps(results, indent=1, sort_keys=True))
        with open(md, 'w') as f:
            f.write(text)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())

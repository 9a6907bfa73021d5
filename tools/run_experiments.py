#!/usr/bin/env python
"""Run configs x seeds through mmseg's tools/train.py (.py configs) or detectron2's
tools/train_net.py (.yaml configs), collect the metric each run wrote, and write the report-style
table (mean +- std over seeds) as Markdown and CSV. Re-running skips finished runs.

  python tools/run_experiments.py --configs A.py B.py --seeds 0 1 2 --out work_dirs/exp_ab
  python tools/run_experiments.py --configs X.yaml --seeds 0 1 2 --metrics segm/AP bbox/AP --out ...
  python tools/run_experiments.py ... --print-commands     # one line per unfinished run, for a job scheduler
  python tools/run_experiments.py ... --launcher 'torchrun --nproc_per_node=8'   # distributed mmseg runs
Extra arguments after `--` go to every run (e.g. `-- --cfg-options train_cfg.max_iters=100` or
detectron2 `KEY VALUE` pairs). Each run's output and log land in OUT/<config name>/seed<N>/.
"""
import argparse
import os
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter
from segssl.runs import run_logged
from segssl.runs.experiments import command, execute, plan_runs, summarise, write_tables


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    argv = argv[:argv.index('--')] if '--' in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--configs', nargs='+', required=True,
                   help='mmseg .py or detectron2 .yaml configs, each run once per seed')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2], help='one run per config and seed')
    p.add_argument('--out', required=True, help='experiment folder')
    p.add_argument('--metrics', nargs='+', default=['mIoU'],
                   help="metrics to tabulate (mmseg: 'mIoU', 'aAcc', ...; detectron2: 'segm/AP', 'bbox/AP', ...)")
    p.add_argument(
        '--launcher', default='',
        help="prefix for distributed mmseg runs, e.g. 'torchrun --nproc_per_node=8' (default: none, "
        'one process per run)')
    p.add_argument('--print-commands', action='store_true', help='print the unfinished runs\' commands and exit')
    p.add_argument('--title', default='', help='a line written above the table (default: none)')
    args = p.parse_args(argv)
    for c in args.configs:
        if not os.path.isfile(os.path.join(ROOT, c)) and not os.path.isfile(c):
            p.error(f'config {c} does not exist')
    out = os.path.abspath(args.out)
    runs = plan_runs(args.configs, args.seeds, out, extra)
    prefix = shlex.split(args.launcher)

    def cmd_of(run):
        return command(run, sys.executable, prefix)

    if args.print_commands:
        from segssl.runs.experiments import is_finished
        for run in runs:
            if not is_finished(run):
                print(shlex.join(cmd_of(run)))
        return 0

    def train(run):
        return run_logged(cmd_of(run), os.path.join(run.work_dir, 'train.log'), ROOT)

    results = execute(runs, train, args.metrics[0])
    rows = summarise(results, args.metrics)
    paths = write_tables(rows, args.metrics, out, preamble=args.title or None)
    print(open(paths[0]).read())
    print('written: ' + ', '.join(paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""The SimCLR report's headline at synthetic scale, over seeds: SimCLR pretraining of a ResNet-18 with
the 3x3 stride-1 stem -> checkpoint bridge (--to mmseg) -> the two-block decoder at output stride 8,
against the same network trained from scratch; pixel accuracy (the report's metric) and mIoU.

    python tools/run_simclr_transfer.py [--out work_dirs/simclr_transfer] [--data data/synthetic]
        [--seeds 0 1 2] [--pretrain-iters 1000] [--finetune-iters 200] [--label-split 1-8]
        [--pool 2000] [--evaluation finetune frozen] [--arms ssl scratch] [--threads 1]

Per seed s: one SimCLR pretraining (configs/pretrain/simclr_r18-3x3stem_synthetic-32px.py,
randomness.seed=s; warm-up n/10, then two cosine restarts of equal length, the report's schedule in
iterations), converted --to mmseg; then configs/finetune/twoblock_r18-os8_synthetic-128x128.py from
the SSL weights and from scratch (init_cfg=None), with seed s. --evaluation frozen adds the
frozen-encoder measurement on the same checkpoints (mmseg frozen_stages=4: stem and all four stages,
BN statistics fixed; the two-block decoder trained) against the same with the scratch encoder.
--pool, --label-split, --threads and the reuse of finished steps are run_pixpro_transfer.py's
(whose Experiment this subclasses). --arms ssl or --arms scratch runs one arm only, so two
processes can share the work on two cores; a run with both arms writes
OUT/results[_labels<F>][_pool<N>].{json,md} (tools/results_summary.py reads it).
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import run_pixpro_transfer as transfer  # the Experiment and option helpers: one copy of each

from segssl.cli import HelpFormatter
from segssl.runs.experiments import compare_arms, comparison_markdown, write_results

PRETRAIN = 'configs/pretrain/simclr_r18-3x3stem_synthetic-32px.py'
TWOBLOCK = 'configs/finetune/twoblock_r18-os8_synthetic-128x128.py'
METRICS = (('aAcc', 'pixel accuracy'), ('mIoU', 'mIoU'))


def simclr_opts(n, log_interval=10):
    """--cfg-options for an n-iteration SimCLR run: linear warm-up of n/10, then two cosine restarts
    splitting the rest (400 -> 40 + [180, 180], the RESULTS.md run of the earlier protocol)."""
    w = max(1, n // 10)
    first = max(1, (n - w) // 2)
    periods = [first, max(1, n - w - first)]
    return [
        f'train_cfg.max_iters={n}', f'param_scheduler.0.end={w}', f'param_scheduler.1.begin={w}',
        f'param_scheduler.1.end={n}', f'param_scheduler.1.periods=[{periods[0]},{periods[1]}]',
        f'default_hooks.checkpoint.interval={n}', f'default_hooks.logger.interval={min(log_interval, n)}'
    ]


class Experiment(transfer.Experiment):
    PRETRAIN, CONVERSIONS, PREFIX = PRETRAIN, ('mmseg', ), 'simclr'

    def pretrain_opts(self):
        return simclr_opts(self.args.pretrain_iters)

    def main(self):
        a = self.args
        transfer.prepare(self.run, self.data, a.label_split, self.pool, a.pool)
        runs = {}
        for seed in a.seeds:
            rec, backbone = runs.setdefault(str(seed), {}), None
            if 'ssl' in a.arms:
                backbone, = self.pretrain(seed)
                rec.update(self.pretrain_losses(seed))
            for ev in a.evaluation:
                key = '' if ev == 'finetune' else '_frozen'
                for init in a.arms:
                    m = self.segmenter('twoblock', TWOBLOCK, seed, init, backbone, ev)
                    rec[f'twoblock{key}_{init}'] = {k: m[k] for k, _ in METRICS}
        if not transfer.one_arm_only(a):
            self.write(runs)
        return 0

    def write(self, runs):
        a, seeds = self.args, [str(s) for s in self.args.seeds]
        head = (f'SimCLR R18 (3x3 stem) pretraining on {self.source()} ({a.pretrain_iters} iterations, batch 16, 32 px '
                f'views), seeds {", ".join(seeds)}; each seed pretrains once and runs every downstream arm with '
                f'that seed; {a.threads} thread(s) per run.')
        md, verdicts = ['# SimCLR init vs scratch, synthetic data', '', head, ''], {}
        labels = f'{a.label_split} of the labels' if a.label_split else 'all labels'
        for ev in a.evaluation:
            key, how = ('', 'fine-tuned') if ev == 'finetune' else ('_frozen', 'frozen encoder, decoder trained')
            for metric, name in METRICS:
                ssl = [runs[s][f'twoblock{key}_ssl'][metric] for s in seeds]
                scratch = [runs[s][f'twoblock{key}_scratch'][metric] for s in seeds]
                md.append(
                    comparison_markdown(
                        f'Two-block R18 at output stride 8 ({how}, {a.finetune_iters} iterations, {labels}): val '
                        f'{name}', 'SimCLR init', ssl, 'scratch', scratch, a.seeds, unit=metric))
                verdicts[f'twoblock{key}_{metric}'] = compare_arms(ssl, scratch)
        md.append('Command: `python tools/run_simclr_transfer.py ' + ' '.join(sys.argv[1:]) + '`')
        settings = {
            k: getattr(a, k)
            for k in ('seeds', 'pretrain_iters', 'finetune_iters', 'label_split', 'pool', 'evaluation', 'threads')
        }
        summary = dict(settings=dict(settings, data=self.data, pool_dir=self.pool), runs=runs, verdicts=verdicts)
        pool = f'_pool{a.pool}' if a.pool else ''
        print(write_results(os.path.join(self.out, 'results' + self.labels + pool), summary, md))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--out', default='work_dirs/simclr_transfer', help='folder of the runs and results')
    p.add_argument('--data', default='data/synthetic', help='128x256 synthetic data root (generated if missing)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='per seed one pretraining and its downstream runs')
    p.add_argument('--pretrain-iters', type=int, default=1000, help='SimCLR pretraining iterations')
    p.add_argument('--finetune-iters', type=int, default=200, help='two-block fine-tuning iterations')
    transfer.add_regime_options(p, 'the two-block network', 'the decoder')
    transfer.add_arms_option(p)
    args = p.parse_args(argv)
    transfer.check_regime_options(p, args)
    return Experiment(args).main()


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""The ERFNet thesis's headline at synthetic scale, over seeds: an ERFNet encoder trained on a pretext
task (rotation, colorization, jigsaw, relative patch, Otsu) -> ERFNet + FCN head on the labelled
set, against the same network from Kaiming init.

    python tools/run_pretext_transfer.py [--out work_dirs/pretext_transfer] [--data data/synthetic]
        [--pretext rotation colorization] [--seeds 0 1 2] [--pretrain-iters 1000]
        [--finetune-iters 200] [--label-split 1-8] [--pool 2000] [--evaluation finetune frozen]
        [--threads 1]

Per seed s and pretext task: one pretraining (configs/pretrain/erfnet_<task>_synthetic.py,
randomness.seed=s, from a random encoder), then ERFNet + FCN head
(configs/finetune/erfnet_fcn_pretext-init_synthetic-128x256.py, which loads the checkpoint's
`backbone.` weights) fine-tuned with seed s; the Kaiming arm is the same fine-tune with
init_cfg=None, one run per seed shared by all tasks. --evaluation frozen adds the frozen-encoder
measurement on the same checkpoints (erfnet_fcn_pretext-init-frozen_synthetic-128x256.py: the
encoder and its BN statistics frozen for the whole run, ERFNet's decoder and the head trained),
against the same with the Kaiming encoder. --pool N pretrains on N unlabelled pool scenes
(segssl.synthetic.pool, made once in --pool-dir) instead of the labelled train images;
--label-split FRACTION fine-tunes on that seeded split's labelled images only. Every step runs
tools/train.py with OMP_NUM_THREADS / MKL_NUM_THREADS = --threads (default 1). A finished step is
reused, so the script resumes; run folders name their settings. Writes
OUT/results[_labels<F>][_pool<N>].{json,md} atomically: every seed's value, mean +- std and
compare_arms' verdict per task and measurement (the layout run_pixpro_transfer.py writes, which
tools/results_summary.py reads).
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import run_pixpro_transfer as transfer  # its option helpers: one copy of each

from segssl.cli import HelpFormatter
from segssl.runs import last_mmengine_metrics, mmengine_records, run_logged, thread_env
from segssl.runs.experiments import compare_arms, comparison_markdown, write_results

PRETEXTS = ('rotation', 'colorization', 'jigsaw', 'relative-patch', 'otsu')
FINETUNE = {
    'finetune': 'configs/finetune/erfnet_fcn_pretext-init_synthetic-128x256.py',
    'frozen': 'configs/finetune/erfnet_fcn_pretext-init-frozen_synthetic-128x256.py'
}


def pretext_config(task):
    return f'configs/pretrain/erfnet_{task}_synthetic.py'


def pretext_opts(n, log_interval=10):
    """--cfg-options for an n-iteration run of the synthetic pretext configs (one PolyLR to n)."""
    return [
        f'train_cfg.max_iters={n}', f'param_scheduler.0.end={n}', f'default_hooks.checkpoint.interval={n}',
        f'default_hooks.logger.interval={log_interval}'
    ]


class Experiment:

    def __init__(self, args):
        self.args, self.py = args, sys.executable
        self.out, self.data, self.pool, self.labels = transfer.regime_paths(args)
        self.pool_tag = f'_pool{args.pool}' if args.pool else ''

    def run(self, cmd, log, env=None):
        env = dict(thread_env(self.args.threads), SEGSSL_DATA_ROOT=self.data, **(env or {}))
        return run_logged([self.py] + cmd, os.path.join(self.out, 'logs', log + '.log'), ROOT, env)

    def pretrain(self, task, seed):
        """The pretext run's checkpoint (reused when there)."""
        n = self.args.pretrain_iters
        work = os.path.join(self.out, f'{task}_{n}it{self.pool_tag}_s{seed}')
        ckpt = os.path.join(work, f'iter_{n}.pth')
        if not os.path.isfile(ckpt):
            data = [] if self.pool is None else transfer.pool_opts(self.pool)
            self.run([
                'tools/train.py',
                pretext_config(task), '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'
            ] + pretext_opts(n) + data, os.path.basename(work))
        return work, ckpt

    def erfnet(self, seed, init, ckpt, evaluation):
        """One fine-tune: init is a task's name (its checkpoint) or 'kaiming'; returns its last val metrics."""
        n, frozen = self.args.finetune_iters, evaluation == 'frozen'
        pre = '' if init == 'kaiming' else f'_pre{self.args.pretrain_iters}{self.pool_tag}'
        work = os.path.join(self.out, f'erfnet{"_frozen" if frozen else ""}_{init}_{n}it{self.labels}{pre}_s{seed}')
        try:
            return last_mmengine_metrics(work)
        except RuntimeError:
            pass
        extra = ['model.backbone.init_cfg=None'] if init == 'kaiming' else []
        extra += [f'custom_hooks.0.frozen={n}'] if frozen else []
        extra += transfer.label_split_opts(self.args.label_split)
        env = {} if init == 'kaiming' else {'SEGSSL_BACKBONE': ckpt}
        self.run(
            ['tools/train.py', FINETUNE[evaluation], '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'] +
            transfer.finetune_opts(n) + extra, os.path.basename(work), env)
        return last_mmengine_metrics(work)

    def main(self):
        a = self.args
        transfer.prepare(self.run, self.data, a.label_split, self.pool, a.pool)
        runs = {}
        for seed in a.seeds:
            rec = runs.setdefault(str(seed), {})
            for task in a.pretext:
                work, ckpt = self.pretrain(task, seed)
                losses = [v for _, v in mmengine_records(work, 'loss')]
                rec[f'{task}_pretrain_loss'] = dict(first=losses[0], last=losses[-1])
                for ev in a.evaluation:
                    m = self.erfnet(seed, task, ckpt, ev)
                    rec[f'erfnet{"_frozen" if ev == "frozen" else ""}_{task}'] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'])
            for ev in a.evaluation:
                m = self.erfnet(seed, 'kaiming', None, ev)
                rec[f'erfnet{"_frozen" if ev == "frozen" else ""}_kaiming'] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'])
        self.write(runs)
        return 0

    def write(self, runs):
        a, seeds = self.args, [str(s) for s in self.args.seeds]
        source = transfer.pretrain_source(self)
        head = (f'ERFNet pretext pretraining ({", ".join(a.pretext)}) on {source}, {a.pretrain_iters} iterations '
                f'from a random encoder, seeds {", ".join(seeds)}; each seed pretrains once per task and runs every '
                f'downstream arm with that seed; {a.threads} thread(s) per run.')
        md, verdicts = ['# Pretext-trained ERFNet encoder vs Kaiming init, synthetic data', '', head, ''], {}
        labels = f'{a.label_split} of the labels' if a.label_split else 'all labels'
        for ev in a.evaluation:
            key, how = ('', 'fine-tuned') if ev == 'finetune' else ('_frozen',
                                                                    'frozen encoder, decoder and head trained')
            kaiming = [runs[s][f'erfnet{key}_kaiming']['mIoU'] for s in seeds]
            for task in a.pretext:
                ssl = [runs[s][f'erfnet{key}_{task}']['mIoU'] for s in seeds]
                md.append(
                    comparison_markdown(f'ERFNet + FCN head ({how}, {a.finetune_iters} iterations, {labels}): val mIoU',
                                        f'{task} init', ssl, 'Kaiming init', kaiming, a.seeds))
                verdicts[f'erfnet{key}_{task}_mIoU'] = compare_arms(ssl, kaiming)
        md.append('Command: `python tools/run_pretext_transfer.py ' + ' '.join(sys.argv[1:]) + '`')
        settings = {
            k: getattr(a, k)
            for k in ('seeds', 'pretext', 'pretrain_iters', 'finetune_iters', 'label_split', 'pool', 'evaluation',
                      'threads')
        }
        summary = dict(settings=dict(settings, data=self.data, pool_dir=self.pool), runs=runs, verdicts=verdicts)
        stem = os.path.join(self.out, 'results' + self.labels + self.pool_tag)
        print(write_results(stem, summary, md))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--out', default='work_dirs/pretext_transfer', help='folder of the runs and results')
    p.add_argument('--data', default='data/synthetic', help='128x256 synthetic data root (generated if missing)')
    p.add_argument('--pretext', nargs='+', default=['rotation'], choices=PRETEXTS,
                   help='pretext tasks, each pretrained once per seed')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='per seed one pretraining per task and its downstream runs')
    p.add_argument('--pretrain-iters', type=int, default=1000, help='pretext training iterations')
    p.add_argument('--finetune-iters', type=int, default=200, help='ERFNet fine-tuning iterations')
    transfer.add_regime_options(p, 'ERFNet', "ERFNet's decoder and the head")
    args = p.parse_args(argv)
    transfer.check_regime_options(p, args)
    return Experiment(args).main()


if __name__ == '__main__':
    sys.exit(main())

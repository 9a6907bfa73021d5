#!/usr/bin/env python
"""The SSL-transfer headlines at synthetic scale, over seeds: PixPro pretraining (LocalPPM 5x5,
Momentum BN, erasing) -> checkpoint bridge -> (a) mmseg FCN-16 fine-tuning (the PixPro thesis) and (b)
detectron2 Mask R-CNN R18-FPN (the Mask R-CNN thesis), each against the same training from random init.

    python tools/run_pixpro_transfer.py [--out work_dirs/pixpro_transfer] [--data data/synthetic]
        [--seeds 0 1 2] [--downstream fcn16 maskrcnn] [--pretrain-iters 300]
        [--finetune-iters 200] [--mask-rcnn-iters 200] [--label-split 1-8] [--pool 2000]
        [--evaluation finetune frozen] [--arms ssl scratch] [--threads 1]

Per seed s: one pretraining (randomness.seed=s), converted --to mmseg and --to detectron2; then
FCN-16 from the SSL weights and from random init, and Mask R-CNN from the SSL weights and from
scratch, all with seed s (so a seed varies the pretraining and the downstream run). Every step
runs the project's own tools (tools/train.py, tools/convert_checkpoint.py, tools/train_net.py).
A finished step is reused, so the script resumes; run folders name their
iterations (e.g. OUT/fcn16_ssl_200it_pre300_s0), so other settings never reuse them. Writes OUT/results.json
(every figure) and
OUT/results.md (per-seed values, mean +- std, and whether SSL beats random init by more than the
seed spread), both atomically. --label-split FRACTION fine-tunes FCN-16 on that seeded split's
labelled images only, and trains Mask R-CNN on the same fraction of the COCO set's train images
(SEGSSL.LABEL_SPLIT; tools/make_label_splits.py makes both splits if missing), and writes
OUT/results_labels<FRACTION>.{json,md}: labels scarce, as segssl's users' are.

--pool N pretrains on N unlabelled pool scenes (segssl.synthetic.pool, made once in --pool-dir)
instead of the labelled train images: the reports' regime, pretraining on a large unlabelled set
that is not the labelled one. --evaluation frozen adds a frozen-encoder measurement on the same
checkpoints: the backbone frozen (mmseg frozen_stages=4: stem and all four stages, BN statistics
fixed; detectron2 MODEL.BACKBONE.FREEZE_AT 5), only the head trained, against the same with the
random-init backbone. --arms ssl or --arms scratch runs one arm only (no results written), so two
processes can share the runs on two cores; a run with both arms then reuses them. Every run gets
OMP_NUM_THREADS / MKL_NUM_THREADS = --threads (default 1), so the figures do not depend on the shell's
settings.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter
from segssl.runs import add_threads_option, last_mmengine_metrics, mmengine_records, run_logged, thread_env
from segssl.runs.experiments import compare_arms, comparison_markdown, write_results
from segssl.synthetic.pool import ensure_pool

PRETRAIN = 'configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py'
FINETUNE = 'configs/finetune/fcn16_r18-d16_synthetic-128x256.py'
MASK_RCNN = {
    'ssl': 'configs/detectron2/mask_rcnn_R_18_FPN_synthetic_ssl.yaml',
    'scratch': 'configs/detectron2/mask_rcnn_R_18_FPN_synthetic_scratch.yaml'
}
DOWNSTREAMS = ('fcn16', 'maskrcnn')
EVALUATIONS = ('finetune', 'frozen')
# the frozen-encoder measurement: the whole backbone frozen, only the head trained
FROZEN = {'mmseg': ['model.backbone.frozen_stages=4'], 'maskrcnn': ['MODEL.BACKBONE.FREEZE_AT', '5']}
ARMS = ('ssl', 'scratch')  # --arms; scratch is FCN-16's random init (its runs' folders say random)
POOL_SIZE = (128, 256)  # the pool scenes' size: the synthetic data's


def pretrain_opts(n, log_interval=10):
    """--cfg-options for an n-iteration PixPro run: warm-up of n/10 (at most 30), cosine to n."""
    w = max(1, min(30, n // 10))
    return [
        f'train_cfg.max_iters={n}', f'param_scheduler.0.end={w}', f'param_scheduler.1.begin={w}',
        f'param_scheduler.1.end={n}', f'param_scheduler.1.T_max={max(1, n - w)}',
        f'default_hooks.checkpoint.interval={n}', f'default_hooks.logger.interval={log_interval}'
    ]


def finetune_opts(n, log_interval=10):
    """--cfg-options for an n-iteration run of the synthetic mmseg configs (one PolyLR, one val)."""
    return [
        f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}', f'param_scheduler.0.end={n}',
        f'default_hooks.checkpoint.interval={n}', f'default_hooks.logger.interval={log_interval}'
    ]


def mask_rcnn_opts(n, work, data):
    """detectron2 KEY VALUE pairs for an n-iteration synthetic Mask R-CNN run: steps at 40 % and 80 %
    (the Mask R-CNN thesis's 40k/80k of 100k), warm-up n/10 (at most 10), one checkpoint and evaluation at the end."""
    steps = sorted({s for s in (int(0.4 * n), int(0.8 * n)) if 0 < s < n}) or [max(1, n - 1)]
    return [
        'OUTPUT_DIR', work, 'SEGSSL.SYNTHETIC_ROOT', data, 'SOLVER.MAX_ITER',
        str(n), 'SOLVER.STEPS',
        str(tuple(steps)), 'SOLVER.WARMUP_ITERS',
        str(max(1, min(10, n // 10))), 'SOLVER.CHECKPOINT_PERIOD',
        str(n), 'TEST.EVAL_PERIOD', '0'
    ]


def pool_opts(pool_dir):
    """--cfg-options that point the PixPro pretraining at a pool folder (segssl.synthetic.pool)."""
    return [f'train_dataloader.dataset.data_root={pool_dir}', 'train_dataloader.dataset.data_prefix.img_path=images']


def label_split_opts(split):
    """--cfg-options that fine-tune the synthetic mmseg configs on a seeded label split only."""
    return [f'train_dataloader.dataset.ann_file=splits/{split}/labelled.txt'] if split else []


def ensure_label_splits(run, data, dataset='cityscapes'):
    """Make data/<dataset>/splits (tools/make_label_splits.py) unless it is there; ``run(cmd, log)``.
    cityscapes: the mmseg configs' images; coco: the Mask R-CNN train images (SEGSSL.LABEL_SPLIT)."""
    folder = os.path.join(data, dataset)
    if not os.path.isfile(os.path.join(folder, 'splits', 'meta.json')):
        log = 'make_label_splits' + ('' if dataset == 'cityscapes' else f'_{dataset}')
        run(['tools/make_label_splits.py', folder, '--dataset', dataset], log)


def prepare(run, data, label_split, pool_dir, pool, coco=False):
    """The data, the label splits (``coco``: the Mask R-CNN set's too) and the pool, each made once;
    ``run(cmd, log)``."""
    if not os.path.isfile(os.path.join(data, 'meta.json')):
        run(['tools/make_synthetic_data.py', data], 'make_synthetic_data')
    if label_split:
        ensure_label_splits(run, data)
        if coco:
            ensure_label_splits(run, data, 'coco')
    if pool_dir is not None and ensure_pool(pool_dir, pool, *POOL_SIZE):
        print(f'wrote the pretraining pool: {pool} scenes in {pool_dir}')


def add_arms_option(p):
    """--arms: which arms to run, so that two processes can share an experiment's runs on two cores."""
    p.add_argument(
        '--arms', nargs='+', default=list(ARMS), choices=ARMS,
        help='which arms to run (scratch: random init; both write the results, one lets two '
        'processes share the work) (default: %(default)s)')


def one_arm_only(args):
    """True, and says so, when --arms named one arm: the results need both."""
    if set(args.arms) == set(ARMS):
        return False
    print(f'ran the {args.arms[0]} arm only; a run with both arms (it reuses these) writes the results')
    return True


def pretrain_source(experiment):
    """What an experiment's pretraining read, in words, for its results' heading."""
    n, pool, data = experiment.args.pool, experiment.pool, experiment.data
    return f'{n} unlabelled pool scenes ({pool})' if pool else f"{data}'s labelled train images"


def add_regime_options(p, finetuned, trained='the head'):
    """--label-split, --pool, --pool-dir, --evaluation and --threads: the pool regime's options, shared by
    the transfer tools (``trained``: what the frozen measurement trains)."""
    p.add_argument('--label-split', choices=['1-30', '1-8', '1-4', '1-2'],
                   help=f'fine-tune {finetuned} on this seeded fraction of the labels (default: all)')
    p.add_argument(
        '--pool', type=int, default=0, metavar='N',
        help='pretrain on N unlabelled pool scenes, none of them labelled (default 0: on the labelled '
        'train images)')
    p.add_argument('--pool-dir', help='where the pool is made once and reused (default: data/synthetic-pool<N>)')
    p.add_argument(
        '--evaluation', nargs='+', default=['finetune'], choices=EVALUATIONS,
        help='downstream measurements on the same checkpoints: end-to-end fine-tuning and/or the frozen '
        f'encoder with only {trained} trained')
    add_threads_option(p, 1)


def check_regime_options(p, args, positive=('pretrain_iters', 'finetune_iters', 'threads')):
    """A one-line error for --pool < 0 or any of ``positive`` (argument names) < 1."""
    for k in positive:
        if getattr(args, k) < 1:
            p.error(f'--{k.replace("_", "-")} must be >= 1, got {getattr(args, k)}')
    if args.pool < 0:
        p.error(f'--pool must be >= 0, got {args.pool}')


def regime_paths(args):
    """(out, data, pool or None, '_labels<F>' or ''): the folders and the run-name tag of the options."""
    pool_dir = args.pool_dir or f'data/synthetic-pool{args.pool}'
    pool = os.path.abspath(os.path.join(ROOT, pool_dir)) if args.pool else None
    labels = f'_labels{args.label_split}' if args.label_split else ''
    return os.path.abspath(os.path.join(ROOT, args.out)), os.path.abspath(os.path.join(ROOT, args.data)), pool, labels


class Experiment:

    def __init__(self, args):
        self.args, self.py = args, sys.executable
        self.out, self.data, self.pool, self.labels = regime_paths(args)
        # run folders name their settings: no reuse across settings
        self.pre = f'pre{args.pretrain_iters}' + (f'pool{args.pool}' if args.pool else '')

    def run(self, cmd, log, env=None):
        env = dict(thread_env(self.args.threads), **(env or {}))  # the figures must not depend on the shell
        return run_logged([self.py] + cmd, os.path.join(self.out, 'logs', log + '.log'), ROOT, env)

    # what a subclass (tools/run_simclr_transfer.py) swaps: the pretraining and the conversions it needs
    PRETRAIN, CONVERSIONS, PREFIX = PRETRAIN, ('mmseg', 'detectron2'), 'pretrain'

    def pretrain_opts(self):
        return pretrain_opts(self.args.pretrain_iters)

    def pretrain(self, seed):
        """The pretraining and its conversions; returns their paths (mmseg .pth, detectron2 .pkl)."""
        work = self.pretrain_dir(seed)
        ckpt = os.path.join(work, f'iter_{self.args.pretrain_iters}.pth')
        if not os.path.isfile(ckpt):
            data = [] if self.pool is None else pool_opts(self.pool)
            self.run(['tools/train.py', self.PRETRAIN, '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'] +
                     self.pretrain_opts() + data, os.path.basename(work), {'SEGSSL_DATA_ROOT': self.data})
        paths = tuple(
            os.path.join(work, f'r18_{to}.{"pkl" if to == "detectron2" else "pth"}') for to in self.CONVERSIONS)
        for path, to in zip(paths, self.CONVERSIONS):
            if not os.path.isfile(path):
                self.run(['tools/convert_checkpoint.py', ckpt, path, '--to', to], f'{os.path.basename(work)}_to_{to}')
        return paths

    def source(self):
        return pretrain_source(self)

    def pretrain_dir(self, seed):
        n = self.args.pretrain_iters
        pool = f'_pool{self.args.pool}' if self.args.pool else ''
        return os.path.join(self.out, f'{self.PREFIX}_{n}it{pool}_s{seed}')

    def pretrain_losses(self, seed):
        losses = [v for _, v in mmengine_records(self.pretrain_dir(seed), 'loss')]
        return {'pretrain_loss_first': losses[0], 'pretrain_loss_last': losses[-1]}

    def fcn16(self, seed, init, backbone, evaluation='finetune'):
        return self.segmenter('fcn16', FINETUNE, seed, init, backbone, evaluation)

    def segmenter(self, name, config, seed, init, backbone, evaluation):
        """One mmseg fine-tune of ``config`` from the SSL weights (init 'ssl') or from random init (any other
        init); the frozen evaluation freezes the whole backbone. Returns its last val metrics."""
        frozen = '_frozen' if evaluation == 'frozen' else ''
        work = os.path.join(self.out,
                            f'{name}{frozen}_{init}_{self.args.finetune_iters}it{self.labels}_{self.pre}_s{seed}')
        try:
            return last_mmengine_metrics(work)
        except RuntimeError:
            pass
        extra = [] if init == 'ssl' else ['model.backbone.init_cfg=None']
        extra += FROZEN['mmseg'] if frozen else []
        extra += label_split_opts(self.args.label_split)
        env = {'SEGSSL_DATA_ROOT': self.data}
        env.update({'SEGSSL_BACKBONE': backbone} if init == 'ssl' else {})
        self.run(['tools/train.py', config, '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'] +
                 finetune_opts(self.args.finetune_iters) + extra, os.path.basename(work), env)
        return last_mmengine_metrics(work)

    def mask_rcnn(self, seed, init, weights, evaluation='finetune'):
        frozen = '_frozen' if evaluation == 'frozen' else ''
        work = os.path.join(self.out,
                            f'mask_rcnn{frozen}_{init}_{self.args.mask_rcnn_iters}it{self.labels}_{self.pre}_s{seed}')
        done = os.path.join(work, 'eval_results.json')
        if not os.path.isfile(done):
            opts = mask_rcnn_opts(self.args.mask_rcnn_iters, work, self.data) + ['SEED', str(seed)]
            opts += ['SEGSSL.LABEL_SPLIT', self.args.label_split] if self.args.label_split else []
            opts += ['MODEL.WEIGHTS', weights] if init == 'ssl' else []
            opts += FROZEN['maskrcnn'] if frozen else []
            self.run(['tools/train_net.py', '--config-file', MASK_RCNN[init]] + opts, os.path.basename(work))
        return json.load(open(done))

    def main(self):
        a = self.args
        prepare(self.run, self.data, a.label_split, self.pool, a.pool, coco='maskrcnn' in a.downstream)
        runs = {}
        for seed in a.seeds:
            rec, (mmseg_w, d2_w) = runs.setdefault(str(seed), {}), (None, None)
            if 'ssl' in a.arms:
                mmseg_w, d2_w = self.pretrain(seed)
                rec.update(self.pretrain_losses(seed))
            for ev in a.evaluation:
                key = '' if ev == 'finetune' else '_frozen'
                if 'fcn16' in a.downstream:
                    for init in ('ssl' if arm == 'ssl' else 'random' for arm in a.arms):
                        m = self.fcn16(seed, init, mmseg_w, ev)
                        rec[f'fcn16{key}_{init}'] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'])
                if 'maskrcnn' not in a.downstream:
                    continue
                for init in a.arms:
                    r = self.mask_rcnn(seed, init, d2_w, ev)
                    rec[f'mask_rcnn{key}_{init}'] = {
                        'segm_AP': r['segm']['AP'],
                        'segm_AP50': r['segm']['AP50'],
                        'bbox_AP': r['bbox']['AP']
                    }
        if not one_arm_only(a):
            self.write(runs)
        return 0

    def write(self, runs):
        a, seeds = self.args, [str(s) for s in self.args.seeds]
        head = (f'PixPro R18 pretraining on {self.source()} ({a.pretrain_iters} iterations, batch 16), seeds '
                f'{", ".join(seeds)}; each seed pretrains once and runs every downstream arm with that seed; '
                f'{a.threads} thread(s) per run.')
        md, verdicts = ['# SSL init vs random init, synthetic data', '', head, ''], {}

        def pick(key, metric):
            return [runs[s][key][metric] for s in seeds]

        labels = f'{a.label_split} of the labels' if a.label_split else 'all labels'
        for ev in a.evaluation:
            key, how = ('', 'fine-tuning') if ev == 'finetune' else ('_frozen', 'frozen encoder, head trained')
            if 'fcn16' in a.downstream:
                ssl, rnd = pick(f'fcn16{key}_ssl', 'mIoU'), pick(f'fcn16{key}_random', 'mIoU')
                md.append(
                    comparison_markdown(f'FCN-16 R18 ({how}, {a.finetune_iters} iterations, {labels}): val mIoU',
                                        'SSL init', ssl, 'random init', rnd, a.seeds))
                verdicts[f'fcn16{key}_mIoU'] = compare_arms(ssl, rnd)
            if 'maskrcnn' not in a.downstream:
                continue
            for metric, label in (('segm_AP', 'segm AP'), ('bbox_AP', 'bbox AP')):
                ssl, rnd = pick(f'mask_rcnn{key}_ssl', metric), pick(f'mask_rcnn{key}_scratch', metric)
                md.append(
                    comparison_markdown(
                        f'Mask R-CNN R18-FPN ({how}, {a.mask_rcnn_iters} iterations, {labels}): val {label}',
                        'SSL init', ssl, 'scratch', rnd, a.seeds, unit='AP'))
                verdicts[f'mask_rcnn{key}_{metric}'] = compare_arms(ssl, rnd)
        md.append('Command: `python tools/run_pixpro_transfer.py ' + ' '.join(sys.argv[1:]) + '`')
        summary = dict(
            settings=dict(seeds=a.seeds, pretrain_iters=a.pretrain_iters, finetune_iters=a.finetune_iters,
                          mask_rcnn_iters=a.mask_rcnn_iters, label_split=a.label_split, downstream=a.downstream,
                          data=self.data, pool=a.pool, pool_dir=self.pool, evaluation=a.evaluation, threads=a.threads),
            runs=runs, verdicts=verdicts)
        pool = f'_pool{a.pool}' if a.pool else ''
        stem = os.path.join(self.out, 'results' + self.labels + pool)  # results_labels1-8_pool2000.* beside results.*
        print(write_results(stem, summary, md))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--out', default='work_dirs/pixpro_transfer', help='folder of the runs and results')
    p.add_argument('--data', default='data/synthetic', help='128x256 synthetic data root (generated if missing)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='per seed one pretraining and its downstream runs')
    p.add_argument('--downstream', nargs='+', default=list(DOWNSTREAMS), choices=DOWNSTREAMS,
                   help='downstream tasks: mmseg FCN-16 and/or detectron2 Mask R-CNN')
    p.add_argument('--pretrain-iters', type=int, default=300, help='PixPro pretraining iterations')
    p.add_argument('--finetune-iters', type=int, default=200, help='FCN-16 fine-tuning iterations')
    p.add_argument('--mask-rcnn-iters', type=int, default=200, help='Mask R-CNN training iterations')
    add_regime_options(p, 'FCN-16')
    add_arms_option(p)
    args = p.parse_args(argv)
    check_regime_options(p, args, ('pretrain_iters', 'finetune_iters', 'mask_rcnn_iters', 'threads'))
    return Experiment(args).main()


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""The SSL-transfer headlines at synthetic scale, over seeds: PixPro pretraining (LocalPPM 5x5,
Momentum BN, erasing) -> checkpoint bridge -> (a) mmseg FCN-16 fine-tuning (the PixPro thesis) and (b)
detectron2 Mask R-CNN R18-FPN (the Mask R-CNN thesis), each against the same training from random init.

    python tools/run_pixpro_transfer.py [--out work_dirs/pixpro_transfer] [--data data/synthetic]
        [--seeds 0 1 2] [--downstream fcn16 maskrcnn] [--pretrain-iters 300]
        [--finetune-iters 200] [--mask-rcnn-iters 200] [--label-split 1-8]

Per seed s: one pretraining (randomness.seed=s), converted --to mmseg and --to detectron2; then
FCN-16 from the SSL weights and from random init, and Mask R-CNN from the SSL weights and from
scratch, all with seed s (so a seed varies the pretraining and the downstream run). Every step
runs the project's own tools (tools/train.py, tools/convert_checkpoint.py, tools/train_net.py).
A finished step is reused, so the script resumes; run folders name their
iterations (e.g. OUT/fcn16_ssl_200it_pre300_s0), so other settings never reuse them. Writes OUT/results.json
(every figure) and
OUT/results.md (per-seed values, mean +- std, and whether SSL beats random init by more than the
seed spread), both atomically. --label-split FRACTION fine-tunes FCN-16 on that seeded split's
labelled images only (tools/make_label_splits.py, made if missing) and writes
OUT/results_labels<FRACTION>.{json,md}: labels scarce, as segssl's users' are.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter  # noqa: E402
from segssl.io.atomic import atomic_outputs  # noqa: E402
from segssl.runs import last_mmengine_metrics, mmengine_records, run_logged  # noqa: E402
from segssl.runs.experiments import compare_arms, comparison_markdown  # noqa: E402

PRETRAIN = 'configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py'
FINETUNE = 'configs/finetune/fcn16_r18-d16_synthetic-128x256.py'
MASK_RCNN = {
    'ssl': 'configs/detectron2/mask_rcnn_R_18_FPN_synthetic_ssl.yaml',
    'scratch': 'configs/detectron2/mask_rcnn_R_18_FPN_synthetic_scratch.yaml'
}
DOWNSTREAMS = ('fcn16', 'maskrcnn')


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


class Experiment:

    def __init__(self, args):
        self.args, self.py = args, sys.executable
        self.out = os.path.abspath(os.path.join(ROOT, args.out))
        self.data = os.path.abspath(os.path.join(ROOT, args.data))
        self.pre = f'pre{args.pretrain_iters}'  # run folders name their settings: no reuse across settings
        self.labels = f'_labels{args.label_split}' if args.label_split else ''

    def run(self, cmd, log, env=None):
        return run_logged([self.py] + cmd, os.path.join(self.out, 'logs', log + '.log'), ROOT, env)

    def pretrain(self, seed):
        """The report's pretraining and its two conversions; returns (mmseg .pth, detectron2 .pkl)."""
        n = self.args.pretrain_iters
        work = os.path.join(self.out, f'pretrain_{n}it_s{seed}')
        ckpt = os.path.join(work, f'iter_{n}.pth')
        if not os.path.isfile(ckpt):
            self.run(['tools/train.py', PRETRAIN, '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'] +
                     pretrain_opts(n), os.path.basename(work), {'SEGSSL_DATA_ROOT': self.data})
        paths = os.path.join(work, 'r18_mmseg.pth'), os.path.join(work, 'r18_detectron2.pkl')
        for path, to in zip(paths, ('mmseg', 'detectron2')):
            if not os.path.isfile(path):
                self.run(['tools/convert_checkpoint.py', ckpt, path, '--to', to], f'{os.path.basename(work)}_to_{to}')
        return paths

    def fcn16(self, seed, init, backbone):
        work = os.path.join(self.out, f'fcn16_{init}_{self.args.finetune_iters}it{self.labels}_{self.pre}_s{seed}')
        try:
            return last_mmengine_metrics(work)
        except RuntimeError:
            pass
        extra = [] if init == 'ssl' else ['model.backbone.init_cfg=None']
        if self.args.label_split:
            extra.append(f'train_dataloader.dataset.ann_file=splits/{self.args.label_split}/labelled.txt')
        self.run(['tools/train.py', FINETUNE, '--work-dir', work, '--cfg-options', f'randomness.seed={seed}'] +
                 finetune_opts(self.args.finetune_iters) + extra, os.path.basename(work), {
                     'SEGSSL_DATA_ROOT': self.data,
                     'SEGSSL_BACKBONE': backbone
                 })
        return last_mmengine_metrics(work)

    def mask_rcnn(self, seed, init, weights):
        work = os.path.join(self.out, f'mask_rcnn_{init}_{self.args.mask_rcnn_iters}it_{self.pre}_s{seed}')
        done = os.path.join(work, 'eval_results.json')
        if not os.path.isfile(done):
            opts = mask_rcnn_opts(self.args.mask_rcnn_iters, work, self.data) + ['SEED', str(seed)]
            opts += ['MODEL.WEIGHTS', weights] if init == 'ssl' else []
            self.run(['tools/train_net.py', '--config-file', MASK_RCNN[init]] + opts, os.path.basename(work))
        return json.load(open(done))

    def main(self):
        a = self.args
        if not os.path.isfile(os.path.join(self.data, 'meta.json')):
            self.run(['tools/make_synthetic_data.py', self.data], 'make_synthetic_data')
        city = os.path.join(self.data, 'cityscapes')
        if a.label_split and not os.path.isfile(os.path.join(city, 'splits', 'meta.json')):
            self.run(['tools/make_label_splits.py', city, '--dataset', 'cityscapes'], 'make_label_splits')
        runs = {}
        for seed in a.seeds:
            mmseg_w, d2_w = self.pretrain(seed)
            losses = [
                v for _, v in mmengine_records(os.path.join(self.out, f'pretrain_{a.pretrain_iters}it_s{seed}'), 'loss')
            ]
            rec = runs.setdefault(str(seed), {'pretrain_loss_first': losses[0], 'pretrain_loss_last': losses[-1]})
            if 'fcn16' in a.downstream:
                for init in ('ssl', 'random'):
                    m = self.fcn16(seed, init, mmseg_w)
                    rec[f'fcn16_{init}'] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'])
            if 'maskrcnn' in a.downstream:
                for init in ('ssl', 'scratch'):
                    r = self.mask_rcnn(seed, init, d2_w)
                    rec[f'mask_rcnn_{init}'] = {
                        'segm_AP': r['segm']['AP'],
                        'segm_AP50': r['segm']['AP50'],
                        'bbox_AP': r['bbox']['AP']
                    }
        self.write(runs)
        return 0

    def write(self, runs):
        a, seeds = self.args, [str(s) for s in self.args.seeds]
        head = (f'PixPro R18 pretraining on {self.data} ({a.pretrain_iters} iterations, batch 16), seeds '
                f'{", ".join(seeds)}; each seed pretrains once and runs every downstream arm with that seed.')
        md, verdicts = ['# SSL init vs random init, synthetic data', '', head, ''], {}
        pick = lambda key, metric: [runs[s][key][metric] for s in seeds]  # noqa: E731
        if 'fcn16' in a.downstream:
            labels = f'{a.label_split} of the labels' if a.label_split else 'all labels'
            md.append(
                comparison_markdown(f'FCN-16 R18 fine-tuning ({a.finetune_iters} iterations, {labels}): val mIoU',
                                    'SSL init', pick('fcn16_ssl', 'mIoU'), 'random init', pick('fcn16_random',
                                                                                               'mIoU'), a.seeds))
            verdicts['fcn16_mIoU'] = compare_arms(pick('fcn16_ssl', 'mIoU'), pick('fcn16_random', 'mIoU'))
        if 'maskrcnn' in a.downstream:
            for metric, label in (('segm_AP', 'segm AP'), ('bbox_AP', 'bbox AP')):
                md.append(
                    comparison_markdown(f'Mask R-CNN R18-FPN ({a.mask_rcnn_iters} iterations): val {label}', 'SSL init',
                                        pick('mask_rcnn_ssl', metric), 'scratch', pick('mask_rcnn_scratch', metric),
                                        a.seeds, unit='AP'))
                verdicts[f'mask_rcnn_{metric}'] = compare_arms(pick('mask_rcnn_ssl', metric),
                                                               pick('mask_rcnn_scratch', metric))
        md.append('Command: `python tools/run_pixpro_transfer.py ' + ' '.join(sys.argv[1:]) + '`')
        summary = dict(
            settings=dict(seeds=a.seeds, pretrain_iters=a.pretrain_iters, finetune_iters=a.finetune_iters,
                          mask_rcnn_iters=a.mask_rcnn_iters, label_split=a.label_split, downstream=a.downstream,
                          data=self.data), runs=runs, verdicts=verdicts)
        stem = os.path.join(self.out, 'results' + self.labels)  # results_labels1-8.* beside the all-labels results.*
        with atomic_outputs(stem + '.json', stem + '.md') as (tj, tm):
            with open(tj, 'w') as f:
                json.dump(summary, f, indent=1)
            with open(tm, 'w') as f:
                f.write('\n'.join(md) + '\n')
        print('\n' + '=' * 78 + '\n' + '\n'.join(md) + '\n' + '=' * 78)


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
    p.add_argument('--label-split', choices=['1-30', '1-8', '1-4', '1-2'],
                   help='fine-tune FCN-16 on this seeded fraction of the labels (default: all)')
    args = p.parse_args(argv)
    for k in ('pretrain_iters', 'finetune_iters', 'mask_rcnn_iters'):
        if getattr(args, k) < 1:
            p.error(f'--{k.replace("_", "-")} must be >= 1, got {getattr(args, k)}')
    return Experiment(args).main()


if __name__ == '__main__':
    sys.exit(main())

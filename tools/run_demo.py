#!/usr/bin/env python
"""`make demo`: the four stories of segssl, end to end on the synthetic data on a CPU, one seed
each at demo size (about 7 min on a quiet 2-core machine: two runs at once, one thread each),
ending with ONE table.

1. pixpro:   LocalPPM PixPro pretraining on the unlabelled pool (2000 scenes, none of them labelled)
             -> bridge (convert --to mmseg) -> FCN-16 fine-tune on 1/8 of the labels, vs the same
             fine-tune from random init (and the majority-class baseline);
2. classmix: ClassMix vs supervised-only with 1/8 of the labels (64x128 data, seeded splits), both
             continuing from one supervised warm-up run (the report's runs start from pretrained weights);
3. dacs:     DACS vs source-only, synthetic source -> cityscapes renderings (64x128);
4. maskrcnn: Mask R-CNN R18-FPN from story 1's SSL weights (convert --to detectron2) vs scratch,
             segm AP, and a background-removal score (tools/remove_background.py) of both.

Every step runs the project's own tools (tools/train.py, tools/train_net.py, ...) with their logs
streamed. Results land in OUT (default work_dirs/demo): results.json, results.md (the table),
curves*.png (training losses), pixel_pairs.png (PixPro's positive pairs), the runs' folders and logs.

    python tools/run_demo.py [--stages pixpro classmix dacs maskrcnn] [--data DIR] [--out DIR]
        [--pool N] [--pool-dir DIR] [--tiny | --iters STAGE=N ...] [--threads 1] [--jobs 2]

Every run gets OMP_NUM_THREADS / MKL_NUM_THREADS = --threads (default 1): the figures printed do
not depend on the shell. --jobs 2 (the default) runs stories 2-3 in a second lane beside stories 1
and 4, their output in their logs only; each run still has --threads, so the figures are those of
--jobs 1. Stories 2 and 3 run the protocols of docs/RESULTS.md at seed 0, so their
rows equal seed 0 of its tables; stories 1 and 4 are cut to demo size.
"""
import argparse
import glob
import json
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import run_classmix_experiment as classmix_tool  # its CONFIGS
import run_dacs_experiment as dacs_tool  # its CONFIGS and DATA
import run_pixpro_transfer as pixpro_tool  # its PRETRAIN / FINETUNE configs

from segssl.cli import HelpFormatter
from segssl.io.atomic import atomic_outputs
from segssl.runs import add_threads_option, last_mmengine_metrics, mmengine_records, run_logged, thread_env
from segssl.synthetic.baseline import majority_class_miou
from segssl.synthetic.pool import ensure_pool

STAGES = ('pixpro', 'classmix', 'dacs', 'maskrcnn')
MASK_RCNN = pixpro_tool.MASK_RCNN
# Demo-size iterations per run (one seed each; README: measured minutes per stage). Stories 2-3 run
# at the size of their 3-seed experiments (run_classmix_experiment 300, run_dacs_experiment 1000);
# PixPro pretraining (~2 s/iteration on one core), the fine-tunes and Mask R-CNN are cut to fit ~10 min on
# one lane (~6 min on two).
# At 60 iterations Mask R-CNN is still near 0 AP in both arms: the demo shows the pipeline, not the effect.
ITERS = dict(pretrain=30, finetune=150, semi_warmup=300, semi=300, uda=1000, mask_rcnn=60)
SEMI_SPLIT = '1-8'
SSL_SPLIT = '1-8'  # story 1 fine-tunes on the seeded 1/8 of data/synthetic's 48 train images (6)
SSL_LABELS = SSL_SPLIT.replace('-', '/')
POOL, TINY_POOL = 2000, 16  # story 1 pretrains on this many unlabelled pool scenes (docs/RESULTS.md, P1)
BACKGROUND_THRESHOLD = 0.1  # the demo's models are weak: keep any instance scored above 0.1
NOTE = ('One seed at demo size is not evidence: no seed spread is measured here. docs/RESULTS.md has the '
        '3-seed figures of every story, with the command that regenerates each.')


def header(title):
    print('\n' + '#' * 78 + f'\n# {title}\n' + '#' * 78, flush=True)


class Demo:

    def __init__(self, args):
        self.args, self.py = args, sys.executable
        self.data = os.path.abspath(os.path.join(ROOT, args.data))
        self.small = os.path.abspath(os.path.join(ROOT, args.small_data))
        self.out = os.path.abspath(os.path.join(ROOT, args.out))
        self.iters = dict(ITERS, **({k: 2 for k in ITERS} if args.tiny else {}), **args.iters)
        self.log_every = 1 if args.tiny else 10
        n = args.pool or (TINY_POOL if args.tiny else POOL)
        self.pool_num = n
        self.pool = os.path.abspath(os.path.join(ROOT, args.pool_dir or f'data/synthetic-pool{n}'))
        self.results, self.minutes, self.curves = {}, {}, {}

    def run(self, cmd, name, env=None):
        env = dict(thread_env(self.args.threads), **(env or {}))  # the figures must not depend on the shell
        echo = threading.current_thread() is threading.main_thread()  # one run streams to the console
        return run_logged([self.py] + cmd, os.path.join(self.out, 'logs', name + '.log'), ROOT, env, echo)

    # ---------------------------------------------------------------- data
    def ensure_data(self, stages):
        if {'pixpro', 'maskrcnn'} & set(stages):
            if os.path.isfile(os.path.join(self.data, 'meta.json')):
                print(f'using the synthetic data in {self.data}')
            else:
                self.run(['tools/make_synthetic_data.py', self.data], 'make_synthetic_data')
            pixpro_tool.ensure_label_splits(self.run, self.data)
            print(
                f'{"wrote" if ensure_pool(self.pool, self.pool_num, *pixpro_tool.POOL_SIZE) else "using"} the '
                f'unlabelled pretraining pool: {self.pool_num} scenes in {self.pool}', flush=True)
        if {'classmix', 'dacs'} & set(stages):
            if os.path.isfile(os.path.join(self.small, 'meta.json')):
                print(f'using the 64x128 synthetic data in {self.small}')
            else:
                d = dacs_tool.DATA
                self.run([
                    'tools/make_synthetic_data.py', self.small, '--size', f'{d["height"]}x{d["width"]}', '--num-train',
                    str(d['num_train']), '--num-val',
                    str(d['num_val']), '--seed',
                    str(d['seed'])
                ], 'make_synthetic_data_64x128')
            if 'classmix' in stages:
                pixpro_tool.ensure_label_splits(self.run, self.small)

    # ---------------------------------------------------------------- stories
    def pretrain(self):
        """PixPro pretraining on the pool (shared by stories 1 and 4); returns its last checkpoint."""
        n = self.iters['pretrain']
        work = os.path.join(self.out, 'pixpro_pretrain')
        opts = pixpro_tool.pretrain_opts(n, self.log_every) + pixpro_tool.pool_opts(self.pool)
        if self.args.tiny:
            opts += ['train_dataloader.batch_size=2']
        secs = self.run(['tools/train.py', pixpro_tool.PRETRAIN, '--work-dir', work, '--cfg-options'] + opts,
                        'pixpro_pretrain', {'SEGSSL_DATA_ROOT': self.data})
        losses = mmengine_records(work, 'loss')
        self.curves['pretrain'] = {'PixPro pretraining': losses}
        self.results['pretrain'] = dict(iters=n, pool=self.pool_num, loss_first=losses[0][1], loss_last=losses[-1][1],
                                        minutes=round(secs / 60, 2))
        return open(os.path.join(work, 'last_checkpoint')).read().strip()

    def story_pixpro(self, ckpt):
        backbone = os.path.join(self.out, 'pixpro_r18_mmseg.pth')
        self.run(['tools/convert_checkpoint.py', ckpt, backbone, '--to', 'mmseg'], 'convert_mmseg')
        img = sorted(glob.glob(os.path.join(self.data, 'cityscapes', 'leftImg8bit', 'train', '*', '*.png')))[0]
        self.run(['tools/plot_pixel_pairs.py', img, '--out', os.path.join(self.out, 'pixel_pairs.png')], 'pixel_pairs')
        n, res = self.iters['finetune'], {}
        for name, extra in (('ssl', []), ('random', ['model.backbone.init_cfg=None'])):
            work = os.path.join(self.out, f'fcn16_{name}')
            secs = self.run(['tools/train.py', pixpro_tool.FINETUNE, '--work-dir', work, '--cfg-options'] +
                            pixpro_tool.finetune_opts(n, self.log_every) + pixpro_tool.label_split_opts(SSL_SPLIT) +
                            extra, f'fcn16_{name}', {
                                'SEGSSL_DATA_ROOT': self.data,
                                'SEGSSL_BACKBONE': backbone
                            })
            m = last_mmengine_metrics(work)
            res[name] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'], iters=n, labels=SSL_SPLIT, minutes=round(secs / 60, 2))
            self.curves.setdefault('mmseg', {})[f'FCN-16 {name} init'] = mmengine_records(work, 'loss')
        res['majority_class_baseline'] = majority_class_miou(os.path.join(self.data, 'cityscapes'))
        self.results['pixpro'] = res

    def story_classmix(self):
        """The ClassMix/DACS thesis's protocol: both arms start from the same trained model (the report's from ImageNet
        weights; here a supervised-only warm-up on the labelled 1/8), then train the same iterations.
        From random init the teacher's first pseudo-labels are noise and ClassMix loses (README)."""
        n, w, res = self.iters['semi'], self.iters['semi_warmup'], {}
        warm = os.path.join(self.out, 'semi_warmup')
        secs0 = self.run(['tools/train.py', classmix_tool.CONFIGS['supervised'], '--work-dir', warm, '--cfg-options'] +
                         classmix_tool.method_opts('supervised', w, SEMI_SPLIT, log_interval=self.log_every),
                         'semi_warmup', {'SEGSSL_DATA_ROOT': self.small})
        start = os.path.join(warm, f'iter_{w}.pth')
        res['warmup'] = dict(mIoU=last_mmengine_metrics(warm)['mIoU'], iters=w, minutes=round(secs0 / 60, 2))
        for method in ('classmix', 'supervised'):
            work = os.path.join(self.out, f'semi_{method}')
            opts = classmix_tool.method_opts(method, n, SEMI_SPLIT, init_from=start, log_interval=self.log_every)
            secs = self.run(['tools/train.py', classmix_tool.CONFIGS[method], '--work-dir', work, '--cfg-options'] +
                            opts, f'semi_{method}', {'SEGSSL_DATA_ROOT': self.small})
            m = last_mmengine_metrics(work)
            res[method] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'], iters=n, minutes=round(secs / 60, 2))
            self.curves.setdefault('mmseg', {})[f'{method} 1/8 (warm)'] = mmengine_records(work, 'loss')
        self.results['classmix'] = res

    def story_dacs(self):
        n, res = self.iters['uda'], {}
        for method in ('dacs', 'source-only'):
            work = os.path.join(self.out, f'uda_{method}')
            secs = self.run(['tools/train.py', dacs_tool.CONFIGS[method], '--work-dir', work, '--cfg-options'] +
                            pixpro_tool.finetune_opts(n, self.log_every), f'uda_{method}',
                            {'SEGSSL_DATA_ROOT': self.small})
            m = last_mmengine_metrics(work)
            res[method] = dict(mIoU=m['mIoU'], aAcc=m['aAcc'], iters=n, minutes=round(secs / 60, 2))
            self.curves.setdefault('mmseg', {})[method] = mmengine_records(work, 'loss')
        self.results['dacs'] = res

    def story_maskrcnn(self, ckpt):
        from segssl.runs.detectron2_metrics import read_metrics
        weights = os.path.join(self.out, 'pixpro_r18_detectron2.pkl')
        self.run(['tools/convert_checkpoint.py', ckpt, weights, '--to', 'detectron2'], 'convert_detectron2')
        n, res = self.iters['mask_rcnn'], {}
        coco = os.path.join(self.data, 'coco')
        for init in ('ssl', 'scratch'):
            work = os.path.join(self.out, f'mask_rcnn_{init}')
            opts = pixpro_tool.mask_rcnn_opts(n, work, self.data)
            opts += ['MODEL.WEIGHTS', weights] if init == 'ssl' else []
            tiny_opts = ['TEST.DETECTIONS_PER_IMAGE', '5'] if self.args.tiny else []  # untrained: slow mask pasting
            opts += tiny_opts
            secs = self.run(['tools/train_net.py', '--config-file', MASK_RCNN[init]] + opts, f'mask_rcnn_{init}')
            det = json.load(open(os.path.join(work, 'eval_results.json')))
            bg_dir = os.path.join(self.out, f'background_{init}')
            secs += self.run([
                'tools/remove_background.py', '--config-file', MASK_RCNN[init], '--weights',
                os.path.join(work, 'model_final.pth'), '--input',
                os.path.join(coco, 'val'), '--output', bg_dir, '--gt-coco',
                os.path.join(coco, 'annotations', 'instances_val.json'), '--score-threshold',
                str(BACKGROUND_THRESHOLD), 'SEGSSL.SYNTHETIC_ROOT', self.data
            ] + tiny_opts, f'background_{init}')
            bg = json.load(open(os.path.join(bg_dir, 'report.json')))['summary']
            res[init] = dict(segm_AP=det['segm']['AP'], bbox_AP=det['bbox']['AP'], segm_AP50=det['segm']['AP50'],
                             background_cosine=bg['mean_cosine_all'], background_no_instance=bg['num_no_instance'],
                             background_images=bg['num_images'], iters=n, minutes=round(secs / 60, 2))
            its, vals = read_metrics(work).get('total_loss', ([], []))
            self.curves.setdefault('mask_rcnn', {})[f'Mask R-CNN {init}'] = list(zip(its.tolist(), vals.tolist()))
        self.results['mask_rcnn'] = res

    # ---------------------------------------------------------------- outputs
    def rows(self):
        """(story, metric, A label, A, B label, B) for every comparison that ran."""
        r, out = self.results, []
        if 'pixpro' in r:
            p = r['pixpro']
            out += [(f'1 PixPro (pool) -> FCN-16, {SSL_LABELS} labels', 'val mIoU', 'SSL init', p['ssl']['mIoU'],
                     'random init', p['random']['mIoU']),
                    ('1 (reference)', 'val mIoU', 'SSL init', p['ssl']['mIoU'], 'majority class',
                     p['majority_class_baseline']['mIoU'])]
        if 'classmix' in r:
            c = r['classmix']
            out.append(('2 ClassMix, 1/8 labels, warm start', 'val mIoU', 'ClassMix', c['classmix']['mIoU'],
                        'supervised', c['supervised']['mIoU']))
            out.append(
                ('2 (reference)', 'val mIoU', 'ClassMix', c['classmix']['mIoU'], 'warm-up start', c['warmup']['mIoU']))
        if 'dacs' in r:
            d = r['dacs']
            out.append(
                ('3 DACS', 'target val mIoU', 'DACS', d['dacs']['mIoU'], 'source-only', d['source-only']['mIoU']))
        if 'mask_rcnn' in r:
            m = r['mask_rcnn']
            out += [('4 Mask R-CNN R18', 'segm AP', 'SSL init', m['ssl']['segm_AP'], 'scratch',
                     m['scratch']['segm_AP']),
                    ('4 background removal', 'cosine %', 'SSL init', m['ssl']['background_cosine'], 'scratch',
                     m['scratch']['background_cosine'])]
        return out

    def table(self, total):
        lines = [
            f'# segssl demo: synthetic data, one seed per run, {total:.1f} min', '',
            '| story | metric | A | A value | B | B value | A - B |', '| --- | --- | --- | ---: | --- | ---: | ---: |'
        ]
        for story, metric, la, a, lb, b in self.rows():
            diff = '-' if a is None or b is None else f'{a - b:+.2f}'
            fmt = lambda v: '-' if v is None else f'{v:.2f}'  # noqa: E731
            lines.append(f'| {story} | {metric} | {la} | {fmt(a)} | {lb} | {fmt(b)} | {diff} |')
        lines += [
            '', f'Iterations per run: {self.iters}. Minutes per stage: {self.minutes}.',
            f'Background removal: mean cosine (%) over the {self.data}/coco val images, an image with no '
            f'instance above score {BACKGROUND_THRESHOLD} counting as an all-zero output. At demo size Mask '
            'R-CNN is near 0 AP in both arms (docs/RESULTS.md runs it longer).', '', NOTE
        ]
        return '\n'.join(lines) + '\n'

    def figures(self):
        from segssl.runs.plots import plot_curves
        made = []
        for key, ylabel, name in (('mmseg', 'training loss', 'curves.png'), ('pretrain', 'PixPro loss',
                                                                             'curves_pretrain.png'),
                                  ('mask_rcnn', 'detectron2 total_loss', 'curves_mask_rcnn.png')):
            series = {k: v for k, v in self.curves.get(key, {}).items() if v}
            if series:
                made.append(plot_curves(series, os.path.join(self.out, name), ylabel, 'segssl demo: ' + ylabel))
        return made

    def stage(self, stage):
        """Run one story (the PixPro pretraining first, once, for stories 1 and 4); time it."""
        t = time.time()
        header({
            'pixpro': f'story 1: PixPro (LocalPPM) pretraining on the pool -> mmseg FCN-16 on {SSL_LABELS} of the '
            'labels, vs random init',
            'classmix': f'story 2: ClassMix vs supervised-only, {SEMI_SPLIT} of the labels',
            'dacs': 'story 3: DACS vs source-only, synthetic source -> cityscapes',
            'maskrcnn': 'story 4: Mask R-CNN from the PixPro weights vs scratch, background removal'
        }[stage])
        if stage in ('pixpro', 'maskrcnn') and self.ckpt is None:
            self.ckpt = self.pretrain()
        {
            'pixpro': lambda: self.story_pixpro(self.ckpt),
            'classmix': self.story_classmix,
            'dacs': self.story_dacs,
            'maskrcnn': lambda: self.story_maskrcnn(self.ckpt)
        }[stage]()
        self.minutes[stage] = round((time.time() - t) / 60, 2)

    def lanes(self, stages):
        """Stories 1 and 4 (they share the pretraining) in this thread, streamed; with --jobs 2, stories 2
        and 3 at once in a second thread, logged to files only. Each run keeps its --threads, so the figures
        are the same either way."""
        ssl = [s for s in STAGES if s in stages and s in ('pixpro', 'maskrcnn')]
        semi = [s for s in STAGES if s in stages and s in ('classmix', 'dacs')]
        if self.args.jobs < 2 or not ssl or not semi:
            for s in STAGES:  # one after another, in story order
                if s in stages:
                    self.stage(s)
            return
        failed = []

        def background():
            try:
                for s in semi:
                    self.stage(s)
            except BaseException as e:  # run_logged's sys.exit included: re-raised in the main thread
                failed.append(e)

        print(f'\nstories {" and ".join(semi)} run beside the others; their output goes to {self.out}/logs/',
              flush=True)
        other = threading.Thread(target=background, name='demo-semi')
        other.start()
        try:
            for s in ssl:
                self.stage(s)
        finally:
            other.join()
        if failed:
            raise failed[0]

    def main(self):
        t0, stages = time.time(), self.args.stages
        os.makedirs(self.out, exist_ok=True)
        t = time.time()
        self.ensure_data(stages)
        self.minutes['data'] = round((time.time() - t) / 60, 2)
        self.ckpt = None
        self.lanes(stages)
        self.minutes = {k: self.minutes[k] for k in ('data', ) + STAGES if k in self.minutes}
        figures = self.figures()
        total = (time.time() - t0) / 60
        text = self.table(total)
        summary = dict(
            self.results, iters=self.iters, stages=list(stages), minutes=dict(self.minutes, total=round(total, 2)),
            comparisons=[
                dict(story=s, metric=m, a=la, a_value=a, b=lb, b_value=b,
                     diff=None if a is None or b is None else a - b) for s, m, la, a, lb, b in self.rows()
            ], figures=[os.path.basename(f) for f in figures], note=NOTE)
        with atomic_outputs(os.path.join(self.out, 'results.json'), os.path.join(self.out, 'results.md')) as (tj, tm):
            with open(tj, 'w') as f:
                json.dump(summary, f, indent=1)
            with open(tm, 'w') as f:
                f.write(text)
        print('\n' + '=' * 78 + '\n' + text + f'\nresults, figures and logs in {self.out}/\n' + '=' * 78)
        return 0


def parse_iters(item):
    key, _, value = item.partition('=')
    if key not in ITERS or not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f'--iters {item!r}: expected STAGE=N with STAGE one of {list(ITERS)}, N >= 1')
    return key, int(value)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--stages', nargs='+', default=list(STAGES), choices=STAGES, help='stories to run (default: all)')
    p.add_argument('--data', default='data/synthetic', help='128x256 synthetic data root (generated if missing)')
    p.add_argument('--small-data', default='data/synthetic_64x128',
                   help='64x128 synthetic data for stories 2-3 (generated if missing, with the label splits)')
    p.add_argument('--out', default='work_dirs/demo', help='output folder of the runs and results')
    p.add_argument(
        '--pool', type=int, default=0, metavar='N',
        help=f'unlabelled pool scenes for the PixPro pretraining (default 0: {POOL}, or {TINY_POOL} '
        'with --tiny)')
    p.add_argument('--pool-dir', help='where the pool is made once and reused (default: data/synthetic-pool<N>)')
    p.add_argument('--tiny', action='store_true', help='2 iterations per run, a smoke test')
    p.add_argument('--iters', nargs='+', type=parse_iters, default=[], metavar='STAGE=N',
                   help=f'override iterations per run; STAGE in {list(ITERS)} (default: {ITERS})')
    add_threads_option(p, 1)
    p.add_argument(
        '--jobs', type=int, default=2,
        help='runs at once: 2 runs stories 2-3 beside stories 1 and 4 (the figures do not change; '
        '1: one after another)')
    args = p.parse_args(argv)
    for k in ('threads', 'jobs'):
        if getattr(args, k) < 1:
            p.error(f'--{k} must be >= 1, got {getattr(args, k)}')
    if args.pool < 0:
        p.error(f'--pool must be >= 1 (or 0 for the default), got {args.pool}')
    args.iters = dict(args.iters)
    return Demo(args).main()


if __name__ == '__main__':
    sys.exit(main())

"""Tier 2 of the GPU acceptance check (tools/gpu_check.py): segssl's runners on the device.

Each runner trains for ``iters`` iterations on a small synthetic set through the project's own
commands (mmseg's tools/train.py, detectron2's tools/train_net.py), with and without AMP (mmseg's
``--amp``, detectron2's ``SOLVER.AMP.ENABLED``), and reads its speed and peak GPU memory from
the run's own logs (mmengine's scalars.json ``time`` / ``memory``, detectron2's metrics.json
``time`` / ``max_mem``). Then: the PixPro checkpoint converted to mmseg and detectron2 and an
FCN-16 fine-tune from it; a ClassMix run killed after its first checkpoint and resumed with
``--resume``; with two GPUs, a 2-process NCCL ClassMix run (torchrun). Needs mmseg and detectron2
(either supported stack). A CPU rehearsal (``--device cpu``) skips what needs CUDA (AMP, NCCL).
"""
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADER = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
VAL = ['val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
# (name, config, cfg-options beyond the common ones; {n} is the iteration count, {root} the data)
RUNNERS = [
    ('PixPro LocalPPM + Momentum BN + erasing', 'configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py', [
        'train_dataloader.batch_size=4', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end={n}', 'param_scheduler.1.T_max={n1}'
    ]),
    ('BYOL', 'configs/pretrain/byol_r18_synthetic-64px.py', [
        'train_dataloader.batch_size=6', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end={n}', 'param_scheduler.1.T_max={n1}'
    ]),
    ('SimCLR 3x3 stem', 'configs/pretrain/simclr_r18-3x3stem_synthetic-32px.py', [
        'train_dataloader.batch_size=6', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end={n}', 'param_scheduler.1.periods=[{n1}]', 'param_scheduler.1.restart_weights=[1.0]'
    ]),
    ('ClassMix', 'configs/semi/classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py', [
        'train_dataloader.dataset.labelled.ann_file={root}/splits/1-2/labelled.txt',
        'train_dataloader.dataset.unlabelled.ann_file={root}/splits/1-2/unlabelled.txt',
        'train_dataloader.batch_size=2', 'train_cfg.val_interval={n}'
    ] + VAL),
    ('DACS', 'configs/uda/dacs_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
     ['train_cfg.val_interval={n}', 'param_scheduler.0.end={n}'] + VAL),
    ('FCN-16 fine-tune', 'configs/finetune/fcn16_r18-d16_synthetic-128x256.py',
     ['train_cfg.val_interval={n}', 'param_scheduler.0.end={n}', 'model.backbone.init_cfg=None'] + VAL),
    ('DeepLab-v2 fine-tune', 'configs/finetune/deeplabv2_r18-d8_synthetic-128x256.py',
     ['train_cfg.val_interval={n}', 'param_scheduler.0.end={n}', 'model.backbone.init_cfg=None'] + VAL),
]
MASK_RCNN = 'configs/detectron2/mask_rcnn_R_18_FPN_synthetic_scratch.yaml'


class Skip(Exception):
    """A check that does not apply here (shown as 'skipped' with the reason)."""


class Runs:
    """The shared state of tier 2: a work folder, the synthetic data, the device's environment."""

    def __init__(self, device, iters, quick):
        self.device, self.iters, self.quick = device, iters, quick
        self.work = tempfile.mkdtemp(prefix='segssl_gpu_check_')
        self.root = None
        self.env = dict(os.environ, PYTHONUNBUFFERED='1',
                        PYTHONPATH=os.path.join(ROOT, 'plugins') + os.pathsep + os.environ.get('PYTHONPATH', ''))
        if device.type == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        elif device.index is not None:
            self.env['CUDA_VISIBLE_DEVICES'] = str(device.index)

    def close(self, keep):
        """Remove the work folder; ``keep`` (a check failed) leaves it and says where."""
        if keep:
            print(f'[gpu_check] tier 2 files kept for the failed checks: {self.work}', flush=True)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def data(self):
        if self.root is None:
            sys.path.insert(0, os.path.join(ROOT, 'plugins'))
            from segssl.data.splits import list_train_ids, write_splits
            from segssl.synthetic import generate
            root = os.path.join(self.work, 'synthetic')
            generate(root, num_train=8, num_val=2, height=64, width=128, seed=0)
            write_splits(os.path.join(root, 'splits'), 'cityscapes',
                         list_train_ids('cityscapes', os.path.join(root, 'cityscapes')), seed=0)
            self.root = root
        return self.root

    def command(self, args, log, timeout=900):
        with open(log, 'w') as f:
            r = subprocess.run([sys.executable] + args, cwd=ROOT, env=self.env, stdout=f, stderr=subprocess.STDOUT,
                               timeout=timeout)
        if r.returncode != 0:
            tail = open(log).read()[-1500:].strip().splitlines()
            raise RuntimeError(f'exit {r.returncode}: {tail[-1] if tail else ""} (log: {log})')

    def mmseg_args(self, config, options, work, amp=False, iters=None):
        n = iters or self.iters
        fill = dict(n=n, n1=max(n - 1, 1), root=self.data())
        opts = (
            [o.format(**fill) for o in options] + LOADER +
            [f'train_cfg.max_iters={n}', 'default_hooks.logger.interval=1', f'default_hooks.checkpoint.interval={n}'])
        return (['tools/train.py', config, '--work-dir', work] + (['--amp'] if amp else []) + ['--cfg-options'] + opts)

    def train(self, name, config, options, amp):
        if amp and self.device.type != 'cuda':
            raise Skip('AMP needs CUDA (mmengine\'s AmpOptimWrapper)')
        work = os.path.join(self.work, name.split()[0] + ('_amp' if amp else ''))
        self.data()
        self.env['SEGSSL_DATA_ROOT'] = self.root
        self.command(self.mmseg_args(config, options, work, amp), work + '.log')
        return mmengine_figures(work, self.iters)

    def mask_rcnn(self, amp):
        if amp and self.device.type != 'cuda':
            raise Skip('AMP needs CUDA')
        out = os.path.join(self.work, 'mask_rcnn' + ('_amp' if amp else ''))
        n = self.iters
        self.command([
            'tools/train_net.py', '--config-file', MASK_RCNN, 'SEGSSL.SYNTHETIC_ROOT',
            self.data(), 'OUTPUT_DIR', out, 'SOLVER.MAX_ITER',
            str(n), 'SOLVER.STEPS', f'({max(n // 2, 1)},)', 'SOLVER.WARMUP_ITERS', '1', 'SOLVER.CHECKPOINT_PERIOD',
            str(n), 'INPUT.MIN_SIZE_TRAIN', '(128,)', 'INPUT.MIN_SIZE_TEST', '128', 'SOLVER.AMP.ENABLED',
            str(bool(amp)), 'MODEL.DEVICE', self.device.type
        ], out + '.log')
        return detectron2_figures(out)

    def convert_and_fine_tune(self):
        pre = glob.glob(os.path.join(self.work, 'PixPro', 'iter_*.pth'))
        if not pre:
            raise RuntimeError('no PixPro checkpoint (its run failed or was not selected)')
        mm, d2 = os.path.join(self.work, 'r18_mmseg.pth'), os.path.join(self.work, 'r18.pkl')
        for dst, to in ((mm, 'mmseg'), (d2, 'detectron2')):
            self.command(['tools/convert_checkpoint.py', pre[0], dst, '--to', to], dst + '.log', timeout=300)
        self.env['SEGSSL_BACKBONE'] = mm
        work = os.path.join(self.work, 'fcn16_from_pixpro')
        config, options = RUNNERS[5][1], [o for o in RUNNERS[5][2] if 'init_cfg' not in o]
        self.command(self.mmseg_args(config, options, work), work + '.log')
        if 'Loads checkpoint by local backend from path: ' + mm not in open(work + '.log').read():
            raise RuntimeError('the fine-tune did not load the converted backbone')
        return mmengine_figures(work, self.iters)

    def resume_killed(self):
        """ClassMix to its first checkpoint, SIGKILL, then --resume to the end."""
        name, config, options = RUNNERS[3]
        work = os.path.join(self.work, 'resume')
        n = max(self.iters, 4)
        args = self.mmseg_args(config, options, work, iters=n)
        args[args.index(f'default_hooks.checkpoint.interval={n}')] = \
            f'default_hooks.checkpoint.interval={n // 2}'
        with open(work + '.log', 'w') as f:
            proc = subprocess.Popen([sys.executable] + args, cwd=ROOT, env=self.env, stdout=f, stderr=subprocess.STDOUT)
            first = os.path.join(work, f'iter_{n // 2}.pth')
            deadline = time.time() + 600
            while not os.path.exists(first) and proc.poll() is None and time.time() < deadline:
                time.sleep(0.2)
            if proc.poll() is not None:
                raise RuntimeError(f'the run ended (exit {proc.returncode}) before it was killed')
            time.sleep(0.5)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.command(args + ['--resume'], work + '.resume.log')
        text = open(work + '.resume.log').read()
        if f'resumed epoch: 0, iter: {n // 2}' not in text:
            raise RuntimeError(f'the resumed run did not continue from iteration {n // 2}')
        return dict(timed=f'killed at iteration >= {n // 2}, resumed to {n}')

    def nccl(self):
        import torch
        if self.device.type != 'cuda' or torch.cuda.device_count() < 2:
            raise Skip('needs two GPUs')
        name, config, options = RUNNERS[3]
        work = os.path.join(self.work, 'nccl')
        env = dict(self.env)
        env.pop('CUDA_VISIBLE_DEVICES', None)
        args = self.mmseg_args(config, options, work)
        with open(work + '.log', 'w') as f:
            r = subprocess.run([
                sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', args[0], *args[1:], '--launcher',
                'pytorch'
            ], cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f'torchrun exit {r.returncode} (log: {work}.log)')
        return mmengine_figures(work, self.iters)


def _median_its(times, warmup=2):
    times = [t for t in times if t > 0]
    steady = times[warmup:] or times
    return 1.0 / statistics.median(steady) if steady else None


def mmengine_figures(work, iters):
    from segssl.runs import mmengine_scalars  # plugins/ is on sys.path (tools/gpu_check.py)
    records = mmengine_scalars(work)
    train = [r for r in records if 'loss' in r and 'time' in r]
    if len(train) < iters:
        raise RuntimeError(f'{len(train)} logged training iterations of {iters}')
    bad = [r['step'] for r in train if r['loss'] != r['loss'] or abs(r['loss']) == float('inf')]
    if bad:
        raise RuntimeError(f'non-finite loss at iterations {bad[:5]}')
    memory = [r['memory'] for r in train if 'memory' in r]
    return dict(its=_median_its([r['time'] for r in train]), peak_mib=max(memory) if memory else None,
                timed=f'{len(train)} iterations, loss {train[0]["loss"]:.3g} -> {train[-1]["loss"]:.3g}')


def detectron2_figures(out):
    rows = [json.loads(line) for line in open(os.path.join(out, 'metrics.json')) if line.strip()]
    train = [r for r in rows if 'total_loss' in r]
    if not train:
        raise RuntimeError('no training iterations in metrics.json')
    mems = [float(m) for m in __import__('re').findall(r'max_mem: (\d+)M', open(out + '.log').read())]
    return dict(its=_median_its([r['time'] for r in train if 'time' in r],
                                warmup=1), peak_mib=max(mems) if mems else None,
                timed=f'{train[-1]["iteration"] + 1} iterations, total loss {train[-1]["total_loss"]:.3g}')


def checks(runs):
    """``[(name, fn)]`` of ``runs`` (a :class:`Runs`) in running order (the conversion uses the
    PixPro run's checkpoint)."""
    out = []
    for name, config, options in RUNNERS:
        for amp in (False, True):
            out.append(
                (f'{name}{" --amp" if amp else ""}', lambda n=name, c=config, o=options, a=amp: runs.train(n, c, o, a)))
    out += [('Mask R-CNN R18-FPN (train_net.py)', lambda: runs.mask_rcnn(False)),
            ('Mask R-CNN R18-FPN (train_net.py) AMP', lambda: runs.mask_rcnn(True)),
            ('convert PixPro -> mmseg + detectron2, FCN-16 from it', runs.convert_and_fine_tune),
            ('ClassMix killed and resumed', runs.resume_killed), ('ClassMix 2-process NCCL', runs.nccl)]
    return out

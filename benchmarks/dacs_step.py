#!/usr/bin/env python
"""A DACS training step vs a supervised (source-only) step of the same DeepLab-v2, as a ratio,
with the ratio predicted from the extra passes beside it. Both models are built from the
configs in configs/uda/ (random init), timed in one run on the same images.

A supervised step is one student forward + backward on B source images (t_sup, optimizer step
included). A DACS step adds a teacher forward (no grad) on B target images (t_teacher) and a
second student forward + backward on the B mixed images, so

    predicted ratio = (2 t_sup + t_teacher) / t_sup,

the remainder (mask making, mixing, jitter + blur, the teacher's EMA update) is measured on its own.

    python benchmarks/dacs_step.py [--depth 101] [--size 128] [--batch 2] [--repeats 3] [--out FILE]
"""
import argparse
import copy
import os
import sys
import time

import torch
from timing import publish, timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DACS_CFG = 'configs/uda/dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py'
SUP_CFG = 'configs/uda/source-only_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py'


def make_part(batch, size, labelled, seed):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 255, (3, size, size), dtype=torch.uint8, generator=g))
        s = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        if labelled:  # 6 classes in 16x16 blocks
            blocks = torch.randint(0, 6, (size // 16, size // 16), generator=g)
            s.gt_sem_seg = PixelData(data=blocks.repeat_interleave(16, 0).repeat_interleave(16, 1)[None])
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def build(cfg_file, depth, size, model_key=None):
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    cfg = Config.fromfile(os.path.join(ROOT, cfg_file))
    seg = cfg.model.segmentor if model_key else cfg.model
    seg.backbone.depth, seg.backbone.init_cfg = depth, None
    seg.decode_head.in_channels = 2048 if depth >= 50 else 512
    seg.data_preprocessor.size = (size, size)
    if model_key:
        cfg.model.strong_aug.update(jitter_p=1.0, blur_p=1.0)  # every step pays for both
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--depth', type=int, default=101)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'results', 'dacs_step.md'))
    args = p.parse_args()
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope

    from segssl.mmseg.classmix import ClassMixSegmentor
    init_default_scope('mmseg')
    source = make_part(args.batch, args.size, True, 0)
    target = make_part(args.batch, args.size, False, 1)

    sup, sup_ow = build(SUP_CFG, args.depth, args.size)
    dacs, dacs_ow = build(DACS_CFG, args.depth, args.size, model_key='segmentor')
    x_t = dacs.data_preprocessor(copy.deepcopy(target), True)['inputs']

    def teacher_forward():
        with torch.no_grad():
            return ClassMixSegmentor.logits(dacs.teacher, x_t)

    steps = dict(
        sup=lambda: sup.train_step(copy.deepcopy(source), sup_ow),
        dacs=lambda: dacs.train_step(dict(labelled=copy.deepcopy(source), unlabelled=copy.deepcopy(target)), dacs_ow),
        teacher=teacher_forward)
    # interleaved rounds (sup, DACS, teacher), so that load drifting on a shared machine hits all
    # three alike; two warm-up rounds, then the median of ``repeats`` rounds
    # CPU time of this process (all its threads) as well as wall time: on a shared machine the
    # wall time of a step swings with other jobs' load, its CPU time much less
    times = {k: [] for k in steps}
    cpu = {k: [] for k in steps}
    for r in range(2 + args.repeats):
        for k, fn in steps.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            if r >= 2:
                times[k].append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    t_sup, t_dacs, t_teacher = (med(times[k]) for k in ('sup', 'dacs', 'teacher'))
    c_sup, c_dacs, c_teacher = (med(cpu[k]) for k in ('sup', 'dacs', 'teacher'))
    with torch.no_grad():
        probs = torch.softmax(teacher_forward(), 1)
    lab = dacs.data_preprocessor(copy.deepcopy(source), True)
    labels = torch.stack([s.gt_sem_seg.data[0] for s in lab['data_samples']]).long()
    pseudo, w = probs.argmax(1), torch.ones_like(probs[:, 0])

    def mix_and_augment():
        mixed = dacs.mix_batch(x_t, pseudo, probs, w, dict(inputs=lab['inputs'], labels=labels))
        dacs.augment(mixed.images)

    t_mix = timed(mix_and_augment, args.repeats)
    t_ema = timed(lambda: dacs.update_teacher(5), args.repeats)
    predicted = (2 * t_sup + t_teacher) / t_sup
    measured = t_dacs / t_sup
    per_round = sorted(d / s for d, s in zip(times['dacs'], times['sup']))
    measured_round = per_round[len(per_round) // 2]
    rest = t_dacs - 2 * t_sup - t_teacher
    threads = torch.get_num_threads()
    per_round = ' ; '.join(f'{a:.2f} / {b:.2f} / {c:.2f}'
                           for a, b, c in zip(times['sup'], times['dacs'], times['teacher']))
    text = f"""# DACS step vs supervised step (CPU)

Command: `python benchmarks/dacs_step.py --depth {args.depth} --size {args.size} --batch {args.batch} \
--repeats {args.repeats}`
(DeepLab-v2 ResNet-{args.depth}, output stride 8, ASPP 6/12/18/24, from configs/uda/ with random init;
{args.size}x{args.size} crops, batch {args.batch} source [+ {args.batch} target]; {threads} threads; median of
{args.repeats} interleaved rounds after two warm-up rounds; DACS with jitter and blur on every step.)

| step | seconds |
| --- | --- |
| supervised (source-only): forward + backward + SGD, t_sup | {t_sup:.3f} |
| DACS: full train_step | {t_dacs:.3f} |
| teacher forward on the target batch (no grad), t_teacher | {t_teacher:.3f} |
| masks + mixing + jitter + blur | {t_mix:.3f} |
| teacher EMA update | {t_ema:.3f} |

| ratio DACS / supervised | value |
| --- | --- |
| predicted (2 t_sup + t_teacher) / t_sup | {predicted:.2f} |
| measured (median DACS / median supervised) | {measured:.2f} |
| measured (median of the per-round ratios) | {measured_round:.2f} |
| predicted from CPU times (2 c_sup + c_teacher) / c_sup | {(2 * c_sup + c_teacher) / c_sup:.2f} |
| measured from CPU times c_DACS / c_sup | {c_dacs / c_sup:.2f} |

CPU seconds (median): supervised {c_sup:.3f}, DACS {c_dacs:.3f}, teacher forward {c_teacher:.3f}.

Per-round seconds (sup / DACS / teacher): {per_round}

Measured - predicted time: {rest:+.3f} s per step (mixing/augmentation/EMA measured alone:
{t_mix + t_ema:.3f} s).
"""
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""One ClassMix training step vs one supervised mmseg step of the same student and batch (the ClassMix/DACS thesis).

The supervised step is mmseg's own EncoderDecoder.train_step on the B labelled images (forward,
loss, backward, SGD step). The ClassMix step (ClassMixSegmentor.train_step) adds a teacher
forward on the B unlabelled images (eval mode, no grad) and a student forward + backward on the
B mixed images, plus the EMA update, masks, mixing and weights. Its ratio to the supervised step
is set next to the ratio those extra passes alone predict,

    predicted = (t_sup + t_teacher_forward + t_student_forward_backward) / t_sup,

each term timed alone on the same tensors; the difference is the cost of the rest (EMA update,
masks, mixing, weights). All timings are medians over interleaved repeats after a warm-up.

    python benchmarks/classmix_step.py [--config CONFIG] [--batch 4] [--repeats 7] [--out FILE]
"""
import argparse
import copy
import os
import sys
import time

import torch
from timing import publish

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(ROOT, 'configs', 'semi', 'classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py')


def make_batch(batch, h, w, num_classes, seed=0):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    parts = {}
    for part in ('labelled', 'unlabelled'):
        inputs, samples = [], []
        for _ in range(batch):
            inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g))
            s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
            if part == 'labelled':  # blocky labels, like a segmentation map
                s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (
                    1, h // 8, w // 8), generator=g).repeat_interleave(8, 1).repeat_interleave(8, 2))
            samples.append(s)
        parts[part] = dict(inputs=inputs, data_samples=samples)
    return parts


def timed_interleaved(fns, repeats):
    """{name: median seconds}, calling the functions in turn ``repeats`` times after a warm-up."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default=DEFAULT_CONFIG, help='a ClassMixSegmentor config (its student is timed)')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--size', default='64x128', help='HEIGHTxWIDTH of the images')
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out', default=os.path.join(ROOT, 'benchmarks', 'results', 'classmix_step.md'))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from segssl.mmseg.classmix import ClassMixSegmentor
    init_default_scope('mmseg')
    h, w = (int(v) for v in args.size.split('x'))
    cfg = Config.fromfile(args.config)
    cfg.model.segmentor.data_preprocessor.size = (h, w)
    cfg.model.segmentor.backbone.init_cfg = None
    torch.manual_seed(0)
    classmix = revert_sync_batchnorm(MODELS.build(cfg.model))
    classmix.init_weights()
    supervised = revert_sync_batchnorm(MODELS.build(copy.deepcopy(cfg.model.segmentor)))
    supervised.load_state_dict(classmix.student.state_dict())
    optim = copy.deepcopy(cfg.optim_wrapper)
    ow_sup = build_optim_wrapper(supervised, copy.deepcopy(optim))
    ow_mix = build_optim_wrapper(classmix, copy.deepcopy(optim))
    num_classes = cfg.model.segmentor.decode_head.num_classes
    data = make_batch(args.batch, h, w, num_classes)
    classmix.train()
    supervised.train()
    # the extra passes alone, on the same preprocessed tensors
    pre = classmix.data_preprocessor(copy.deepcopy(data), True)
    x_u = pre['unlabelled']['inputs']
    labels = torch.randint(0, num_classes, (args.batch, h, w))

    def teacher_forward():
        with torch.no_grad():
            ClassMixSegmentor.logits(classmix.teacher, x_u)

    def student_forward_backward():
        logits = ClassMixSegmentor.logits(classmix.student, x_u)
        torch.nn.functional.cross_entropy(logits, labels).backward()
        classmix.student.zero_grad()

    fns = dict(supervised=lambda: supervised.train_step(copy.deepcopy(data['labelled']), ow_sup),
               classmix=lambda: classmix.train_step(copy.deepcopy(data), ow_mix), teacher_forward=teacher_forward,
               student_forward_backward=student_forward_backward)
    t = timed_interleaved(fns, args.repeats)
    measured = t['classmix'] / t['supervised']
    predicted = (t['supervised'] + t['teacher_forward'] + t['student_forward_backward']) / t['supervised']
    seg = cfg.model.segmentor
    model_desc = (
        f"{seg.decode_head.type} on ResNet-{seg.backbone.depth}"
        f"{' (base width ' + str(seg.backbone.base_channels) + ')' if 'base_channels' in seg.backbone else ''}")
    lines = [
        '# One ClassMix train step vs one supervised mmseg step (CPU)', '',
        f'Command: `python benchmarks/{os.path.basename(__file__)} ' + ' '.join(sys.argv[1:]) + '`', '',
        f'Student: {model_desc} from `{os.path.relpath(args.config, ROOT)}`; batch {args.batch} labelled '
        f'(+ {args.batch} unlabelled for ClassMix) at {h}x{w}, {args.threads} thread(s); medians of {args.repeats} '
        'interleaved repeats after a warm-up. Supervised step = mmseg EncoderDecoder.train_step (forward, loss, '
        'backward, SGD step); ClassMix step = ClassMixSegmentor.train_step.', '', '| part | seconds |', '| --- | --- |',
        f"| supervised step | {t['supervised']:.4f} |", f"| ClassMix step | {t['classmix']:.4f} |",
        f"| teacher forward (no grad) on the unlabelled batch | {t['teacher_forward']:.4f} |",
        f"| student forward + backward on one batch | {t['student_forward_backward']:.4f} |", '',
        f'**ClassMix / supervised: {measured:.2f}x measured; {predicted:.2f}x predicted by the extra teacher '
        f'forward and student forward + backward alone.** The remaining {measured - predicted:+.2f}x is the EMA '
        'update, '
        'masks, mixing, confidence weights and bookkeeping.', ''
    ]
    text = '\n'.join(lines)
    return publish(args.out, text)


if __name__ == '__main__':
    sys.exit(main())

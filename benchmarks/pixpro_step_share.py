#!/usr/bin/env python
"""Head + matching + loss as a share of a full PixPro training step: ResNet-50 with the dilated
conv5 (14x14 maps at 224 px), two views through both branches, forward + backward + LARS step,
for the dense PPM and for LocalPPM 5x5 with sparse matching. Both are timed in one run, the
head part by running it alone on the same feature maps.

    python benchmarks/pixpro_step_share.py [--batch 8] [--repeats 3] [--out FILE]
"""
import argparse
import os
import sys

import torch
from timing import publish, timed


def make_batch(model, batch, size):
    from mmengine.structures import BaseDataElement
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (4, 3, size, size), dtype=torch.uint8, generator=g) for _ in range(batch)]
    samples = []
    for i in range(batch):
        s1, s2 = 100 + 100 * torch.rand(2, generator=g)
        samples.append(
            BaseDataElement(metainfo=dict(view_boxes=torch.tensor([[0., 0., s1, s1], [20., 10., 20 + s2, 10 +
                                                                                      s2]]), view_flips=torch.
                                          tensor([False, bool(i %
                                                              2)]), view_warps=torch.tensor([[[1., 0, 0], [0, 1, 0]]] *
                                                                                            2), view_size=(size,
                                                                                                           size))))
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'results', 'pixpro_step_share.md'))
    args = p.parse_args()
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from segssl.core import pixel_consistency_loss
    init_default_scope('mmseg')
    torch.manual_seed(0)
    rows = []
    for name, head, dense in (('PPM, dense matching', dict(type='ppm'), True), ('LocalPPM 5x5, sparse matching',
                                                                                dict(type='local_ppm',
                                                                                     frame=5), False)):
        model = MODELS.build(
            dict(
                type='PixPro', dense_loss=dense, head=head, momentum_bn=dict(stat_momentum=0.9),
                backbone=dict(type='ResNet', depth=50, style='pytorch', out_indices=(3, ), strides=(1, 2, 2, 1),
                              dilations=(1, 1, 1, 2)), projector=dict(in_channels=2048, hidden_channels=4096,
                                                                      out_channels=256)))
        model.init_weights()
        model.train()
        optim = build_optim_wrapper(
            model,
            dict(type='OptimWrapper', constructor='LARSOptimWrapperConstructor',
                 optimizer=dict(type='LARS', lr=0.1, momentum=0.9, weight_decay=4e-4)))
        data = make_batch(model, args.batch, args.size)

        def full_step():
            loss = model(**data, mode='loss')['loss']
            optim.update_params(loss)
            model.momentum_update(0.99)

        x = data['inputs']
        with torch.no_grad():
            p1, p2 = model.online_projector(model.online_backbone(x[:, 0])[-1]), model.online_projector(
                model.online_backbone(x[:, 1])[-1])
            t1, t2 = model._target(x[:, 2]), model._target(x[:, 3])
        l1, l2 = model._lattices(data['data_samples'], p1.shape[-2], p1.shape[-1], p1.device)

        def head_and_loss():
            a, b = p1.clone().requires_grad_(True), p2.clone().requires_grad_(True)
            loss = pixel_consistency_loss(model.head(a), t2, model.head(b), t1, l1, l2, dense=dense)
            loss.backward()

        t_full, t_head = timed(full_step, args.repeats), timed(head_and_loss, args.repeats)
        rows.append((name, tuple(p1.shape[-2:]), t_full, t_head))
        print(name, p1.shape, t_full, t_head, flush=True)
    lines = [
        '# Head + matching + loss as a share of a full PixPro step (CPU)', '',
        f'Command: `python benchmarks/pixpro_step_share.py --batch {args.batch} --repeats {args.repeats}` '
        f'(ResNet-50 with dilated conv5, {args.size} px views, batch {args.batch}, '
        f'{torch.get_num_threads()} threads; median of {args.repeats} after a warm-up). The full step: '
        'both views through both branches, loss, backward, LARS step, EMA update. The head part: '
        'propagation head on both views + matching + loss, forward and backward, on the same maps.', '',
        '| head | map | full step s | head + matching + loss s | share |', '| --- | --- | --- | --- | --- |'
    ]
    for name, hw, t_full, t_head in rows:
        lines.append(f'| {name} | {hw[0]}x{hw[1]} | {t_full:.2f} | {t_head:.3f} | {100 * t_head / t_full:.1f}% |')
    return publish(args.out, lines + [''])


if __name__ == '__main__':
    sys.exit(main())

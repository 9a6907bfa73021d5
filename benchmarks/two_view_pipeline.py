#!/usr/bin/env python
"""Images per second of the BYOL and SimCLR two-view data pipelines on one core: segssl's mmcv
transforms (LoadImageFromFile -> TwoViewCrop -> ViewColorAugment -> PackPixelViews, numpy + cv2)
vs a plain torchvision.transforms pipeline doing the same augmentations on PIL images (open ->
2 x [RandomResizedCrop, flip, ColorJitter p 0.8, RandomGrayscale, GaussianBlur, RandomSolarize]
-> uint8 tensors), measured in one run on the same JPEG files, alternating the two pipelines
round by round so that machine load hits both alike.

    python benchmarks/two_view_pipeline.py [--images 16] [--size 480x640] [--rounds 5] [--out FILE]

Recipes (per view 1 / view 2):
  byol   224 px, scale (0.08, 1), jitter (0.4, 0.4, 0.2, 0.1) p 0.8, grey p 0.2, blur 23x23 sigma
         U(0.1, 2) p 1.0 / 0.1, solarize p 0 / 0.2   (the Mask R-CNN thesis)
  simclr 64 px, jitter (0.8, 0.8, 0.8, 0.2) p 0.8, grey p 0.2, blur 7x7 p 0.5, no solarize (the SimCLR report)
  byol-noblur  the byol recipe with blur p 0 / 0 (separates the blur's share of the difference)
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

from timing import publish

RECIPES = {
    'byol': dict(size=224, jitter=(0.4, 0.4, 0.2, 0.1), blur=(1.0, 0.1), kernel=23, solarize=(0.0, 0.2)),
    'simclr': dict(size=64, jitter=(0.8, 0.8, 0.8, 0.2), blur=(0.5, 0.5), kernel=7, solarize=(0.0, 0.0)),
    # the BYOL recipe without its blur: how much of the gap the 23x23 blur makes
    'byol-noblur': dict(size=224, jitter=(0.4, 0.4, 0.2, 0.1), blur=(0.0, 0.0), kernel=23, solarize=(0.0, 0.2)),
}


def ours(r):
    from mmcv.transforms import Compose

    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import TRANSFORMS  # noqa: F401
    init_default_scope('mmseg')
    b, c, s, h = r['jitter']
    return Compose([
        dict(type='LoadImageFromFile'),
        dict(type='TwoViewCrop', size=r['size'], scale=(0.08, 1.0)),
        dict(type='ViewColorAugment', jitter_prob=0.8, brightness=b, contrast=c, saturation=s, hue=h,
             grayscale_prob=0.2, blur_prob=r['blur'], blur_kernel_size=r['kernel'], solarize_prob=r['solarize']),
        dict(type='PackPixelViews')
    ])


def torchvision_pipeline(r):
    import torch
    from PIL import Image
    from torchvision import transforms as T

    def view(i):
        return T.Compose([
            T.RandomResizedCrop(r['size'], scale=(0.08, 1.0), antialias=True),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(*r['jitter'])], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.RandomApply([T.GaussianBlur(r['kernel'], sigma=(0.1, 2.0))], p=r['blur'][i]),
            T.RandomSolarize(128, p=r['solarize'][i]),
            T.PILToTensor()
        ])

    views = [view(0), view(1)]

    def run(results):
        img = Image.open(results['img_path']).convert('RGB')
        return dict(inputs=torch.stack([v(img) for v in views]))

    return run


def make_images(folder, n, height, width):
    import numpy as np
    from PIL import Image

    from segssl.synthetic import make_scene, render
    paths = []
    for i in range(n):
        rng = np.random.default_rng([0, i])
        img = render(make_scene(rng, height, width), rng, 'target')
        path = os.path.join(folder, f'img_{i:03d}.jpg')
        Image.fromarray(img).save(path, quality=90)
        paths.append(path)
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--images', type=int, default=16)
    p.add_argument('--size', default='480x640', help='HEIGHTxWIDTH of the source JPEGs (COCO-like)')
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--out', default=None, help='also write the markdown table here (atomically)')
    args = p.parse_args(argv)
    import cv2
    import numpy as np
    import torch
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    height, width = (int(v) for v in args.size.split('x'))
    lines = [
        '| recipe | pipeline | images/s (median of rounds) | ratio segssl / torchvision |', '| --- | --- | --- | --- |'
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(tmp, args.images, height, width)
        for name, recipe in RECIPES.items():
            pipes = {'segssl': ours(recipe), 'torchvision': torchvision_pipeline(recipe)}
            for pipe in pipes.values():  # warm-up
                pipe(dict(img_path=paths[0]))
            rates = {k: [] for k in pipes}
            np.random.seed(0)
            torch.manual_seed(0)
            for _ in range(args.rounds):
                for key, pipe in pipes.items():
                    t0 = time.perf_counter()
                    for path in paths:
                        out = pipe(dict(img_path=path))
                    rates[key].append(len(paths) / (time.perf_counter() - t0))
            assert tuple(out['inputs'].shape[-2:]) == (recipe['size'], recipe['size'])
            med = {k: statistics.median(v) for k, v in rates.items()}
            for key in pipes:
                ratio = f"{med['segssl'] / med['torchvision']:.2f}" if key == 'segssl' else ''
                lines.append(f'| {name} ({recipe["size"]} px) | {key} | {med[key]:.1f} | {ratio} |')
    if args.out:
        return publish(args.out, lines + [''])
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())

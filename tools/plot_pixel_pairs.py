#!/usr/bin/env python
"""Draw the two PixPro views of one image and their positive pixel pairs (the PixPro thesis, 2.4.1).

  python tools/plot_pixel_pairs.py IMAGE --out pairs.png [--seed 0] \\
      [--config configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py] [--stride 16]

The views come from the config's own ``TwoViewCrop`` (its size, scale, ratio, flip probability),
drawn with numpy seeded by ``--seed``; the feature map is view_size / stride bins a side
(``--stride`` 16 for the ``-d16`` configs: 112 px -> 7x7, 224 px -> 14x14; 32 for the plain R50
ones: 224 px -> 7x7) and tau is the config's ``model.tau``. Pairs are exactly ``positive_pairs_dense`` of
``lattice_from_boxes`` on the recorded boxes and flips: one line per pair, from a bin centre of
view 1 to one of view 2, coloured by the view-1 bin. Prints the pair count.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter, fail

TOOL = 'plot_pixel_pairs'
DEFAULT_CONFIG = os.path.join(ROOT, 'configs', 'pretrain', 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('image', help='image file the two views are cropped from')
    p.add_argument('--out', required=True, help='PNG to write')
    p.add_argument('--config', default=DEFAULT_CONFIG, help='pretraining config (its TwoViewCrop and model.tau)')
    p.add_argument('--seed', type=int, default=0, help='numpy seed of the two crops and flips')
    p.add_argument('--stride', type=int, default=16, help='backbone output stride (view px per feature bin)')
    args = p.parse_args(argv)

    import mmcv
    from mmengine.config import Config

    from segssl.mmseg.pixpro_views import pipeline_transform, two_views, view_pairs
    from segssl.runs.figures import plot_pixel_pairs
    if not os.path.isfile(args.image):
        fail(TOOL, f'image {args.image} does not exist')
    cfg = Config.fromfile(args.config)
    crop = pipeline_transform(cfg, 'TwoViewCrop')
    tau = float(cfg.model.get('tau', 0.7))
    img = mmcv.imread(args.image)  # BGR, like LoadImageFromFile
    if img is None:
        fail(TOOL, f'could not read {args.image} as an image')
    res = two_views(img, crop, args.seed)
    size = res['view_size']
    if size[0] % args.stride or size[1] % args.stride:
        fail(TOOL, f'--stride {args.stride} does not divide the view size {size} of {args.config}')
    feat = (size[0] // args.stride, size[1] // args.stride)
    pairs = view_pairs(res, feat, tau).numpy()
    rgb = lambda a: a[:, :, ::-1]  # noqa: E731
    segments = plot_pixel_pairs(rgb(res['views'][0]), rgb(res['views'][1]), pairs, args.out, image=rgb(img),
                                boxes=res['view_boxes'], flips=res['view_flips'])
    print(f'{len(segments)} positive pairs between {feat[0]}x{feat[1]} bins (tau {tau}); '
          f'boxes {res["view_boxes"].tolist()} flips {res["view_flips"].tolist()} -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

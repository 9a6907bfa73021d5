#!/usr/bin/env python
"""Qualitative grid: for the first N validation images of a config's dataset, one row each with
the image, its ground truth and the predictions of several runs (dataset palette, Cityscapes'
for Cityscapes), through mmseg's own mmseg.apis.init_model / inference_model.

  python tools/plot_predictions.py --out grid.png --num 4 \\
      --run 'random init' configs/finetune/fcn16_r18-d16_synthetic-128x256.py work_dirs/a/iter_200.pth \\
      --run 'PixPro init' work_dirs/b            # a work dir: its dumped config + last checkpoint
      [--data-config CONFIG] [--split val|test] [--device cpu]

The images come from ``--data-config`` (default: the first run's config), dataloader ``--split``.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter, fail

TOOL = 'plot_predictions'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument(
        '--run', nargs='+', action='append', required=True, metavar='NAME CONFIG CKPT | NAME WORK_DIR',
        help='one column of predictions: a name and a config + checkpoint, or a work dir '
        '(its dumped config and last checkpoint); repeat for each run')
    p.add_argument('--out', required=True, help='PNG to write')
    p.add_argument('--num', type=int, default=4, help='number of images (rows)')
    p.add_argument('--data-config', default=None,
                   help='config whose dataset gives the images (default: the first run\'s config)')
    p.add_argument('--split', default='val', choices=('val', 'test'), help='dataloader the images come from')
    p.add_argument('--device', default='cpu', help='device of the predicting models')
    args = p.parse_args(argv)

    from mmengine.config import Config

    from segssl.mmseg.run_inference import dataset_samples, predict_labels, resolve_run
    from segssl.runs.figures import plot_prediction_grid
    runs = {}
    for spec in args.run:
        if len(spec) not in (2, 3):
            fail(TOOL, f'--run {spec}: expected NAME CONFIG CHECKPOINT or NAME WORK_DIR')
        try:
            runs[spec[0]] = resolve_run(spec[1:])
        except (FileNotFoundError, ValueError) as e:
            fail(TOOL, e)
    data_cfg = Config.fromfile(args.data_config or next(iter(runs.values()))[0])
    samples, meta = dataset_samples(data_cfg, args.num, f'{args.split}_dataloader')
    paths = [s['img_path'] for s in samples]
    preds = {name: predict_labels(cfg, ckpt, paths, args.device) for name, (cfg, ckpt) in runs.items()}
    plot_prediction_grid([s['image'] for s in samples], [s['gt'] for s in samples], preds, meta['palette'], args.out)
    print(f'{len(samples)} images x {len(runs)} runs -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

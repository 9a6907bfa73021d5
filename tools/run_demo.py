#!/usr/bin/env python
"""`make demo`: the embedded default end to end on the CPU.

1. generate the synthetic data (data/synthetic, unless it is already there);
2. train + evaluate mmseg's FCN with configs/quickstart through mmseg's own tools/train.py;
3. train + evaluate detectron2's Mask R-CNN R50-FPN through tools/train_net.py;
4. print mIoU (vs the majority-class baseline) and segm/bbox AP; write work_dirs/demo/results.json.
"""
import argparse
import json
import os
import sys
import time

from segssl.synthetic import CITYSCAPES_CLASSES
from segssl.runs import last_mmengine_metrics, run_logged
from segssl.synthetic.baseline import majority_class_miou

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FCN_CONFIG = 'configs/quickstart/fcn_r18-d8_synthetic-128x256.py'
MASK_RCNN_CONFIG = 'configs/detectron2/mask_rcnn_R_50_FPN_synthetic.yaml'


def run(cmd, log_path, env=None):
    return run_logged(cmd, log_path, ROOT, env)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='data/synthetic', help='synthetic data root (generated if missing)')
    p.add_argument('--out', default='work_dirs/demo', help='output folder')
    p.add_argument('--fcn-iters', type=int, default=None, help='override the FCN iterations')
    p.add_argument('--mask-rcnn-iters', type=int, default=None, help='override the Mask R-CNN iterations')
    args = p.parse_args(argv)
    py, t_start = sys.executable, time.time()
    data, out = os.path.join(ROOT, args.data), os.path.join(ROOT, args.out)

    if os.path.isfile(os.path.join(data, 'meta.json')):
        print(f'using the synthetic data in {data}')
    else:
        run([py, 'tools/make_synthetic_data.py', data], os.path.join(out, 'make_synthetic_data.log'))

    fcn_dir = os.path.join(out, 'fcn')
    cmd = [py, 'tools/train.py', FCN_CONFIG, '--work-dir', fcn_dir]
    if args.fcn_iters:
        n = args.fcn_iters
        cmd += ['--cfg-options', f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
                f'param_scheduler.0.end={n}', f'default_hooks.checkpoint.interval={n}']
    t_fcn = run(cmd, os.path.join(out, 'fcn.log'), env={'SEGSSL_DATA_ROOT': data})
    seg = last_mmengine_metrics(fcn_dir)

    base = majority_class_miou(os.path.join(data, 'cityscapes'))

    mrcnn_dir = os.path.join(out, 'mask_rcnn')
    cmd = [py, 'tools/train_net.py', '--config-file', MASK_RCNN_CONFIG,
           'OUTPUT_DIR', mrcnn_dir, 'SEGSSL.SYNTHETIC_ROOT', data]
    if args.mask_rcnn_iters:
        n = args.mask_rcnn_iters
        cmd += ['SOLVER.MAX_ITER', str(n), 'SOLVER.STEPS', f'({int(n * 0.8)},)']
    t_mrcnn = run(cmd, os.path.join(out, 'mask_rcnn.log'))
    det = json.load(open(os.path.join(mrcnn_dir, 'eval_results.json')))

    results = {
        'fcn': {'mIoU': seg['mIoU'], 'aAcc': seg.get('aAcc'), 'mAcc': seg.get('mAcc'), 'minutes': round(t_fcn / 60, 1)},
        'majority_class_baseline': base,
        'mask_rcnn': {'segm_AP': det['segm']['AP'], 'bbox_AP': det['bbox']['AP'],
                      'segm_AP50': det['segm']['AP50'], 'bbox_AP50': det['bbox']['AP50'],
                      'minutes': round(t_mrcnn / 60, 1)},
    }
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    margin = seg['mIoU'] - base['mIoU']
    print('\n' + '=' * 72)
    print(f'segssl demo on the synthetic data ({(time.time() - t_start) / 60:.1f} min), results in {args.out}/')
    print(f'  mmseg FCN-R18        val mIoU {seg["mIoU"]:6.2f}   aAcc {seg.get("aAcc", float("nan")):6.2f}')
    print(f'  majority class       val mIoU {base["mIoU"]:6.2f}   (always "{CITYSCAPES_CLASSES[base["majority_class"]]}", '
          f'{base["classes_present"]} classes present)  -> FCN margin {margin:+.2f}')
    print(f'  detectron2 Mask R-CNN val segm AP {det["segm"]["AP"]:6.2f}   bbox AP {det["bbox"]["AP"]:6.2f}'
          f'   (AP50 {det["segm"]["AP50"]:.2f} / {det["bbox"]["AP50"]:.2f})')
    print('=' * 72)
    return 0


if __name__ == '__main__':
    sys.exit(main())

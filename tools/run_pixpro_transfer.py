#!/usr/bin/env python
"""Seed 000's headline comparison at synthetic scale: pixel-level pretraining (PixPro with
LocalPPM 5x5, Momentum BN, erasing) -> checkpoint bridge -> FCN-16 fine-tuning, against the same
fine-tuning from random initialisation. Prints both val mIoU and the pretraining loss curve ends.

    python tools/run_pixpro_transfer.py [--out work_dirs/pixpro_transfer] [--data data/synthetic]
"""
import argparse
import json
import os
import sys

from segssl.runs import last_mmengine_metrics, mmengine_records, run_logged

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAIN = 'configs/pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py'
FINETUNE = 'configs/finetune/fcn16_r18-d16_synthetic-128x256.py'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='work_dirs/pixpro_transfer')
    p.add_argument('--data', default='data/synthetic')
    args = p.parse_args(argv)
    py, out = sys.executable, os.path.join(ROOT, args.out)
    data = os.path.join(ROOT, args.data)
    if not os.path.isfile(os.path.join(data, 'meta.json')):
        run_logged([py, 'tools/make_synthetic_data.py', data], os.path.join(out, 'data.log'), ROOT)
    env = {'SEGSSL_DATA_ROOT': data}
    pre = os.path.join(out, 'pretrain')
    t_pre = run_logged([py, 'tools/train.py', PRETRAIN, '--work-dir', pre], os.path.join(out, 'pretrain.log'), ROOT, env)
    ckpt = open(os.path.join(pre, 'last_checkpoint')).read().strip()
    backbone = os.path.join(out, 'r18_mmseg.pth')
    run_logged([py, 'tools/convert_checkpoint.py', ckpt, backbone, '--to', 'mmseg'], os.path.join(out, 'convert.log'), ROOT)
    results = {}
    for name, extra in (('ssl', []), ('random', ['--cfg-options', 'model.backbone.init_cfg=None'])):
        work = os.path.join(out, name)
        secs = run_logged([py, 'tools/train.py', FINETUNE, '--work-dir', work] + extra,
                          os.path.join(out, f'finetune_{name}.log'), ROOT, dict(env, SEGSSL_BACKBONE=backbone))
        results[name] = dict(last_mmengine_metrics(work), minutes=round(secs / 60, 1))
    losses = [v for _, v in mmengine_records(pre, 'loss')]
    summary = {'pretrain_minutes': round(t_pre / 60, 1), 'pretrain_loss_first': losses[0],
               'pretrain_loss_last': losses[-1], 'finetune': results}
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print('\n' + '=' * 72)
    print(f'pretraining ({summary["pretrain_minutes"]} min): loss {losses[0]:.3f} (first log) -> {losses[-1]:.3f} (last)')
    for name in ('ssl', 'random'):
        r = results[name]
        print(f'  FCN-16 R18 from {name:6s} init: val mIoU {r["mIoU"]:6.2f}  aAcc {r["aAcc"]:6.2f}  ({r["minutes"]} min)')
    print(f'  SSL - random: {results["ssl"]["mIoU"] - results["random"]["mIoU"]:+.2f} mIoU')
    print('=' * 72)
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""Parameter count, zero count and inference time of any mmseg config's model, measured here:
the columns of the ERFNet thesis's Table 5.8 (parameters, inference time; mIoU comes from
tools/test.py), plus the non-zero count that makes a pruned model's size visible.

    python tools/model_report.py configs/finetune/erfnet/erfnet_rotation_synthetic-128x256.py \\
        [--checkpoint work_dirs/x/iter_200.pth] [--input-size 512x1024] [--repeats 20] \\
        [--device cpu|cuda] [--out report.json] [--cfg-options k=v ...]

Counts: every parameter of the built model (``model.named_parameters()``; BN running
statistics are buffers and not counted), total and non-zero, also per top-level part
(backbone, decode_head, ...). Time: ``model(x, mode='tensor')`` (backbone + head to logits,
no test-time resize) on a random (batch, 3, H, W) input, ``--warmup`` untimed runs, then the
median and mean of ``--repeats`` timed runs (CUDA synchronised), in ms; FPS = batch / median.
The config's own ``init_cfg`` files are not loaded (``--checkpoint`` gives the weights).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

from segssl.cli import HelpFormatter
from segssl.core.weight_surgery import parameter_counts


def count_report(model):
    """``dict(params, nonzero, zeros, sparsity, size_mb_fp32, parts={part: (params, nonzero)})``."""
    total, nonzero = parameter_counts(model.named_parameters())
    parts = {}
    for name, child in model.named_children():
        n, nz = parameter_counts(child.named_parameters())
        if n:
            parts[name] = dict(params=n, nonzero=nz)
    return dict(params=total, nonzero=nonzero, zeros=total - nonzero,
                sparsity=(total - nonzero) / total if total else 0.0, size_mb_fp32=total * 4 / 2**20, parts=parts)


@torch.no_grad()
def time_inference(forward, x, warmup=5, repeats=20):
    """Median and mean wall time of ``forward(x)`` in ms over ``repeats`` runs, after ``warmup``."""
    cuda = x.is_cuda
    for _ in range(warmup):
        forward(x)
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        forward(x)
        if cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), statistics.mean(times)


def build(config, checkpoint=None, cfg_options=None):
    from mmengine.config import Config, DictAction  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    missing = []
    if checkpoint:
        from segssl.io import load_checkpoint_file  # data only, never code
        obj = load_checkpoint_file(checkpoint)
        sd = obj.get('state_dict', obj) if isinstance(obj, dict) else None
        if not isinstance(sd, dict):
            raise ValueError(f'{checkpoint}: not a checkpoint dict')
        if not set(sd) & set(model.state_dict()):
            raise ValueError(f'{checkpoint}: no tensor matches the model built from {config} '
                             f'(checkpoint keys e.g. {sorted(sd)[:4]})')
        missing = list(model.load_state_dict(sd, strict=False).missing_keys)
    return model.eval(), missing


def main(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('config', help='mmseg config whose model is built')
    p.add_argument('--checkpoint', help='weights to count/time (default: the built, random ones)')
    p.add_argument('--input-size', default='512x1024', help='HxW of the timed input (seed: 512x1024)')
    p.add_argument('--batch', type=int, default=1, help='images per timed forward pass')
    p.add_argument('--warmup', type=int, default=5, help='untimed forward passes first')
    p.add_argument('--repeats', type=int, default=20, help='timed forward passes (median and mean reported)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='device of the timed model (cpu, cuda, cuda:N; the default is cuda where '
                   'one is available)')
    p.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    p.add_argument('--out', help='also write the report as JSON here, atomically (default: print only)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='KEY=VALUE overrides of the config, as mmseg\'s tools take them (default: none)')
    args = p.parse_args(argv)
    try:
        h, w = (int(v) for v in args.input_size.lower().split('x'))
    except ValueError:
        p.error(f'--input-size {args.input_size!r}: expected HxW, e.g. 512x1024')
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model, missing = build(args.config, args.checkpoint, args.cfg_options)
    except (ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    report = dict(config=args.config, checkpoint=args.checkpoint, **count_report(model))
    model = model.to(args.device)
    x = torch.randn(args.batch, 3, h, w, device=args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    median, mean = time_inference(lambda t: model(t, mode='tensor'), x, args.warmup, args.repeats)
    device = (torch.cuda.get_device_name() if args.device.startswith('cuda') else
              f'{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads')
    report.update(input=[args.batch, 3, h, w], device=device, ms_median=median, ms_mean=mean,
                  fps=1000.0 * args.batch / median, warmup=args.warmup, repeats=args.repeats, missing_keys=len(missing),
                  peak_mem_mb=(torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith('cuda') else None))
    print('| model | input | params | non-zero params | zeros | fp32 size | inference (median) | FPS | device |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    print(f'| {os.path.basename(args.config)} | {args.batch}x3x{h}x{w} | {report["params"]:,} | '
          f'{report["nonzero"]:,} | {report["zeros"]:,} ({report["sparsity"]:.1%}) | '
          f'{report["size_mb_fp32"]:.2f} MB | {median:.1f} ms | {report["fps"]:.2f} | {device} |')
    for part, c in report['parts'].items():
        print(f'  {part}: {c["params"]:,} parameters, {c["nonzero"]:,} non-zero')
    if missing:
        print(f'  {len(missing)} model tensors not in the checkpoint (kept as built), e.g. {missing[:3]}')
    if args.out:
        from segssl.io.atomic import atomic_outputs
        with atomic_outputs(args.out) as (tmp, ):
            with open(tmp, 'w') as f:
                json.dump(report, f, indent=1)
        print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python
"""The GPU acceptance check (`make gpu-check`): every check passed or FAIL, with its speed and
peak GPU memory, written to benchmarks/results/gpu_check.md.

* Tier 1 (tools/gpu_check_core.py): ``segssl.core`` and ``segssl.convert`` on plain PyTorch, each
  result compared with the same computation on the CPU and each hot path timed. It needs only
  torch and numpy (any torch >= 2.1, numpy 1 or 2).
* Tier 2 (tools/gpu_check_runners.py): each runner (PixPro, BYOL, SimCLR, ClassMix, DACS, the
  FCN-16 and DeepLab-v2 fine-tunes, Mask R-CNN through train_net.py) for ``--iters`` iterations
  on the synthetic data, with and without AMP; the checkpoint conversions; a run killed and
  resumed; a 2-process NCCL run when there are two GPUs. It needs mmseg / detectron2 (either
  stack; on a GPU machine without a package index: tools/gpu_wheelhouse.sh + make gpu-check).

Without a CUDA device it stops at once (exit 2), unless ``--device cpu`` asks for a rehearsal
of the same checks on the CPU (the tests do that at tiny sizes).

    python tools/gpu_check.py [--tier 1 2] [--device cuda] [--iters 20] [--out FILE] [--quick]
"""
import argparse
import os
import platform
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))
DEFAULT_OUT = os.path.join(ROOT, 'benchmarks', 'results', 'gpu_check.md')


def build_parser():
    from segssl.cli import HelpFormatter
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=HelpFormatter)
    p.add_argument('--tier', nargs='+', type=int, choices=[1, 2], default=[1, 2],
                   help='which tiers to run (default: %(default)s)')
    p.add_argument('--device', default='cuda', help='cuda, cuda:N, or cpu for a rehearsal on a machine without a GPU '
                   '(default: %(default)s)')
    p.add_argument('--iters', type=int, default=20,
                   help='tier 2: training iterations per runner (default: %(default)s)')
    p.add_argument('--quick', action='store_true', default=False,
                   help='tiny sizes and few repetitions, as the tests run it (default: off)')
    p.add_argument('--only', nargs='+', default=None,
                   help='run only the checks whose name contains one of these words (default: all)')
    p.add_argument('--out', default=DEFAULT_OUT, help='results file (default: %(default)s)')
    return p


def run_check(name, fn, device):
    """``(row dict)`` for one check: status, error, its own figures, wall time, peak memory."""
    import torch
    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    row = dict(name=name)
    try:
        row.update(fn() or {})
        row['status'] = 'passed'
    except Exception as e:  # noqa: BLE001  (every failure is a row of the report)
        if type(e).__name__ == 'Skip':  # gpu_check_runners.Skip / gpu_check_core.Skip
            row.update(status='skipped', timed=str(e), seconds=time.perf_counter() - t0)
            print(f'[gpu_check] skipped {name}: {e}', flush=True)
            return row
        row['status'] = 'FAIL'
        row['error'] = f'{type(e).__name__}: {e}'.splitlines()[0][:300]
        row['traceback'] = traceback.format_exc(limit=6)
    row['seconds'] = time.perf_counter() - t0
    if cuda:
        row.setdefault('peak_mib', torch.cuda.max_memory_allocated(device) / 2**20)
    print(
        f"[gpu_check] {row['status']:6s} {name} ({row['seconds']:.1f} s)" +
        (f": {row['error']}" if row['status'] == 'FAIL' else ''), flush=True)
    return row


def _fmt(v, digits=3):
    if v is None:
        return ''
    return f'{v:.{digits}g}' if isinstance(v, float) else str(v)


def report(rows, args, device, started):
    import torch
    failed = [r for r in rows if r['status'] == 'FAIL']
    skipped = [r for r in rows if r['status'] == 'skipped']
    gpu = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'none (CPU rehearsal)'
    lines = [
        '# GPU acceptance check', '',
        f'Command: `python tools/gpu_check.py {" ".join(sys.argv[1:])}` (`make gpu-check`)', '',
        f'- when: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))}, '
        f'{time.time() - started:.0f} s in all',
        f'- device: {device} ({gpu}); torch {torch.__version__}, CUDA {torch.version.cuda}, '
        f'Python {platform.python_version()}',
        f'- result: {len(rows) - len(failed) - len(skipped)} passed, {len(failed)} FAIL, '
        f'{len(skipped)} skipped', '',
        '| tier | check | status | max abs diff (tol) | timed | ms | it/s | peak MiB | s |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
    ]
    for r in rows:
        diff = ('' if r.get('max_abs_diff') is None else f"{_fmt(r['max_abs_diff'])} ({_fmt(r.get('tolerance'))})")
        lines.append(f"| {r['tier']} | {r['name']} | {r['status']} | {diff} | {r.get('timed', '')} "
                     f"| {_fmt(r.get('ms'))} | {_fmt(r.get('its'))} | {_fmt(r.get('peak_mib'), 4)} "
                     f"| {r['seconds']:.1f} |")
    for r in failed:
        lines += ['', f"## FAIL: {r['name']}", '', r['error'], '', '```', r['traceback'].rstrip(), '```']
    from segssl.io.atomic import atomic_outputs
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with atomic_outputs(args.out) as (tmp, ):
        with open(tmp, 'w') as f:
            f.write('\n'.join(lines) + '\n')
    print(f'[gpu_check] {len(rows) - len(failed) - len(skipped)} passed, {len(failed)} FAIL, '
          f'{len(skipped)} skipped; wrote {args.out}')
    return not failed


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        print(
            'gpu_check: error: no CUDA device here (torch.cuda.is_available() is False, torch '
            f'{torch.__version__}); run it on a GPU machine, or pass --device cpu to rehearse '
            'the checks on the CPU', file=sys.stderr)
        return 2
    if args.iters < 2:
        print(f'gpu_check: error: --iters {args.iters}: expected at least 2', file=sys.stderr)
        return 2
    started, rows = time.time(), []
    selected = (lambda name: not args.only or any(w in name for w in args.only))
    if 1 in args.tier:
        import gpu_check_core
        for name, fn in gpu_check_core.CHECKS:
            if selected(name):
                rows.append(dict(run_check(name, lambda fn=fn: fn(device, args.quick), device), tier=1))
    if 2 in args.tier:
        import gpu_check_runners
        runs = gpu_check_runners.Runs(device, args.iters, args.quick)
        try:
            for name, fn in gpu_check_runners.checks(runs):
                if selected(name):
                    rows.append(dict(run_check(name, fn, device), tier=2))
        finally:
            runs.close(keep=any(r['status'] == 'FAIL' for r in rows if r['tier'] == 2))
    return 0 if report(rows, args, device, started) else 1


if __name__ == '__main__':
    sys.exit(main())

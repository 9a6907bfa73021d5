#!/usr/bin/env python
"""The ERFNet thesis Table 5.8's columns for ERFNet, measured here: parameters, non-zero parameters and
inference time of the dense model and of the 80 %-pruned one (encoder weights, as
configs/finetune/erfnet/erfnet_rotation-pruned0.8_*), both through tools/model_report.py in one
run, so the time ratio compares like with like.

    python benchmarks/erfnet_model_report.py [--input-size 512x1024] [--repeats 10] [--threads 2]

Weights are random (the counts and times do not depend on training); pruning uses
segssl.core.magnitude_prune_mask, as MagnitudePruneHook does. Dense kernels do not skip zeros:
a pruned model is smaller to store sparsely, not faster, unless a sparse runtime is used.
"""
import argparse
import importlib.util
import json
import os
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'finetune', 'erfnet', 'erfnet_rotation_1xb20_cityscapes-512x1024.py')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--input-size', default='512x1024')
    p.add_argument('--repeats', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    args = p.parse_args()
    spec = importlib.util.spec_from_file_location('model_report', os.path.join(ROOT, 'tools', 'model_report.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    from segssl.convert.erfnet import expected_erfnet_shapes
    from segssl.core.weight_surgery import magnitude_prune_mask
    with tempfile.TemporaryDirectory() as d:
        json.dump([1.0] * 19, open(os.path.join(d, 'w.json'), 'w'))
        os.environ['SEGSSL_CLASS_WEIGHTS'] = os.path.join(d, 'w.json')
        torch.manual_seed(0)
        dense = {
            'backbone.' + k: torch.randn(s) * 0.05 if not k.endswith('num_batches_tracked') else torch.tensor(0)
            for k, s in expected_erfnet_shapes().items()
        }
        dense = {k: v.abs() + 0.5 if k.endswith('running_var') else v for k, v in dense.items()}
        pruned = {
            k: v * magnitude_prune_mask(v, 0.8) if k.startswith('backbone.encoder.') and v.dim() >= 2 else v
            for k, v in dense.items()
        }
        reports = {}
        for name, sd in (('dense', dense), ('pruned 0.8', pruned)):
            path = os.path.join(d, name.replace(' ', '_') + '.pth')
            torch.save({'state_dict': sd}, path)
            out = os.path.join(d, 'r.json')
            print(f'## ERFNet {name}')
            rc = tool.main([
                CONFIG, '--checkpoint', path, '--input-size', args.input_size, '--device', 'cpu', '--warmup',
                str(args.warmup), '--repeats',
                str(args.repeats), '--threads',
                str(args.threads), '--out', out
            ])
            if rc:
                return rc
            reports[name] = json.load(open(out))
    a, b = reports['dense'], reports['pruned 0.8']
    print(f'\npruned / dense: parameters non-zero {b["nonzero"] / a["nonzero"]:.3f}, '
          f'inference time {b["ms_median"] / a["ms_median"]:.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

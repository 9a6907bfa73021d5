"""Pixel-level pretraining end to end through mmseg's own train script: synthetic images ->
two views -> PixPro with LocalPPM + Momentum BN + erasing -> checkpoint -> bridge -> mmseg file."""
import math
import os

import pytest
import torch
from conftest import ROOT, load_ckpt, run_tool, skip_without_mmseg

from segssl.runs import mmengine_scalars

skip_without_mmseg()
CONFIG = os.path.join(ROOT, 'configs', 'pretrain', 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py')


def test_pretrain_two_iterations_then_convert(synthetic_root, tmp_path):
    work = tmp_path / 'pre'
    r = run_tool([
        'tools/train.py', CONFIG, '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end=2', 'param_scheduler.1.T_max=1'
    ], env={'SEGSSL_DATA_ROOT': synthetic_root})
    assert r.returncode == 0, r.stdout[-4000:]
    records = mmengine_scalars(str(work))
    losses = [rec['loss'] for rec in records if 'loss' in rec]
    assert len(losses) == 2 and all(math.isfinite(v) and -2 <= v <= 2 for v in losses)
    momenta = [rec['target_momentum'] for rec in records if 'target_momentum' in rec]
    assert momenta[-1] == pytest.approx(1.0) and momenta == sorted(momenta) and 0 < momenta[0] < 1  # rising to 1
    ckpt = load_ckpt(work / 'iter_2.pth')
    keys = ckpt['state_dict'].keys()
    assert any(k.startswith('online_backbone.') for k in keys) and any(k.startswith('target_backbone.') for k in keys)
    online = {k[len('online_backbone.'):] for k in keys if k.startswith('online_backbone.')}
    assert online == {k[len('target_backbone.'):] for k in keys if k.startswith('target_backbone.')}  # a copy
    assert ckpt['meta']['iter'] == 2 and len(online) > 100  # ResNet-18: 120 entries
    r = run_tool(['tools/convert_checkpoint.py', str(work / 'iter_2.pth'), str(tmp_path / 'r18.pth'), '--to', 'mmseg'])
    assert r.returncode == 0, r.stdout
    out = torch.load(tmp_path / 'r18.pth', map_location='cpu')['state_dict']
    assert set(out) == online  # the whole online backbone, nothing else
    for k, v in out.items():
        assert torch.equal(v, ckpt['state_dict']['online_backbone.' + k]), k

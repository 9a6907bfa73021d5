"""tools/model_report.py: parameter / zero counts against hand counts, and the CLI on a pruned
ERFNet checkpoint (counts against the ERFNet layout written down in segssl.convert.erfnet)."""
import importlib.util
import json
import os

import pytest
import torch
import torch.nn as nn
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
spec = importlib.util.spec_from_file_location('model_report', os.path.join(ROOT, 'tools', 'model_report.py'))
model_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model_report)


def test_counts_equal_a_hand_count():
    net = nn.Sequential()
    net.add_module('backbone', nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    net.add_module('decode_head', nn.Conv2d(4, 2, 1))
    # conv 3*4*3*3 + 4 = 112, BN scale + shift 8 (running stats are buffers), head 4*2 + 2 = 10
    with torch.no_grad():
        net.backbone[0].bias.zero_()  # 4 zeros
        net.decode_head.weight.view(-1)[:5] = 0  # 5 zeros
        net.backbone[1].weight.fill_(1)
        net.backbone[1].bias.fill_(0.5)
        net.decode_head.bias.fill_(1)
        net.backbone[0].weight.add_(net.backbone[0].weight.eq(0).float())  # no accidental zero
    r = model_report.count_report(net)
    assert (r['params'], r['zeros'], r['nonzero']) == (130, 9, 121)
    assert r['parts'] == {'backbone': dict(params=120, nonzero=116), 'decode_head': dict(params=10, nonzero=5)}
    assert r['size_mb_fp32'] == 130 * 4 / 2**20 and abs(r['sparsity'] - 9 / 130) < 1e-12


def test_report_of_a_pruned_erfnet_checkpoint(tmp_path, monkeypatch, capsys):
    from segssl.convert.erfnet import expected_erfnet_shapes
    from segssl.core.weight_surgery import magnitude_prune_mask
    json.dump([1.0] * 19, open(tmp_path / 'w.json', 'w'))
    torch.manual_seed(0)
    sd, pruned = {}, 0
    for k, shape in expected_erfnet_shapes().items():
        t = torch.randn(shape) if not k.endswith('num_batches_tracked') else torch.tensor(0)
        if k.startswith('encoder.') and t.dim() >= 2:
            t = t * magnitude_prune_mask(t, 0.8)
            pruned += round(0.8 * t.numel())
        sd['backbone.' + k] = t
    torch.save({'state_dict': sd}, tmp_path / 'pruned.pth')
    out = tmp_path / 'report.json'
    monkeypatch.setenv('SEGSSL_CLASS_WEIGHTS', str(tmp_path / 'w.json'))
    rc = model_report.main([
        os.path.join(ROOT, 'configs', 'finetune', 'erfnet',
                     'erfnet_rotation-pruned0.8_synthetic-128x256.py'), '--checkpoint',
        str(tmp_path / 'pruned.pth'), '--input-size', '64x128', '--warmup', '0', '--repeats', '2', '--device', 'cpu',
        '--out',
        str(out)
    ])
    stdout = capsys.readouterr().out
    assert rc == 0, stdout
    rep = json.load(open(out))
    backbone = sum(
        torch.Size(s).numel() for k, s in expected_erfnet_shapes().items()
        if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    head = 16 * 19 * 2 * 2 + 19  # layer 23: ConvTranspose2d(16, 19, 2)
    assert rep['params'] == backbone + head and rep['parts']['backbone']['params'] == backbone
    assert rep['zeros'] == pruned  # random head: no exact zeros
    assert rep['missing_keys'] == 2 and rep['input'] == [1, 3, 64, 128]
    assert rep['ms_median'] > 0 and rep['fps'] == pytest.approx(1000 / rep['ms_median'])
    assert f"| {rep['params']:,} | {rep['nonzero']:,} | {pruned:,} (" in stdout
    # a checkpoint of another model is refused by name
    torch.save({'state_dict': {'foo.weight': torch.zeros(1)}}, tmp_path / 'other.pth')
    assert model_report.main([
        os.path.join(ROOT, 'configs', 'finetune', 'erfnet', 'erfnet_rotation_synthetic-128x256.py'), '--checkpoint',
        str(tmp_path / 'other.pth'), '--input-size', '64x128', '--device', 'cpu'
    ]) == 1
    assert 'other.pth: no tensor matches the model' in capsys.readouterr().err

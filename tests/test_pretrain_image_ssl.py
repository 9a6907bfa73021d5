"""Image-level pretraining end to end through mmseg's own train script on synthetic data (BYOL,
SimCLR with the 3x3-stem ResNet, the video anchor loss over synthetic frame folders): the loss
falls, the checkpoint converts with the bridge, and the converted backbone loads into a
fine-tuning config with every backbone tensor matched (no missing or unexpected keys)."""
import math
import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, load_ckpt, skip_without_mmseg

from segssl.runs import mmengine_scalars

skip_without_mmseg()
PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain')
FINETUNE = os.path.join(ROOT, 'configs', 'finetune')
ITERS, WINDOW = 16, 4
TINY = [
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False', f'train_cfg.max_iters={ITERS}',
    f'default_hooks.checkpoint.interval={ITERS}', 'default_hooks.logger.interval=1'
]


def pretrain(config, tmp_path, options, env):
    work = tmp_path / 'pre'
    # one thread (conftest.run_tool sets two): on a loaded 2-core machine two OpenMP threads per
    # process made these small steps several times slower
    r = subprocess.run(
        [sys.executable, 'tools/train.py',
         os.path.join(PRETRAIN, config), '--work-dir',
         str(work), '--cfg-options'] + TINY + options, cwd=ROOT, timeout=900, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
                                                      MKL_NUM_THREADS='1', **env))
    assert r.returncode == 0, r.stdout[-4000:]
    records = mmengine_scalars(str(work))
    losses = [rec['loss'] for rec in records if 'loss' in rec]
    assert len(losses) == ITERS and all(math.isfinite(v) for v in losses)
    first, last = sum(losses[:WINDOW]) / WINDOW, sum(losses[-WINDOW:]) / WINDOW
    assert last < first, (first, last, losses)
    return work / f'iter_{ITERS}.pth', losses, records


def convert_and_load(ckpt, tmp_path, finetune_config, monkeypatch):
    """Bridge -> mmseg file -> the fine-tuning config's backbone (init_cfg=Pretrained)."""
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from segssl.convert import convert
    dst = tmp_path / 'backbone_mmseg.pth'
    report = convert(str(ckpt), str(dst), 'mmseg')  # what tools/convert_checkpoint.py runs
    assert report.source.format == 'segssl' and report.encoder.depth == 18
    stored = torch.load(dst, map_location='cpu')['state_dict']
    online = load_ckpt(ckpt)['state_dict']
    assert all(torch.equal(v, online['online_backbone.' + k]) for k, v in stored.items())
    monkeypatch.setenv('SEGSSL_BACKBONE', str(dst))
    cfg = Config.fromfile(os.path.join(FINETUNE, finetune_config))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    backbone = model.backbone.state_dict()
    assert set(backbone) == set(stored)  # no missing / unexpected backbone keys
    assert all(torch.equal(backbone[k], v) for k, v in stored.items())
    return model


def test_byol_pretrains_converts_and_loads(synthetic_root, tmp_path, monkeypatch):
    ckpt, losses, records = pretrain('byol_r18_synthetic-64px.py', tmp_path, [
        'train_dataloader.batch_size=6', 'train_dataloader.dataset.pipeline.1.size=32',
        'train_dataloader.dataset.pipeline.1.scale=(0.5,1.0)', 'optim_wrapper.optimizer.lr=0.4',
        'param_scheduler.0.end=2', 'param_scheduler.1.begin=2', f'param_scheduler.1.end={ITERS}',
        f'param_scheduler.1.T_max={ITERS - 2}'
    ], {'SEGSSL_DATA_ROOT': synthetic_root})
    assert all(0 <= v <= 8 for v in losses)  # two terms of 2 - 2cos
    momenta = [rec['target_momentum'] for rec in records if 'target_momentum' in rec]
    assert momenta[0] == pytest.approx(1 - 0.004 * (math.cos(math.pi / ITERS) + 1) / 2)
    assert momenta[-1] == pytest.approx(1.0)
    assert [rec['grad_norm'] for rec in records if 'grad_norm' in rec]  # clip_grad is on
    keys = load_ckpt(ckpt)['state_dict'].keys()
    assert {k.split('.')[0]
            for k in keys
            } == {'online_backbone', 'online_projector', 'predictor', 'target_backbone', 'target_projector'}
    convert_and_load(ckpt, tmp_path, 'fcn16_r18-d16_synthetic-128x256.py', monkeypatch)


def test_simclr_3x3_stem_pretrains_converts_and_loads(synthetic_root, tmp_path, monkeypatch):
    ckpt, losses, _ = pretrain('simclr_r18-3x3stem_synthetic-32px.py', tmp_path, [
        'train_dataloader.batch_size=6', 'train_dataloader.dataset.pipeline.1.size=16',
        'train_dataloader.dataset.pipeline.1.scale=(0.5,1.0)', 'train_dataloader.dataset.pipeline.2.jitter_prob=0.0',
        'train_dataloader.dataset.pipeline.2.grayscale_prob=0.0', 'optim_wrapper.optimizer.lr=0.003',
        'param_scheduler.0.end=2', 'param_scheduler.1.begin=2', f'param_scheduler.1.end={ITERS}',
        'param_scheduler.1.periods=[7,7]'
    ], {'SEGSSL_DATA_ROOT': synthetic_root})
    assert losses[0] == pytest.approx(math.log(11), abs=0.6)  # ~log(2N - 1) at the start
    model = convert_and_load(ckpt, tmp_path, 'fcn_r18-3x3stem_synthetic-128x256.py', monkeypatch)
    assert model.backbone.conv1.kernel_size == (3, 3) and model.backbone.conv1.stride == (1, 1)


def test_video_anchor_pretrains_converts_and_loads(tmp_path, monkeypatch):
    from segssl.synthetic import generate_frame_folders
    frames = tmp_path / 'frames'
    generate_frame_folders(str(frames), num_videos=6, num_frames=6, height=32, width=32, shift=3, seed=0)
    ckpt, losses, _ = pretrain('simclr-video-anchor_r18-3x3stem_synthetic-32px.py', tmp_path, [
        'train_dataloader.batch_size=4', 'train_dataloader.dataset.pipeline.1.size=16',
        'train_dataloader.dataset.pipeline.1.color.jitter_prob=0.0',
        'train_dataloader.dataset.pipeline.1.color.grayscale_prob=0.0', 'optim_wrapper.optimizer.lr=0.003',
        'param_scheduler.0.end=2', 'param_scheduler.1.begin=2', f'param_scheduler.1.end={ITERS}',
        'param_scheduler.1.periods=[7,7]'
    ], {'SEGSSL_FRAMES_ROOT': str(frames)})
    # sum_i (i/3) NT-Xent with 2N - 1 = 7 candidates: about (1/3 + 2/3 + 1) log 7 at the start
    assert losses[0] == pytest.approx(2 * math.log(7), abs=1.2)
    convert_and_load(ckpt, tmp_path, 'fcn_r18-3x3stem_synthetic-128x256.py', monkeypatch)

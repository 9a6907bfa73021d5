"""StagedFineTuneHook under DDP (issue 17, item 3): 2 gloo processes train the staged ERFNet twin
across the unfreezing; without find_unused_parameters the hook stops both ranks before the first
iteration with an error that says what to set (DDP itself would stop at iteration 2)."""
import os

from conftest import ROOT, load_ckpt, skip_without_mmseg
from dist_testing import run_ranks, train_from_cfg

skip_without_mmseg()
STAGED = os.path.join(ROOT, 'configs', 'finetune', 'erfnet', 'erfnet_rotation-staged40+150_synthetic-128x256.py')


def _staged_cfg(work_dir, launcher, iters=3, frozen=1):
    from mmengine.config import Config
    cfg = Config.fromfile(STAGED)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'launcher': launcher,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters + 1,
        'model.backbone.init_cfg': None,
        'model.decode_head.loss_decode.class_weight': [1.0] * 19,
        'model.data_preprocessor.size': (32, 32),
        'train_dataloader.batch_size': 1,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.pipeline': [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='Resize', scale=(64, 32), keep_ratio=False),
            dict(type='PackSegInputs')
        ],
        'custom_hooks': [
            dict(type='StagedFineTuneHook', frozen=frozen, by_epoch=False, frozen_prefixes=('backbone.encoder.', ),
                 freeze_norm_stats=True)
        ],
        'param_scheduler': [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=iters)],
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': 1,
        'log_level': 'WARNING'
    })
    return cfg


def test_staged_configs_tell_ddp_about_the_frozen_encoder(synthetic_root, monkeypatch):
    from mmengine.config import Config
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    for name in ('erfnet_rotation-staged40+150_synthetic-128x256.py',
                 'erfnet_rotation-staged40+150_1xb20_cityscapes-512x1024.py'):
        cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'finetune', 'erfnet', name))
        assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', find_unused_parameters=True), name


def test_two_processes_train_across_the_unfreezing(synthetic_root, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    cfg = _staged_cfg(str(tmp_path / 'ok'), 'pytorch')
    assert run_ranks(train_from_cfg, 2, cfg) == [0, 0]
    state = load_ckpt(tmp_path / 'ok' / 'iter_3.pth')['state_dict']
    assert any(k.startswith('backbone.encoder.') for k in state)
    # without find_unused_parameters: both ranks stop at once, saying what to set
    cfg = _staged_cfg(str(tmp_path / 'bad'), 'pytorch')
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=False)
    capfd.readouterr()
    assert run_ranks(train_from_cfg, 2, cfg) == [1, 1]
    err = capfd.readouterr().err
    assert err.count("StagedFineTuneHook: the model is wrapped in DistributedDataParallel with "
                     "find_unused_parameters=False") == 2, err[-3000:]
    assert not (tmp_path / 'bad' / 'iter_1.pth').exists()

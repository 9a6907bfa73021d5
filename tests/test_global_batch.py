"""The global batch across launch shapes (issue #17 item 13): a config's auto_scale_lr holds the
global batch its lr is set for; a run whose world size gives another one says so in one line."""
import pytest
import torch
from conftest import skip_without_mmseg

skip_without_mmseg()


def test_note_only_when_the_global_batch_differs_and_the_lr_is_not_scaled():
    from segssl.mmseg.runner import global_batch_note
    asl = dict(enable=False, base_batch_size=64)
    assert global_batch_note(4, 16, asl) == ''  # 4xb16 = 64
    assert global_batch_note(1, 64, asl) == ''
    assert global_batch_note(1, 16, None) == ''  # nothing stated, nothing said
    assert global_batch_note(4, 64, dict(asl, enable=True)) == ''  # mmengine scales and logs it
    note = global_batch_note(4, 64, asl)
    assert '\n' not in note and note.startswith('global batch 256 (4 process(es) x 64) differs from the 64')
    assert '--auto-scale-lr' in note and '256/64' in note and 'train_dataloader.batch_size=16' in note
    odd = global_batch_note(3, 64, asl)  # 64 does not divide by 3
    assert 'global batch 192' in odd and 'whose product with 3 processes is 64' in odd


def _runner(tmp_path, batch, auto_scale_lr):
    from test_fault_handling import toy_cfg

    from segssl.mmseg import SegsslRunner
    cfg = toy_cfg(tmp_path, iters=1)
    cfg.train_dataloader.batch_size = batch
    cfg.auto_scale_lr = auto_scale_lr
    return SegsslRunner.from_cfg(cfg)


def test_the_runner_warns_once_and_keeps_the_lr(tmp_path, monkeypatch):
    # a 1-process run of a config set for a global batch of 4, with 2 per process: 2 != 4
    runner = _runner(tmp_path, 2, dict(enable=False, base_batch_size=4))
    lines = []
    monkeypatch.setattr(runner.logger, 'warning', lambda msg, *a, **k: lines.append(msg))
    runner.train()
    notes = [m for m in lines if m.startswith('global batch')]
    assert notes == [
        'global batch 2 (1 process(es) x 2) differs from the 4 this config\'s learning rate is set '
        'for (auto_scale_lr.base_batch_size); the lr is not scaled: pass --auto-scale-lr to scale it '
        'by 2/4, or set train_dataloader.batch_size=4 to keep the global batch'
    ]
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] == 0.1  # as configured


def test_auto_scale_lr_flag_scales_the_lr_by_the_global_batch_ratio(tmp_path):
    from segssl.mmseg.tools import translate_args
    args = translate_args('train.py', ['cfg.py', '--auto-scale-lr', '--cfg-options', 'a=1'])
    assert args == ['cfg.py', '--cfg-options', 'a=1', '--cfg-options', 'auto_scale_lr.enable=True']
    assert translate_args('test.py', ['cfg.py', '--auto-scale-lr']) == ['cfg.py', '--auto-scale-lr']
    # what the option turns on: mmengine's linear scaling, 2 / 4 of the configured 0.1
    runner = _runner(tmp_path, 2, dict(enable=True, base_batch_size=4))
    runner.train()
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] == pytest.approx(0.05)
    assert torch.isfinite(runner.model.lin.weight).all()


def test_two_cfg_options_merge_in_mmseg_train_parser():
    # the flag appends a second --cfg-options; mmengine's DictAction extends, not replaces
    import argparse

    from mmengine.config import DictAction
    p = argparse.ArgumentParser()
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    ns = p.parse_args(['--cfg-options', 'a=1', '--cfg-options', 'auto_scale_lr.enable=True'])
    assert ns.cfg_options == {'a': 1, 'auto_scale_lr.enable': True}

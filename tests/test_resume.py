"""--resume after SIGKILL: a PixPro run killed while writing its second checkpoint, resumed from
the first as mmseg's train.py --resume does, ends bit-identical to an uninterrupted run of the same length:
online and EMA target weights, Momentum BN statistics, LARS state, LR schedule. The run draws
random numbers in the model step (the PixPro thesis's batch affine) and in the data pipeline (crops,
colour, erasing), so the sampler position and both RNG streams must be restored too."""
import os
import signal

import torch
from conftest import ROOT, load_ckpt, skip_without_mmseg

skip_without_mmseg()
PIXPRO = os.path.join(ROOT, 'configs', 'pretrain', 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py')
ITERS, EVERY = 4, 2


def _write_config(path, kill_at=None):
    hooks = "[dict(type='MomentumUpdateHook', base_momentum=0.99, final_momentum=1.0)"
    if kill_at:
        hooks += f", dict(type='KillWhileSavingHook', at_iter={kill_at})"
    path.write_text(f"""_base_ = [{PIXPRO!r}]
custom_imports = dict(imports=['segssl.mmseg', 'dist_testing'], allow_failed_imports=False)
model = dict(projector=dict(hidden_channels=64),
             batch_affine=dict(view=0, degrees=30, translate=(4, 4), shear=(5, 0)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=48, scale=(0.3, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black'),
    dict(type='PackPixelViews'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max={ITERS} - 2, eta_min=1e-6, by_epoch=False, begin=2, end={ITERS}),
]
train_cfg = dict(max_iters={ITERS})
default_hooks = dict(checkpoint=dict(interval={EVERY}, max_keep_ckpts=1), logger=dict(interval=1))
custom_hooks = {hooks}]
log_level = 'WARNING'
""")
    return str(path)


def _train_in_process(config, work_dir, resume=False):
    """What mmseg's train.py does with CONFIG --work-dir W [--resume], in this process."""
    from mmengine.config import Config
    from mmseg.registry import RUNNERS
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.resume, cfg.launcher = str(work_dir), resume, 'none'
    RUNNERS.build(cfg).train()


def _train_killed(config, work_dir):
    """The same through tools/train.py in a new interpreter with this process's thread count (so
    the iterations before the kill compute exactly as the in-process runs do), which the config's
    KillWhileSavingHook SIGKILLs while it writes its second checkpoint. A new interpreter rather
    than a fork: a child forked from a pytest process whose OpenMP pool is already running can
    hang in its first parallel region. Returns the exit code (-9 when killed)."""
    import subprocess
    import sys
    env = dict(
        os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()), PYTHONPATH=os.pathsep.join(
            [os.path.join(ROOT, 'plugins'),
             os.path.join(ROOT, 'tests'),
             os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir',
                           str(work_dir)], cwd=ROOT, env=env, timeout=600, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != -signal.SIGKILL:
        print(proc.stdout[-4000:])
    return proc.returncode


def test_resume_after_sigkill_matches_an_uninterrupted_run(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    config = _write_config(tmp_path / 'cfg.py')
    _train_in_process(config, tmp_path / 'full')

    killed = _write_config(tmp_path / 'cfg_killed.py', kill_at=ITERS)
    work = tmp_path / 'resumed'
    assert _train_killed(killed, work) == -signal.SIGKILL
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == [f'iter_{EVERY}.pth']
    assert open(work / 'last_checkpoint').read() == str(work / f'iter_{EVERY}.pth')

    _train_in_process(config, work, resume=True)
    full = load_ckpt(tmp_path / 'full' / f'iter_{ITERS}.pth')
    resumed = load_ckpt(work / f'iter_{ITERS}.pth')
    assert full['meta']['iter'] == resumed['meta']['iter'] == ITERS
    assert full['state_dict'].keys() == resumed['state_dict'].keys()
    assert any(k.startswith('target_backbone.') and k.endswith('running_mean') for k in full['state_dict'])
    for k, v in full['state_dict'].items():
        assert torch.equal(v, resumed['state_dict'][k]), k  # bit-exact, EMA target included
    opt_full, opt_res = full['optimizer']['state'], resumed['optimizer']['state']
    assert opt_full.keys() == opt_res.keys()
    for i in opt_full:
        for name, t in opt_full[i].items():
            assert torch.equal(t, opt_res[i][name]), (i, name)  # LARS momentum buffers
    assert full['param_schedulers'] == resumed['param_schedulers']
    assert torch.equal(full['segssl_rng_state']['torch'], resumed['segssl_rng_state']['torch'])

"""Every segssl runner trains under mmseg's ``--amp`` (AmpOptimWrapper), issue #17 item 6.

mmengine 0.10.7's AmpOptimWrapper asserts an accelerator. On the CPU its autocast runs in
bfloat16 and torch disables the CUDA GradScaler, so lifting that one assertion (the
``amp_on_cpu`` fixture) runs mmseg's own ``tools/train.py --amp`` path for real: the config's
``OptimWrapper`` becomes ``AmpOptimWrapper`` with ``loss_scale='dynamic'``, and the forward and
loss run under autocast. Each runner trains 2 iterations on the synthetic set; the test asserts
that convolutions ran in bfloat16 (autocast was on), that every logged loss is finite and that
the weights moved. fp16 with an active GradScaler needs CUDA: ``make gpu-check`` (tier 2)."""
import os
import sys

import pytest
import torch
from conftest import skip_without_mmseg

from segssl.runs import mmengine_scalars

skip_without_mmseg()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import gpu_check_runners as tier2  # noqa: E402

# runners beyond tier 2's list: the ERFNet pretext heads (classification, colorization) and the
# two-block decoder (options as in tests/test_twoblock_head.py, at 64x64)
PRETEXT = ['param_scheduler.0.end={n}', 'train_dataloader.batch_size=2']
EXTRA = [
    ('ERFNet rotation', 'configs/pretrain/erfnet_rotation_synthetic.py', PRETEXT),
    ('ERFNet jigsaw', 'configs/pretrain/erfnet_jigsaw_synthetic.py', PRETEXT),
    ('ERFNet colorization', 'configs/pretrain/erfnet_colorization_synthetic.py', PRETEXT),
    ('two-block fine-tune', 'configs/finetune/twoblock_r18-os8_synthetic-128x128.py', [
        'train_cfg.val_interval={n}', 'param_scheduler.0.end={n}', 'model.backbone.init_cfg=None',
        'train_dataloader.batch_size=2', 'train_dataloader.dataset.pipeline.2.scale=(64,64)',
        'val_dataloader.dataset.pipeline.1.scale=(64,64)', 'model.data_preprocessor.size=(64,64)'
    ] + tier2.VAL),
]
RUNNERS = tier2.RUNNERS + EXTRA


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    r = tier2.Runs(torch.device('cpu'), iters=2, quick=True)
    r.work = str(tmp_path_factory.mktemp('amp'))
    r.data()
    return r


@pytest.fixture
def amp_on_cpu(monkeypatch):
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp
    monkeypatch.setattr(amp, 'is_cuda_available', lambda: True)


@pytest.mark.filterwarnings('ignore:.*GradScaler is enabled, but CUDA is not available')
@pytest.mark.parametrize('name,config,options', RUNNERS, ids=[r[0] for r in RUNNERS])
def test_runner_trains_under_amp(name, config, options, runs, amp_on_cpu, monkeypatch, tmp_path):
    from mmengine.runner import Runner

    from segssl.mmseg.tools import run_mmseg_tool
    monkeypatch.setenv('SEGSSL_DATA_ROOT', runs.root)
    work = tmp_path / 'work'
    args = runs.mmseg_args(config, options, str(work), amp=True)[1:]
    args += ['visualizer.name=amp_' + ''.join(c if c.isalnum() else '_' for c in name)]  # one instance per run
    dtypes, wrappers, moved = set(), [], {}

    def record(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d) and isinstance(output, torch.Tensor):
            dtypes.add(output.dtype)

    train = Runner.train

    def train_and_watch(self):
        before = {k: v.detach().clone() for k, v in self.model.state_dict().items() if v.is_floating_point()}
        try:
            return train(self)
        finally:
            wrappers.append(type(self.optim_wrapper).__name__)
            after = self.model.state_dict()
            moved['n'] = sum(not torch.equal(before[k], after[k]) for k in before)

    monkeypatch.setattr(Runner, 'train', train_and_watch)
    handle = torch.nn.modules.module.register_module_forward_hook(record)
    argv = sys.argv[:]
    try:
        code = run_mmseg_tool('train.py', args)
    finally:
        handle.remove()
        sys.argv = argv
    assert code == 0
    assert wrappers == ['AmpOptimWrapper']
    assert torch.bfloat16 in dtypes  # autocast was on in the forward
    records = mmengine_scalars(str(work))
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 2 and all(abs(v) < float('inf') for v in losses), losses
    assert moved['n'] > 0  # the AMP steps changed the weights

"""Fault handling of segssl's runner (SegsslRunner + segssl.mmseg.fault_handling): a planted NaN
stops training naming the iteration and the term (or skips the step), a data-loader worker that
fails ends the run (also with two processes), and checkpoints survive a kill while saving."""
import os

import numpy as np
import pytest
import torch
from conftest import skip_without_mmseg
from dist_testing import run_ranks

skip_without_mmseg()

from conftest import load_ckpt  # noqa: E402
from mmengine.model import BaseModel  # noqa: E402
from mmseg.registry import DATASETS, MODELS  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402

import segssl.mmseg  # noqa: E402,F401
from segssl.mmseg.runner import SegsslRunner  # noqa: E402


@MODELS.register_module(force=True)
class NaNAtCallModel(BaseModel):
    """w (2 -> 1 linear); loss_fit = mean((w x - 1)^2), loss_reg = 0.1 |w|^2; ``nan_term`` is NaN
    on the ``nan_at``-th forward (1-based), on rank ``nan_rank`` only if given."""

    def __init__(self, nan_at=0, nan_term='loss_reg', nan_rank=None, noise=0.0):
        super().__init__()
        self.noise = noise  # std of torch noise added to x (draws in the step)
        self.lin = torch.nn.Linear(2, 1, bias=False)
        torch.nn.init.constant_(self.lin.weight, 0.5)
        self.nan_at, self.nan_term, self.nan_rank, self.calls = nan_at, nan_term, nan_rank, 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        x = torch.stack(list(inputs)).float()
        if self.noise:
            x = x + self.noise * torch.randn_like(x)
        losses = dict(loss_fit=(self.lin(x) - 1).pow(2).mean(), loss_reg=0.1 * self.lin.weight.pow(2).sum())
        if self.calls == self.nan_at and self.nan_rank in (None, int(os.environ.get('RANK', 0))):
            losses[self.nan_term] = losses[self.nan_term] * float('nan')
        return losses


@DATASETS.register_module(force=True)
class FailingToyDataset(Dataset):
    """8 samples x_i = (i, 1); reading ``fail_index`` raises ValueError, or with ``kill=True``
    SIGKILLs the reading (worker) process; ``fail_rank`` limits the failure to one rank."""

    def __init__(self, fail_index=-1, kill=False, fail_rank=None, noise=False):
        self.fail_index, self.kill, self.fail_rank, self.noise = fail_index, kill, fail_rank, noise

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        if idx == self.fail_index and self.fail_rank in (None, int(os.environ.get('RANK', 0))):
            if self.kill:
                os.kill(os.getpid(), 9)
            raise ValueError(f'unreadable sample {idx}')
        extra = np.random.rand() if self.noise else 0.0  # an augmentation's numpy draw
        return dict(inputs=torch.tensor([float(idx) + extra, 1.0]))


def toy_cfg(work_dir, iters=5, nan_at=0, optim_type='OptimWrapper', dataset=None, workers=0, launcher='none', **hooks):
    from mmengine.config import Config
    return Config(
        dict(
            default_scope='mmseg', work_dir=str(work_dir), launcher=launcher, log_level='WARNING',
            model=dict(type='NaNAtCallModel', nan_at=nan_at),
            train_dataloader=dict(batch_size=2, num_workers=workers, persistent_workers=False,
                                  sampler=dict(type='InfiniteSampler',
                                               shuffle=False), collate_fn=dict(type='pseudo_collate'), dataset=dataset
                                  or dict(type='FailingToyDataset')),
            train_cfg=dict(type='IterBasedTrainLoop',
                           max_iters=iters), optim_wrapper=dict(type=optim_type, optimizer=dict(type='SGD', lr=0.1)),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                               checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2), **hooks),
            randomness=dict(seed=0), env_cfg=dict(dist_cfg=dict(backend='gloo', timeout=60))))


def test_planted_nan_stops_training_naming_iteration_and_term(tmp_path):
    runner = SegsslRunner.from_cfg(toy_cfg(tmp_path, iters=5, nan_at=3))
    with pytest.raises(FloatingPointError, match=r'non-finite loss at iteration 3: rank 0: loss_reg=nan') as e:
        runner.train()
    assert 'loss_fit' not in str(e.value)  # only the NaN term is named
    # the checkpoint of iteration 2 is the last one; nothing from the NaN step was saved
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith('.pth')) == ['iter_2.pth']
    w = load_ckpt(tmp_path / 'iter_2.pth')['state_dict']['lin.weight']
    assert torch.isfinite(w).all()


def test_planted_nan_skips_the_step_when_asked(tmp_path):
    from segssl.mmseg.fault_handling import NonFiniteSkipOptimWrapper
    cfg = toy_cfg(tmp_path, iters=4, nan_at=3, optim_type='NonFiniteSkipOptimWrapper',
                  non_finite_loss=dict(type='NonFiniteLossHook', action='skip'))
    ref_runner = SegsslRunner.from_cfg(toy_cfg(tmp_path / 'ref', iters=2))
    ref_runner.train()  # 2 clean steps on samples 0-3
    runner = SegsslRunner.from_cfg(cfg)
    runner.train()
    assert isinstance(runner.optim_wrapper, NonFiniteSkipOptimWrapper)
    assert runner.optim_wrapper.skipped_steps == 1
    assert 'non-finite loss at iteration 3: rank 0: loss_reg=nan' in runner.message_hub.get_info('non_finite_loss')
    # step 3 was skipped: after step 4 the weight is step 2's weight plus one SGD step on batch 4
    w2 = ref_runner.model.lin.weight.detach().clone().requires_grad_(True)
    x = torch.tensor([[6.0, 1.0], [7.0, 1.0]])
    loss = ((x @ w2.t()) - 1).pow(2).mean() + 0.1 * w2.pow(2).sum()
    loss.backward()
    expected = w2.detach() - 0.1 * w2.grad
    torch.testing.assert_close(runner.model.lin.weight.detach(), expected, rtol=1e-6, atol=1e-7)


def test_skip_builds_the_skipping_wrapper_from_a_plain_optim_wrapper(tmp_path):
    # the config keeps type='OptimWrapper' (so mmseg's --amp can still rewrite it); SegsslRunner
    # builds the skipping variant because its NonFiniteLossHook skips
    from segssl.mmseg.fault_handling import NonFiniteSkipOptimWrapper
    cfg = toy_cfg(tmp_path, iters=4, nan_at=3, non_finite_loss=dict(type='NonFiniteLossHook', action='skip'))
    runner = SegsslRunner.from_cfg(cfg)
    runner.train()
    assert type(runner.optim_wrapper) is NonFiniteSkipOptimWrapper
    assert runner.optim_wrapper.skipped_steps == 1


def test_skip_without_the_skipping_optim_wrapper_is_a_config_error(tmp_path):
    # mmengine's own Runner builds what the config says; the hook then refuses before training
    from mmengine.runner import Runner
    runner = Runner.from_cfg(toy_cfg(tmp_path, non_finite_loss=dict(type='NonFiniteLossHook', action='skip')))
    with pytest.raises(ValueError, match="NonFiniteSkipOptimWrapper"):
        runner.train()


@pytest.fixture
def amp_on_cpu(monkeypatch):
    """mmengine 0.10.7's AmpOptimWrapper asserts an accelerator; on the CPU its autocast runs in
    bfloat16 and torch disables the CUDA GradScaler, which is what this lifts the assertion for."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp
    monkeypatch.setattr(amp, 'is_cuda_available', lambda: True)


@pytest.mark.filterwarnings('ignore:.*GradScaler is enabled, but CUDA is not available')
def test_skip_under_amp_keeps_the_weights_of_the_last_finite_step(tmp_path, amp_on_cpu):
    from segssl.mmseg.fault_handling import NonFiniteSkipAmpOptimWrapper
    amp = dict(dtype='bfloat16', loss_scale='dynamic')
    ref = toy_cfg(tmp_path / 'ref', iters=2, optim_type='AmpOptimWrapper')
    ref.optim_wrapper.update(amp)
    ref_runner = SegsslRunner.from_cfg(ref)
    ref_runner.train()
    cfg = toy_cfg(tmp_path, iters=3, nan_at=3, optim_type='AmpOptimWrapper',
                  non_finite_loss=dict(type='NonFiniteLossHook', action='skip'))
    cfg.optim_wrapper.update(amp)
    runner = SegsslRunner.from_cfg(cfg)
    runner.train()
    assert type(runner.optim_wrapper) is NonFiniteSkipAmpOptimWrapper
    assert runner.optim_wrapper.skipped_steps == 1
    # step 3 (NaN) was not taken: the weight is the 2-step run's, bit for bit
    assert torch.equal(runner.model.lin.weight, ref_runner.model.lin.weight)
    assert not torch.equal(runner.model.lin.weight, torch.zeros_like(runner.model.lin.weight))


@pytest.mark.skipif(not hasattr(torch.amp, 'GradScaler'),
                    reason='torch < 2.3 has no CPU GradScaler (runs on the current stack)')
def test_skip_under_amp_with_an_active_grad_scaler(amp_on_cpu):
    # a real, enabled GradScaler (torch.amp.GradScaler('cpu')): it skips the non-finite step and
    # halves its scale; the wrapper counts it and leaves the finite step to the scaler
    from segssl.mmseg.fault_handling import NonFiniteSkipAmpOptimWrapper
    lin = torch.nn.Linear(2, 1)
    wrapper = NonFiniteSkipAmpOptimWrapper(optimizer=torch.optim.SGD(lin.parameters(), lr=0.1))
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)
    assert wrapper.loss_scaler.is_enabled()
    before = lin.weight.detach().clone()
    wrapper.update_params(lin(torch.tensor([[float('inf'), 1.0]])).sum())
    assert wrapper.skipped_steps == 1 and torch.equal(lin.weight, before)
    assert wrapper.loss_scaler.get_scale() == 512.0
    wrapper.update_params(lin(torch.tensor([[1.0, 2.0]])).sum())
    assert wrapper.skipped_steps == 1
    torch.testing.assert_close(lin.weight.detach(), before - 0.1 * torch.tensor([[1.0, 2.0]]))


def _expect_worker_failure(cfg, kill, out):
    """Train; record the error the main process got (run in a child process, so that torch's
    SIGCHLD handler, which keeps watching a killed worker's pid, stays out of the test process)."""
    try:
        SegsslRunner.from_cfg(cfg).train()
    except Exception as e:  # noqa: BLE001  (the error is what we test)
        with open(out, 'w') as f:
            f.write(f'{type(e).__name__}: {e}')
        os._exit(0)  # at once: the loader's worker exits with us
    raise AssertionError('training ended without the worker failure surfacing')


@pytest.mark.parametrize('kill', [False, True], ids=['raises', 'killed'])
def test_failing_dataloader_worker_ends_the_run_with_an_error(tmp_path, kill):
    cfg = toy_cfg(tmp_path, iters=5, workers=1, dataset=dict(type='FailingToyDataset', fail_index=5, kill=kill))
    assert run_ranks(_expect_worker_failure, 1, cfg, kill, str(tmp_path / 'error.txt'), timeout=60) == [0]
    error = open(tmp_path / 'error.txt').read()
    # a raising worker: torch re-raises its error in the main process; a killed one: torch's
    # SIGCHLD check or the broken pipe to the worker raises
    if kill:
        assert error.split(':')[0] in ('RuntimeError', 'ConnectionResetError'), error
    else:
        assert error.startswith('ValueError: Caught ValueError in DataLoader worker process 0'), error
        assert 'unreadable sample 5' in error


def _train_toy(cfg):
    SegsslRunner.from_cfg(cfg).train()


def test_failing_worker_on_one_rank_ends_both_ranks(tmp_path):
    """Rank 1's worker fails; rank 1 exits with the error, and rank 0, waiting in the next
    all-reduce, gets gloo's 'connection closed' instead of hanging until the timeout."""
    import time
    cfg = toy_cfg(tmp_path, iters=5, workers=1, launcher='pytorch', dataset=dict(type='FailingToyDataset', fail_index=5,
                                                                                 fail_rank=1))
    start = time.time()
    codes = run_ranks(_train_toy, 2, cfg, timeout=50)
    assert codes == [1, 1] and time.time() - start < 50


def _train_toy_saving_error(cfg, out_dir):
    from mmengine.dist import get_rank
    try:
        SegsslRunner.from_cfg(cfg).train()
    except FloatingPointError as e:
        with open(os.path.join(out_dir, f'rank{get_rank()}.txt'), 'w') as f:
            f.write(str(e))
        raise


def test_nan_on_one_rank_stops_every_rank_naming_that_rank(tmp_path):
    cfg = toy_cfg(tmp_path, iters=5, launcher='pytorch')
    cfg.model.update(nan_at=2, nan_rank=1)
    assert run_ranks(_train_toy_saving_error, 2, cfg, str(tmp_path), timeout=50) == [1, 1]
    for r in range(2):
        text = open(tmp_path / f'rank{r}.txt').read()
        assert text.startswith('non-finite loss at iteration 2: rank 1: loss_reg=nan'), text


def _checkpoint_run(tmp_path, runner_cls, hook_type):
    cfg = toy_cfg(tmp_path, iters=4)
    cfg.default_hooks.checkpoint.update(type=hook_type, max_keep_ckpts=1)
    return runner_cls.from_cfg(cfg)


def test_checkpoint_interrupted_while_saving_keeps_the_last_good_one(tmp_path, monkeypatch):
    """The save of iter_4.pth dies after its bytes are written, before the rename (as a kill
    would). segssl's hook keeps iter_2.pth and the last_checkpoint pointer to it; mmengine's
    CheckpointHook (max_keep_ckpts=1) has deleted iter_2.pth before writing iter_4.pth."""
    from mmengine.fileio import LocalBackend
    from mmengine.runner import Runner

    import segssl.io.atomic as atomic
    real_replace, real_put = os.replace, LocalBackend.put

    def dying_replace(src, dst):
        if str(dst).endswith('iter_4.pth'):
            raise KeyboardInterrupt('killed while saving')
        return real_replace(src, dst)

    def dying_put(self, obj, filepath):
        if str(filepath).endswith('iter_4.pth'):
            with open(filepath, 'wb') as f:
                f.write(obj[:100])  # half-written, then the process dies
            raise KeyboardInterrupt('killed while saving')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(atomic.os, 'replace', dying_replace)
    ours = _checkpoint_run(tmp_path / 'ours', SegsslRunner, 'CheckpointHook')
    with pytest.raises(KeyboardInterrupt):
        ours.train()
    files = sorted(os.listdir(tmp_path / 'ours'))
    assert 'iter_2.pth' in files and 'iter_4.pth' not in files and not [f for f in files if f.endswith('.tmp')]
    assert open(tmp_path / 'ours' / 'last_checkpoint').read() == str(tmp_path / 'ours' / 'iter_2.pth')
    ckpt = load_ckpt(tmp_path / 'ours' / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2 and torch.isfinite(ckpt['state_dict']['lin.weight']).all()

    monkeypatch.setattr(LocalBackend, 'put', dying_put)
    stock = _checkpoint_run(tmp_path / 'stock', Runner, 'CheckpointHook')
    with pytest.raises(KeyboardInterrupt):
        stock.train()
    assert 'iter_2.pth' not in os.listdir(tmp_path / 'stock')  # the good one is gone
    with pytest.raises(Exception):
        torch.load(tmp_path / 'stock' / 'iter_4.pth')  # and the new one is torn


def _rng_cfg(work_dir, length, by_epoch, **hooks):
    cfg = toy_cfg(work_dir, dataset=dict(type='FailingToyDataset', noise=True), **hooks)
    cfg.model.noise = 0.5
    if by_epoch:
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=length)
        cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
        cfg.default_hooks.checkpoint.update(by_epoch=True, interval=1)
    else:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=length)
        cfg.default_hooks.checkpoint.update(interval=3)
    return cfg


@pytest.mark.parametrize('by_epoch', [False, True], ids=['iterations', 'epochs'])
def test_resume_restores_the_random_streams_of_model_and_pipeline(tmp_path, by_epoch):
    """The model draws torch noise every step, the pipeline numpy noise (num_workers=0): a run
    stopped after its first checkpoint and resumed ends where an uninterrupted run ends; without
    RandomStateHook it does not."""
    first, total = (1, 3) if by_epoch else (3, 6)
    full = SegsslRunner.from_cfg(_rng_cfg(tmp_path / 'full', total, by_epoch))
    full.train()
    ends = {}
    for name, hooks in (('hook', {}), ('no_hook', dict(random_state=None))):
        SegsslRunner.from_cfg(_rng_cfg(tmp_path / name, first, by_epoch, **hooks)).train()
        cfg = _rng_cfg(tmp_path / name, total, by_epoch, **hooks)
        cfg.resume = True
        resumed = SegsslRunner.from_cfg(cfg)
        resumed.train()
        assert resumed.iter == full.iter
        ends[name] = resumed.model.lin.weight.detach()
    assert torch.equal(ends['hook'], full.model.lin.weight.detach())
    assert not torch.equal(ends['no_hook'], full.model.lin.weight.detach())


def test_none_removes_any_default_hook(tmp_path):
    """``default_hooks.<name>=None`` removes segssl's and the schedules' hooks too, not only
    mmengine's own (whose Runner asserts on a None it does not know)."""
    from segssl.mmseg.metrics import PerClassMetricsHook
    # isort: split
    from segssl.mmseg.fault_handling import NonFiniteLossHook
    # isort: split
    from mmengine.hooks import LoggerHook
    kept = SegsslRunner.from_cfg(toy_cfg(tmp_path / 'a', per_class_metrics=dict(type='PerClassMetricsHook')))
    assert sum(isinstance(h, PerClassMetricsHook) for h in kept.hooks) == 1
    cfg = toy_cfg(tmp_path / 'b', per_class_metrics=None, non_finite_loss=None)
    cfg.default_hooks.logger = None
    gone = SegsslRunner.from_cfg(cfg)
    kinds = [type(h) for h in gone.hooks]
    assert PerClassMetricsHook not in kinds and NonFiniteLossHook not in kinds and LoggerHook not in kinds

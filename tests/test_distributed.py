"""Distributed training on CPUs (gloo): SyncBN through all-reduces against BatchNorm on the whole
batch, Momentum BN's global statistics, the differentiable all-gather of contrastive losses,
and PixPro pretraining with 2 processes x batch 2 against 1 process x batch 4."""
import os

import pytest
import torch
from conftest import ROOT, skip_without_mmseg
from dist_testing import run_ranks, train_from_cfg

skip_without_mmseg()
PIXPRO = os.path.join(ROOT, 'configs', 'pretrain', 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py')


def _batch():
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(4, 3, 5, 6, generator=g, dtype=torch.float64) * 3 + 2)
    w = torch.randn(4, 3, 5, 6, generator=g, dtype=torch.float64)
    return x, w


def _bn_params(bn):
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    return bn


def _embeddings():
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def _contrastive(anchors, all_z):
    """sum over anchors i of logsumexp_j (z_i . z_j)"""
    return torch.logsumexp(anchors @ all_z.t(), dim=1).sum()


def _sync_bn_rank(out):
    import torch.distributed as dist

    from segssl.core import AllReduceSyncBatchNorm, MomentumBatchNorm2d, all_gather_cat
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    x, w = _batch()
    part = slice(2 * rank, 2 * rank + 2)
    bn = _bn_params(AllReduceSyncBatchNorm(3, momentum=0.1).double())
    xr = x[part].clone().requires_grad_(True)
    y = bn(xr)
    (y * w[part]).sum().backward()
    mbn = MomentumBatchNorm2d(3, stat_momentum=0.5).double()
    for k in range(2):
        mbn(x[part] * (k + 1))
    # all_gather_cat: this rank's anchors against every rank's embeddings (contrastive negatives)
    z = _embeddings()[part].clone().requires_grad_(True)
    zz = all_gather_cat(z)
    _contrastive(zz[part], zz).backward()
    torch.save(
        dict(y=y.detach(), grad_x=xr.grad, grad_w=bn.weight.grad, grad_b=bn.bias.grad, running_mean=bn.running_mean,
             running_var=bn.running_var, mbn_mean=mbn.running_mean, mbn_var=mbn.running_var, gathered=zz.detach(),
             grad_z=z.grad), os.path.join(out, f'rank{rank}.pt'))
    # no destroy_process_group(): it can deadlock on the GIL (see dist_testing); run_ranks ends
    # the ranks together without a teardown


def test_allreduce_sync_bn_equals_batchnorm_on_the_whole_batch(tmp_path):
    assert run_ranks(_sync_bn_rank, 2, str(tmp_path)) == [0, 0]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in range(2))
    x, w = _batch()
    bn = _bn_params(torch.nn.BatchNorm2d(3, momentum=0.1).double())
    xx = x.clone().requires_grad_(True)
    y = bn(xx)
    (y * w).sum().backward()
    torch.testing.assert_close(torch.cat([r0['y'], r1['y']]), y.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.cat([r0['grad_x'], r1['grad_x']]), xx.grad, rtol=0, atol=1e-12)
    # each rank's parameter gradient is its share; DDP sums (averages) them
    torch.testing.assert_close(r0['grad_w'] + r1['grad_w'], bn.weight.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(r0['grad_b'] + r1['grad_b'], bn.bias.grad, rtol=0, atol=1e-12)
    for r in (r0, r1):
        torch.testing.assert_close(r['running_mean'], bn.running_mean, rtol=0, atol=1e-12)
        torch.testing.assert_close(r['running_var'], bn.running_var, rtol=0, atol=1e-12)
    # Momentum BN: global batch statistics, a = 0.5 (first batch initialises), same on both ranks
    m1, m2 = x.mean((0, 2, 3)), (2 * x).mean((0, 2, 3))
    v1, v2 = x.var((0, 2, 3), unbiased=False), (2 * x).var((0, 2, 3), unbiased=False)
    for r in (r0, r1):
        torch.testing.assert_close(r['mbn_mean'], 0.5 * m1 + 0.5 * m2, rtol=0, atol=1e-12)
        torch.testing.assert_close(r['mbn_var'], 0.5 * v1 + 0.5 * v2, rtol=0, atol=1e-12)
    assert torch.equal(r0['mbn_mean'], r1['mbn_mean']) and torch.equal(r0['mbn_var'], r1['mbn_var'])
    # all_gather_cat: the global batch in rank order; gradients of the summed per-rank losses
    z = _embeddings().requires_grad_(True)
    _contrastive(z, z).backward()
    assert torch.equal(r0['gathered'], _embeddings()) and torch.equal(r1['gathered'], _embeddings())
    torch.testing.assert_close(torch.cat([r0['grad_z'], r1['grad_z']]), z.grad, rtol=0, atol=1e-12)


def _pixpro_cfg(work_dir, record_dir, batch_size, launcher, iters=3):
    """The synthetic PixPro config (SyncBN online encoder/projector, Momentum BN target, LARS),
    shrunk, with deterministic views (full-image crops, no flip/colour/erasing) so that every
    sample's loss depends only on the sample: then 2 x b and 1 x 2b see the same global batch."""
    from mmengine.config import Config
    cfg = Config.fromfile(PIXPRO)
    size = 48
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'launcher': launcher,
        'train_cfg.max_iters': iters,
        'model.projector.hidden_channels': 64,
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.pipeline': [
            dict(type='LoadImageFromFile'),
            dict(type='TwoViewCrop', size=size, scale=(1.0, 1.0), ratio=(2.0, 2.0), flip_prob=0.0),
            dict(type='PackPixelViews')
        ],
        'param_scheduler': [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=iters)],
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': iters,
        'custom_hooks': cfg.custom_hooks + [dict(type='RecordRankHook', out_dir=record_dir)],
        'log_level': 'WARNING'
    })
    cfg.custom_imports = dict(imports=['segssl.mmseg', 'dist_testing'], allow_failed_imports=False)
    return cfg


def test_pixpro_two_processes_match_one_process_with_twice_the_batch(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    one, two = tmp_path / 'one', tmp_path / 'two'
    train_from_cfg(_pixpro_cfg(str(one / 'work'), str(one), 4, 'none'))
    assert run_ranks(train_from_cfg, 2, _pixpro_cfg(str(two / 'work'), str(two), 2, 'pytorch')) == [0, 0]
    ref = torch.load(one / 'rank0.pt')
    r0, r1 = (torch.load(two / f'rank{r}.pt') for r in range(2))
    # loss curve: the mean of the two ranks' losses (each the mean over its 2 images) is the loss
    # of the 4-image batch; tolerance for float32 sums taken in another order
    mean_curve = [(a['loss'] + b['loss']) / 2 for a, b in zip(r0['log'], r1['log'])]
    assert len(mean_curve) == len(ref['log']) == 3
    assert r0['log'][0]['loss'] != r1['log'][0]['loss']  # the ranks did see different images
    assert mean_curve == pytest.approx([rec['loss'] for rec in ref['log']], abs=1e-5)
    # the online network, the EMA target (parameters and Momentum BN statistics) and the SyncBN
    # statistics are identical on both ranks, bit for bit ...
    assert r0['state'].keys() == r1['state'].keys() == ref['state'].keys()
    for k in r0['state']:
        assert torch.equal(r0['state'][k], r1['state'][k]), k
    # ... and equal to the single-process run's within float32 reordering
    for k, v in ref['state'].items():
        if v.is_floating_point():
            torch.testing.assert_close(r0['state'][k], v, rtol=1e-4, atol=2e-5, msg=k)
        else:
            assert torch.equal(r0['state'][k], v), k
    # rank 0 alone writes: one checkpoint, one log file
    files = sorted(str(p.relative_to(two / 'work')) for p in (two / 'work').rglob('*') if p.is_file())
    assert [f for f in files if f.endswith('.pth')] == ['iter_3.pth']
    assert len([f for f in files if f.endswith('.log')]) == 1, files


def _labels(rank):
    """Rank 0 sees mostly class 0, rank 1 mostly class 2 (and ignored pixels): only their
    global batch has the frequencies the reference sees."""
    g = torch.Generator().manual_seed(rank)
    labels = torch.multinomial(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]][rank]), 60, True, generator=g)
    labels[::7] = 255
    return labels.view(2, 5, 6)


def _alignment_rank(out):
    import torch.distributed as dist

    from segssl.core import DistributionAlignment
    dist.init_process_group('gloo')
    da = DistributionAlignment([0.5, 0.3, 0.2], momentum=0.5)
    da.update(_labels(dist.get_rank()))
    torch.save(da.running.clone(), os.path.join(out, f'rank{dist.get_rank()}.pt'))


def test_distribution_alignment_counts_the_global_batch(tmp_path):
    """DACS' distribution alignment (issue 17, item 7): each rank's EMA step uses the class
    counts summed over the ranks, so both ranks keep p~ of the whole batch."""
    from segssl.core import DistributionAlignment
    assert run_ranks(_alignment_rank, 2, str(tmp_path)) == [0, 0]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in range(2))
    ref = DistributionAlignment([0.5, 0.3, 0.2], momentum=0.5)
    ref.update(torch.cat([_labels(0), _labels(1)]))
    valid = torch.cat([_labels(0), _labels(1)]).flatten()
    valid = valid[valid != 255]
    f = torch.bincount(valid, minlength=3).double() / valid.numel()
    torch.testing.assert_close(ref.running, 0.5 * torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64) + 0.5 * f)
    assert torch.equal(r0, r1)
    torch.testing.assert_close(r0, ref.running, rtol=0, atol=1e-15)
    local = DistributionAlignment([0.5, 0.3, 0.2], momentum=0.5)
    local.update(_labels(0))
    assert not torch.allclose(local.running, r0)  # what rank 0 alone would have kept


def _pairs():
    g = torch.Generator().manual_seed(5)
    return torch.randn(6, 8, generator=g, dtype=torch.float64), torch.randn(6, 8, generator=g, dtype=torch.float64)


def _nt_xent_rank(out):
    import torch.distributed as dist

    from segssl.core import nt_xent_loss
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    z_a, z_b = (z[3 * rank:3 * rank + 3].clone().requires_grad_(True) for z in _pairs())
    loss = nt_xent_loss(z_a, z_b, temperature=0.5)
    loss.backward()
    local = nt_xent_loss(z_a.detach(), z_b.detach(), temperature=0.5, gather=False)
    torch.save(dict(loss=loss.detach(), local=local, grad_a=z_a.grad, grad_b=z_b.grad),
               os.path.join(out, f'rank{rank}.pt'))


def test_nt_xent_takes_negatives_from_every_rank(tmp_path):
    """SimCLR under DDP (issue 17, item 9): 2 processes x 3 pairs give the loss of 1 process x 6
    pairs (the mean of the ranks' losses) and, summed over the ranks' losses as DDP does, its
    gradients."""
    from segssl.core import nt_xent_loss
    assert run_ranks(_nt_xent_rank, 2, str(tmp_path)) == [0, 0]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in range(2))
    z_a, z_b = (z.clone().requires_grad_(True) for z in _pairs())
    loss = nt_xent_loss(z_a, z_b, temperature=0.5)
    (2 * loss).backward()  # sum of the 2 ranks' losses = 2 x the global mean
    torch.testing.assert_close((r0['loss'] + r1['loss']) / 2, loss.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.cat([r0['grad_a'], r1['grad_a']]), z_a.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.cat([r0['grad_b'], r1['grad_b']]), z_b.grad, rtol=0, atol=1e-12)
    assert abs(float(r0['local']) - float(r0['loss'])) > 1e-3  # local negatives only: another loss


class _Drawing(torch.nn.Module):
    """A model part that draws from its own generator, as ClassMix / DACS do."""

    def __init__(self, seed):
        super().__init__()
        self.generator = torch.Generator().manual_seed(seed)


def _random_state_rank(out):
    """Each rank: seeded streams (torch, numpy, the model's generator) -> checkpoint -> draws;
    then other seeds, the checkpoint restored at its iteration -> the same draws again."""
    import types

    import numpy as np
    import torch.distributed as dist

    from segssl.mmseg.random_state import RandomStateHook, rank_seed
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    model = torch.nn.Sequential(_Drawing(rank_seed(7)))
    runner = types.SimpleNamespace(iter=4, model=model, logger=None)
    torch.manual_seed(rank_seed(100))
    np.random.seed(rank_seed(200))
    hook, checkpoint = RandomStateHook(), {'meta': {'iter': 4}}
    hook.gather_for_checkpoint(runner)  # every rank (AtomicCheckpointHook calls it)
    if rank == 0:  # runner.save_checkpoint: rank 0 only
        hook.before_save_checkpoint(runner, checkpoint)
    checkpoint = [checkpoint]
    dist.broadcast_object_list(checkpoint, src=0)  # every rank loads the one file on resume
    checkpoint = checkpoint[0]
    first = (torch.rand(3), torch.rand(3, generator=model[0].generator))
    torch.manual_seed(0)
    model[0].generator.manual_seed(0)
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_iter(runner, 0)
    again = (torch.rand(3), torch.rand(3, generator=model[0].generator))
    torch.save(dict(first=first, again=again, ranks=1 + len(checkpoint['segssl_rng_state'].get('other_ranks', []))),
               os.path.join(out, f'rank{rank}.pt'))


def test_every_rank_draws_its_own_stream_and_gets_it_back_on_resume(tmp_path):
    """Issue 17, item 8: rank r seeds its generators seed + r, and the checkpoint holds every
    rank's state (not rank 0's for all), so a resumed run continues each rank's stream."""
    assert run_ranks(_random_state_rank, 2, str(tmp_path)) == [0, 0]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in range(2))
    assert r0['ranks'] == r1['ranks'] == 2
    for r in (r0, r1):
        assert all(torch.equal(a, b) for a, b in zip(r['first'], r['again']))
    assert not torch.equal(r0['first'][1], r1['first'][1])  # the generators differ per rank
    assert not torch.equal(r0['first'][0], r1['first'][0])


def test_no_code_of_the_project_destroys_a_process_group():
    """destroy_process_group right after a gloo collective can deadlock on the GIL (tests/dist_testing.py);
    gpu_check's tier 1 hung so in CI. Nothing in plugins/, tools/ or tests/ may call it."""
    import ast
    calls = []
    for top in ('plugins', 'tools', 'tests'):
        for base, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(base, name)
                    for node in ast.walk(ast.parse(open(path).read())):
                        f = getattr(node, 'func', None)
                        if isinstance(node, ast.Call) and 'destroy_process_group' in (getattr(
                                f, 'attr', None), getattr(f, 'id', None)):
                            calls.append(f'{os.path.relpath(path, ROOT)}:{node.lineno}')
    assert calls == []

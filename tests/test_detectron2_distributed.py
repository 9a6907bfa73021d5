"""detectron2 on CPU processes (gloo): segssl's worker set-up and DDP wrapping give 2 x batch 1 the
same step as 1 x batch 2, with SyncBN as segssl builds it on CPU processes (detectron2's
naiveSyncBN, which the config's SyncBN becomes: resolve_sync_bn); detectron2 stops on a NaN loss naming the
iteration."""
import os
import re

import pytest
import torch
import torch.nn as nn
from dist_testing import run_ranks

pytest.importorskip('detectron2')
import segssl.detectron2  # noqa: E402,F401  (first: the _C placeholder)

# isort: split
from detectron2.engine import SimpleTrainer  # noqa: E402
from detectron2.layers import NaiveSyncBatchNorm  # noqa: E402
from detectron2.utils import comm  # noqa: E402

from segssl.detectron2.distributed import _cpu_worker, wrap_ddp  # noqa: E402

X = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]], [[[-1.0, 0.5], [2.0, -3.0]]]])  # (2, 1, 2, 2)


class ToyDetector(nn.Module):
    """conv -> naiveSyncBN -> mean; loss_a = mean(out^2) per image batch, loss_b = 0.1 |w|^2,
    loss_b NaN at the ``nan_at``-th call. Data: a list of {'x': (1, 2, 2)} like detectron2's."""

    def __init__(self, nan_at=0):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.bn = NaiveSyncBatchNorm(2)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[[[0.5]]], [[[-1.0]]]]))
            self.conv.bias.copy_(torch.tensor([0.1, 0.2]))
            self.bn.weight.copy_(torch.tensor([1.5, 0.7]))
        self.nan_at, self.calls = nan_at, 0

    def forward(self, batch):
        self.calls += 1
        x = torch.stack([d['x'] for d in batch])
        y = self.bn(self.conv(x))
        loss_b = 0.1 * self.conv.weight.pow(2).sum()
        if self.calls == self.nan_at:
            loss_b = loss_b * float('nan')
        return dict(loss_a=(y * torch.arange(1.0, 5.0).view(1, 1, 2, 2)).pow(2).mean(), loss_b=loss_b)


def _loader(samples):
    while True:
        yield [dict(x=s) for s in samples]


def _one_step(samples, out):
    model = wrap_ddp(ToyDetector())
    trainer = SimpleTrainer(model, _loader(samples), torch.optim.SGD(model.parameters(), lr=0.1))
    trainer.train(0, 1)
    inner = model.module if hasattr(model, 'module') else model
    torch.save(
        dict(state=inner.state_dict(), local_rank=comm.get_local_rank(), local_size=comm.get_local_size(),
             sync_bn=type(inner.bn).__name__), os.path.join(out, f'rank{comm.get_rank()}.pt'))


def _rank(out):
    rank = int(os.environ['RANK'])
    _cpu_worker(rank, _one_step, 2, 2, 0, 'tcp://127.0.0.1:' + os.environ['MASTER_PORT'], (X[rank:rank + 1], out),
                _timeout())


def _timeout():
    from datetime import timedelta
    return timedelta(seconds=60)


def test_two_cpu_processes_take_the_step_of_one_with_twice_the_batch(tmp_path):
    assert run_ranks(_rank, 2, str(tmp_path)) == [0, 0]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in range(2))
    assert (r0['local_rank'], r1['local_rank'], r0['local_size']) == (0, 1, 2)
    assert r0['sync_bn'] == 'NaiveSyncBatchNorm'
    ref = ToyDetector()
    ref.bn = nn.BatchNorm2d(2)  # one process: BN over both images
    with torch.no_grad():
        ref.bn.weight.copy_(torch.tensor([1.5, 0.7]))
    trainer = SimpleTrainer(ref, _loader(X), torch.optim.SGD(ref.parameters(), lr=0.1))
    trainer.train(0, 1)
    expected = ref.state_dict()
    # naiveSyncBN's running variance takes the biased batch variance (BN's: unbiased, n / (n - 1))
    n = X.numel() // X.shape[1]  # pixels per channel in the global batch
    expected['bn.running_var'] = 0.9 + (expected['bn.running_var'] - 0.9) * (n - 1) / n
    expected['bn.num_batches_tracked'] = torch.zeros_like(expected['bn.num_batches_tracked'])  # not counted
    for k, v in expected.items():
        assert torch.equal(r0['state'][k], r1['state'][k]), k
        torch.testing.assert_close(r0['state'][k].to(v.dtype), v, rtol=1e-5, atol=1e-5, msg=k)  # float32 sums


def _wrap_torch_sync_bn(out):
    try:
        wrap_ddp(nn.Sequential(nn.Conv2d(1, 2, 1), nn.SyncBatchNorm(2)))
        msg = ''
    except ValueError as e:
        msg = str(e)
    with open(os.path.join(out, f'rank{comm.get_rank()}.txt'), 'w') as f:
        f.write(msg)


def _sync_bn_rank(out):
    rank = int(os.environ['RANK'])
    _cpu_worker(rank, _wrap_torch_sync_bn, 2, 2, 0, 'tcp://127.0.0.1:' + os.environ['MASTER_PORT'], (out, ), _timeout())


def test_torch_sync_bn_left_in_a_cpu_model_is_a_one_line_error(tmp_path):
    """SyncBN is decided in the config (naiveSyncBN on CPU processes); a torch SyncBatchNorm that
    reaches DDP wrapping on CPU processes is named, not left to fail inside the first step."""
    assert run_ranks(_sync_bn_rank, 2, str(tmp_path)) == [0, 0]
    for r in range(2):
        msg = (tmp_path / f'rank{r}.txt').read_text()
        assert msg.startswith('torch SyncBatchNorm needs CUDA: on CPU processes use naiveSyncBN') and '\n' not in msg


def _toy_trainer(nan_at=0):
    model = ToyDetector(nan_at=nan_at)
    model.bn = nn.BatchNorm2d(2)
    return model, SimpleTrainer(model, _loader(X), torch.optim.SGD(model.parameters(), lr=0.1))


def test_detectron2_stops_on_a_nan_loss_naming_iteration_and_term():
    """detectron2's SimpleTrainer checks the (rank-averaged) losses before optimizer.step():
    the message names the iteration (0-based) and the loss dict; the NaN step is not taken."""
    model, trainer = _toy_trainer(nan_at=2)
    with pytest.raises(FloatingPointError) as e:
        trainer.train(0, 3)
    assert 'Loss became infinite or NaN at iteration=1' in str(e.value)
    # numpy 2 prints a float64 scalar as np.float64(nan), numpy 1 as nan
    assert re.search(r"'loss_b': (np\.float64\()?nan", str(e.value)) and "'loss_a': " in str(e.value)
    ref, ref_trainer = _toy_trainer()
    ref_trainer.train(0, 1)  # only the first, finite step
    assert torch.equal(model.conv.weight, ref.conv.weight) and torch.isfinite(model.conv.weight).all()

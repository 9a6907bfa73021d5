"""The ClassMix / DACS mix step keeps to the device (issue 17, item 15): its core functions read no
value back to the host. Two honest witnesses, each catching what the other cannot:

- ``meta`` tensors carry no data: any ``.item()``, ``int()``, ``bool()``, ``.tolist()``, ``.cpu()``
  or data-dependent shape (unique, nonzero, boolean-mask indexing) raises;
- on the CPU, ``HostSyncRecorder`` (a TorchDispatchMode) records every op that reads a value
  back (``aten._local_scalar_dense``) or sizes its output by the data (nonzero, unique,
  masked_select, boolean-mask indexing, bincount: on CUDA it reads its maximum back).
"""
import contextlib
import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from segssl.core import (DistributionAlignment, class_frequencies, class_mix_masks, cow_mix_masks, cut_mix_masks,
                         dacs_mix, inter_mix, intra_mix, mix, strong_augment)

DATA_DEPENDENT = {
    '_local_scalar_dense', 'nonzero', 'nonzero_static', 'argwhere', 'masked_select', '_unique', '_unique2',
    'unique_dim', 'unique_consecutive', 'unique_dim_consecutive', 'bincount'
}
MASK_INDEXED = {'index', 'index_put', 'index_put_', '_index_put_impl_'}


class HostSyncRecorder(TorchDispatchMode):
    """``syncs``: the names of the ops run inside the mode that read data back to the host or
    size their output by it (a boolean-mask index counts: it runs nonzero)."""

    def __init__(self):
        super().__init__()
        self.syncs, self._paused = [], False

    @contextlib.contextmanager
    def paused(self):
        """Ops run meanwhile are not recorded (code that is not segssl's, e.g. mmseg's loss)."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split('::')[-1]
        indices = args[1] if name in MASK_INDEXED and len(args) > 1 else ()
        if not self._paused and (name in DATA_DEPENDENT or any(
                torch.is_tensor(i) and i.dtype in (torch.bool, torch.uint8) for i in indices or ())):
            self.syncs.append(name)
        return func(*args, **(kwargs or {}))


def test_the_recorder_catches_each_kind_of_host_read():
    x = torch.arange(6)
    cases = [
        lambda: x[1].item(), lambda: int(x[2]), lambda: bool(x[3] > 0), lambda: torch.unique(x), lambda: x[x > 2],
        lambda: torch.bincount(x), lambda: torch.nonzero(x)
    ]
    for case in cases:
        with HostSyncRecorder() as rec:
            case()
        assert len(rec.syncs) == 1, rec.syncs
    with HostSyncRecorder() as rec:
        x.roll(1) + torch.where(x > 2, x, 0)
    assert rec.syncs == []


def _inputs(device, n=2, k=5, h=24, w=40):
    if device == 'meta':
        return (torch.empty(n, 3, h, w, device='meta'), torch.empty(n, h, w, dtype=torch.long, device='meta'),
                torch.empty(n, 3, h, w, device='meta'), torch.empty(n, k, h, w, device='meta'))
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, k, (n, h, w), generator=g)
    labels[:, :3] = 255
    return (torch.rand(n, 3, h, w, generator=g), labels, torch.rand(n, 3, h, w, generator=g),
            torch.softmax(3 * torch.randn(n, k, h, w, generator=g), 1))


def _alignments(device, k=5):
    """Built once, before training (the prior's checks read it on the host)."""
    return DistributionAlignment([1.0] * k).to(device), DistributionAlignment(torch.arange(1.0, k + 1)).to(device)


def _mix_step(device, generator, alignments):
    """Everything the ClassMix / DACS step calls between the teacher and the student."""
    src, labels, tgt, probs = _inputs(device)
    n, k, h, w = probs.shape
    flat, align = alignments
    out = [
        class_mix_masks(labels, generator=generator, num_classes=k),
        cut_mix_masks(n, h, w, generator=generator, device=device),
        cow_mix_masks(n, h, w, sigma_range=(2.0, 6.0), generator=generator, device=device),
        mix(tgt,
            class_mix_masks(probs.argmax(1), generator=generator, num_classes=k)[0]),
        inter_mix(src, labels, tgt, probs.argmax(1), probs.amax(1), generator=generator, num_classes=k),
        dacs_mix(src, labels, tgt, probs, generator=generator),
        intra_mix(tgt, probs, alignment=flat, generator=generator),
        strong_augment(tgt, generator=generator),
        class_frequencies(labels, k),
        align.update(labels),
        align(probs)
    ]
    return out


def test_the_mix_step_runs_on_meta_tensors():
    """No data on ``meta``: a host read or a data-dependent shape would raise here."""
    out = _mix_step('meta', None, _alignments('meta'))
    masks, chosen = out[0]
    assert masks.shape == (2, 24, 40) and masks.dtype == torch.bool and chosen.shape == (2, 5)
    assert out[1].shape == out[2].shape == (2, 24, 40) and out[1].device.type == out[2].device.type == 'meta'
    assert out[4].images.shape == (2, 3, 24, 40) and out[6].weights.shape == (2, 24, 40)
    assert out[7][0].shape == (2, 3, 24, 40) and out[8].shape == (5, ) and out[9].shape == (5, )
    # the documented fallback, K read off the labels, is the one host read
    with pytest.raises((RuntimeError, NotImplementedError)):
        class_mix_masks(torch.empty(2, 4, 4, dtype=torch.long, device='meta'))


def test_the_mix_step_reads_nothing_back_on_the_cpu():
    g, alignments = torch.Generator().manual_seed(1), _alignments('cpu')
    with HostSyncRecorder() as rec:
        out = _mix_step('cpu', g, alignments)
    assert rec.syncs == []
    # and it computed the real thing: ceil(p |C_b|) classes, the CowMix share, the CutMix area
    labels = _inputs('cpu')[1]
    masks, chosen = out[0]
    for b in range(2):
        present = set(labels[b].unique().tolist()) - {255}
        assert chosen[b].sum() == math.ceil(len(present) / 2) and set(torch.nonzero(
            chosen[b]).flatten().tolist()) <= present
        assert torch.equal(masks[b], torch.isin(labels[b], torch.nonzero(chosen[b]).flatten()))
    assert (out[2].flatten(1).sum(1) == 480).all()
    assert ((out[1].flatten(1).sum(1).double() / 960 - 0.5).abs() < 0.05).all()

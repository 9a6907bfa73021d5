"""DACS InterMix / IntraMix / distribution-aligned IntraMix on hand-made pairs (the ClassMix/DACS thesis, 3.2, 5.2)."""
import math

import pytest
import torch

from segssl.core import DistributionAlignment, dacs_mix, intra_mix

I = 255


def _pair():
    # two 2x3 source images (channel value = 10 + pixel index / 100 + image) and labels
    src = torch.arange(12, dtype=torch.float64).view(2, 1, 2, 3) / 100 + 10
    src = src + torch.tensor([0., 1.]).view(2, 1, 1, 1)
    src_lab = torch.tensor([
        [[2, 2, I], [2, I, I]],  # one class (+ ignore)
        [[0, 1, 1], [0, 0, 1]]
    ])  # two classes
    tgt = -torch.arange(12, dtype=torch.float64).view(2, 1, 2, 3) - 1
    # teacher probabilities over K = 3: confident (0.98) on 5 of the 12 target pixels
    top = torch.tensor([[[0, 1, 2], [1, 1, 0]], [[2, 2, 2], [0, 1, 0]]])
    conf = torch.tensor([[[.98, .5, .98], [.6, .98, .5]], [[.98, .7, .4], [.98, .5, .6]]], dtype=torch.float64)
    probs = torch.zeros(2, 3, 2, 3, dtype=torch.float64)
    probs.scatter_(1, top[:, None], conf[:, None])
    rest = (1 - conf) / 2
    probs = probs + (probs == 0) * rest[:, None]
    return src, src_lab, tgt, probs, top


def test_dacs_mix_known_answer_all_source_classes_pasted():
    src, src_lab, tgt, probs, top = _pair()
    out = dacs_mix(src, src_lab, tgt, probs, proportion=1.0)
    mask = src_lab != I  # every class present is pasted
    assert torch.equal(out.masks, mask)
    lam = 5 / 12  # share of target pixels above 0.968
    assert torch.equal(out.targets, torch.tensor([[[2, 2, 2], [2, 1, 0]], [[0, 1, 1], [0, 0, 1]]]))
    assert torch.allclose(out.weights,
                          torch.tensor([[[1, 1, lam], [1, lam, lam]], [[1.] * 3] * 2], dtype=out.weights.dtype))
    want = torch.where(mask[:, None], src, tgt)
    assert torch.equal(out.images, want)
    assert out.images[0, 0, 0, 2] == -3 and abs(out.images[1, 0, 1, 2] - 11.11) < 1e-12


def test_dacs_mix_takes_half_of_the_source_ground_truth_classes():
    src, src_lab, tgt, probs, top = _pair()
    seen = set()
    for seed in range(20):
        out = dacs_mix(src, src_lab, tgt, probs, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(out.masks[0], src_lab[0] == 2)  # ceil(0.5 * 1) = 1 of {2}
        cls = [c for c in (0, 1) if torch.equal(out.masks[1], src_lab[1] == c)]
        assert len(cls) == 1  # ceil(0.5 * 2) = 1 of {0, 1}
        seen.add(cls[0])
        m = out.masks
        assert torch.equal(out.targets, torch.where(m, src_lab, top))
        assert torch.equal(out.images, torch.where(m[:, None], src, tgt))
        assert torch.allclose(out.weights[m], torch.ones(int(m.sum()), dtype=out.weights.dtype))
        assert torch.allclose(out.weights[~m], torch.full((int((~m).sum()), ), 5 / 12, dtype=out.weights.dtype))
    assert seen == {0, 1}
    # the weight scheme is the semi-supervised one's: pixel-wise threshold gives 1 on confident pixels
    out = dacs_mix(src, src_lab, tgt, probs, proportion=1.0, weight_scheme='pixel_threshold')
    conf = (probs.max(1).values > 0.968).to(out.weights.dtype)
    assert torch.equal(out.weights, torch.where(out.masks, torch.ones_like(conf), conf))


def test_intra_mix_pairs_target_b_with_b_plus_one():
    _, _, tgt, probs, top = _pair()
    out = intra_mix(tgt, probs, proportion=1.0)  # every pseudo-label class pasted
    assert out.masks.all()
    assert torch.equal(out.images, tgt) and torch.equal(out.targets, top)
    for seed in range(10):
        out = intra_mix(tgt, probs, generator=torch.Generator().manual_seed(seed))
        for b in range(2):
            classes = top[b].unique()
            k = math.ceil(len(classes) / 2)
            chosen = top[b][out.masks[b]].unique()
            assert len(chosen) == k and torch.equal(out.masks[b], torch.isin(top[b], chosen))
        m = out.masks
        assert torch.equal(out.images, torch.where(m[:, None], tgt, tgt.roll(-1, 0)))
        assert torch.equal(out.targets, torch.where(m, top, top.roll(-1, 0)))
        assert torch.allclose(out.weights, torch.full_like(out.weights, 5 / 12))


def test_distribution_aligned_intra_mix_uses_the_aligned_probabilities():
    _, _, tgt, probs, top = _pair()
    prior = [0.2, 0.3, 0.5]
    da = DistributionAlignment(prior, momentum=0.99)
    out = intra_mix(tgt, probs, proportion=1.0, alignment=da)
    f = torch.bincount(top.flatten(), minlength=3).double() / 12  # raw pseudo-label shares
    running = 0.99 * torch.tensor(prior, dtype=torch.float64) + 0.01 * f
    assert torch.allclose(da.running, running)
    q = probs * (torch.tensor(prior, dtype=torch.float64) / running).view(1, 3, 1, 1)
    q = q / q.sum(1, keepdim=True)
    assert torch.equal(out.targets, q.argmax(1))
    lam = (q.max(1).values > 0.968).double().mean()
    assert torch.allclose(out.weights, torch.full_like(out.weights, lam.item()))
    # a strong prior flips a low-confidence pixel: class 0 prior pushes pixel (1, 1, 2) to 0
    da = DistributionAlignment([0.98, 0.01, 0.01], momentum=0.0)
    out = intra_mix(tgt, probs, proportion=1.0, alignment=da)
    assert top[0, 0, 1] == 1 and out.targets[0, 0, 1] == 0


def test_dacs_mix_names_mismatched_shapes():
    src, src_lab, tgt, probs, _ = _pair()
    with pytest.raises(ValueError, match='same N, H, W'):
        dacs_mix(src, src_lab, tgt, probs[:, :, :1])
    with pytest.raises(ValueError, match='must match target images'):
        dacs_mix(src[:1], src_lab[:1], tgt, probs)

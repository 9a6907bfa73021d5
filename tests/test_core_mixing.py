"""ClassMix / CutMix / CowMix masks, mixing, confidence weights and the teacher EMA warm-up
(seed 004) against known answers and brute-force references."""
import math

import pytest
import torch

from segssl.core.consistency_weights import confidence_weights, teacher_momentum
from segssl.core.mixing import class_mix_masks, cow_mix_masks, cut_mix_masks, gaussian_blur, mix


def test_class_mix_picks_half_the_present_classes_and_never_ignore():
    labels = torch.tensor([[[0, 0, 1, 255], [2, 2, 1, 255], [3, 3, 3, 255]],
                           [[5, 5, 5, 5], [5, 5, 5, 5], [255, 255, 255, 255]]])
    g = torch.Generator().manual_seed(0)
    masks, chosen = class_mix_masks(labels, generator=g)
    assert len(chosen[0]) == 2 and set(chosen[0]) <= {0, 1, 2, 3}       # ceil(0.5 * 4)
    assert chosen[1] == [5]                                              # ceil(0.5 * 1)
    for b in range(2):                                                   # mask = union of chosen classes
        ref = torch.zeros_like(labels[b], dtype=torch.bool)
        for c in chosen[b]:
            ref |= labels[b] == c
        assert torch.equal(masks[b], ref)
    assert not masks[labels == 255].any()
    # the same generator seed gives the same classes (known answer for this seed)
    again, chosen2 = class_mix_masks(labels, generator=torch.Generator().manual_seed(0))
    assert chosen2 == chosen and torch.equal(again, masks)
    # three classes -> ceil(1.5) = 2; all-ignore -> empty mask
    m, c = class_mix_masks(torch.tensor([[[1, 2, 3, 255]], [[255, 255, 255, 255]]]), generator=g)
    assert len(c[0]) == 2 and c[1] == [] and not m[1].any()


@pytest.mark.parametrize('area', [0.5, 0.25])
def test_cut_mix_is_one_rectangle_of_the_requested_area(area):
    g = torch.Generator().manual_seed(1)
    masks = cut_mix_masks(20, 64, 96, area=area, generator=g)
    for m in masks:
        ys, xs = torch.nonzero(m, as_tuple=True)
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert m.sum() == h * w                                          # a full rectangle
        assert abs(m.sum().item() / (64 * 96) - area) < 0.02
    with pytest.raises(ValueError, match='area=1.5'):
        cut_mix_masks(1, 8, 8, area=1.5)


def test_cow_mix_covers_the_proportion_and_its_scale_follows_sigma():
    g = torch.Generator().manual_seed(2)
    masks = cow_mix_masks(6, 64, 64, proportion=0.5, generator=g)
    assert all(m.sum().item() == 2048 for m in masks)
    fine = cow_mix_masks(4, 64, 64, sigma_range=(2.0, 2.0), generator=g)
    coarse = cow_mix_masks(4, 64, 64, sigma_range=(12.0, 12.0), generator=g)

    def boundary(ms):     # share of horizontally adjacent pixel pairs that differ
        return (ms[:, :, 1:] != ms[:, :, :-1]).float().mean().item()
    assert boundary(fine) > 2.5 * boundary(coarse)


def test_gaussian_blur_matches_direct_convolution():
    x = torch.randn(1, 1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    sigma, r = 1.5, 5
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64) ** 2 / (2 * sigma ** 2))
    k /= k.sum()
    xp = torch.nn.functional.pad(x, (r, r, r, r), mode='reflect')[0, 0]
    ref = torch.zeros(20, 24, dtype=torch.float64)
    for i in range(20):
        for j in range(24):
            ref[i, j] = (k[:, None] * k[None, :] * xp[i:i + 2 * r + 1, j:j + 2 * r + 1]).sum()
    assert torch.allclose(gaussian_blur(x, sigma)[0, 0], ref, atol=1e-12)


def test_mix_pairs_b_with_b_plus_one():
    x = torch.arange(3 * 2 * 2 * 2, dtype=torch.float32).view(3, 2, 2, 2)
    m = torch.tensor([[[1, 0], [0, 1]], [[0, 0], [0, 0]], [[1, 1], [1, 1]]], dtype=torch.bool)
    out = mix(x, m)
    for b in range(3):
        for i in range(2):
            for j in range(2):
                src = b if m[b, i, j] else (b + 1) % 3
                assert torch.equal(out[b, :, i, j], x[src, :, i, j])
    labels = torch.arange(12).view(3, 2, 2)
    assert torch.equal(mix(labels, m)[1], labels[2])                       # labels mix the same way


def test_confidence_weight_schemes():
    probs = torch.zeros(2, 3, 2, 2)
    probs[:, 0] = torch.tensor([[[0.99, 0.5], [0.97, 0.2]], [[0.96, 0.999], [0.1, 0.1]]])
    probs[:, 1] = 1 - probs[:, 0]
    confident = torch.tensor([[[1, 0], [1, 0]], [[0, 1], [0, 0]]], dtype=torch.float32)
    # max prob per pixel: 0.99 0.5->0.5 0.97 0.8 | 0.96 0.999 0.9 0.9 ; > 0.968: 0.99, 0.97, 0.999
    assert torch.allclose(confidence_weights(probs), torch.full((2, 2, 2), 3 / 8))
    assert torch.equal(confidence_weights(probs, 'pixel_threshold'), confident)
    assert torch.equal(confidence_weights(probs, 'constant', base=0.7), torch.full((2, 2, 2), 0.7))
    for k, want in ((0, math.exp(-5)), (5000, math.exp(-5 * 0.25)), (10000, 1.0), (20000, 1.0)):
        got = confidence_weights(probs, 'sigmoid_rampup', step=k)
        assert torch.allclose(got, torch.full((2, 2, 2), want))
    with pytest.raises(ValueError, match="scheme='soft'"):
        confidence_weights(probs, 'soft')
    one_class = torch.zeros(1, 3, 2, 2)
    one_class[:, 0] = 1.0
    assert torch.isfinite(confidence_weights(one_class)).all()


def test_teacher_momentum_warm_up():
    assert [teacher_momentum(k) for k in (0, 1, 3, 99, 1000)] == [0.0, 0.5, 0.75, 0.99, 0.99]

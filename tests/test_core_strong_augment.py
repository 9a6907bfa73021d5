"""Strong augmentation after mixing and distribution alignment (the ClassMix/DACS thesis) against known answers
and per-pixel references (colorsys, direct convolution)."""
import colorsys

import pytest
import torch
import torch.nn.functional as F

from segssl.core.distribution_alignment import DistributionAlignment, class_counts, class_frequencies
from segssl.core.strong_augment import (blur_kernel_size, color_jitter, hsv_to_rgb, random_gaussian_blur, rgb_to_hsv,
                                        strong_augment)


def test_hsv_round_trip_and_known_hues():
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    hsv = rgb_to_hsv(x)
    for n in range(2):
        for i in range(5):
            for j in range(6):
                ref = colorsys.rgb_to_hsv(*x[n, :, i, j].tolist())
                assert torch.allclose(hsv[n, :, i, j], torch.tensor(ref, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(hsv_to_rgb(hsv), x, atol=1e-12)
    red = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64).view(1, 3, 1, 1)
    shifted = rgb_to_hsv(red)
    shifted[:, 0] = (shifted[:, 0] + 1 / 3) % 1
    assert torch.allclose(hsv_to_rgb(shifted).flatten(), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))


def reference_jitter(x, b, c, a, h):
    """One image (3, H, W): brightness, contrast, saturation, hue pixel by pixel with colorsys."""
    gray = lambda p: 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]  # noqa: E731
    y = (x * b).clamp(0, 1)
    mean = sum(gray(y[:, i, j].tolist()) for i in range(x.shape[1])
               for j in range(x.shape[2])) / (x.shape[1] * x.shape[2])
    y = (c * y + (1 - c) * mean).clamp(0, 1)
    out = torch.empty_like(y)
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            p = y[:, i, j].tolist()
            g = gray(p)
            p = [min(1.0, max(0.0, a * v + (1 - a) * g)) for v in p]
            hh, ss, vv = colorsys.rgb_to_hsv(*p)
            out[:, i, j] = torch.tensor(colorsys.hsv_to_rgb((hh + h) % 1.0, ss, vv), dtype=x.dtype)
    return out


def test_color_jitter_matches_a_per_pixel_reference_for_the_seeded_draws():
    x = torch.rand(3, 3, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = color_jitter(x, 0.25, generator=torch.Generator().manual_seed(7))
    u = torch.rand(12, generator=torch.Generator().manual_seed(7), dtype=torch.float64).view(4, 3)
    b, c, a = (0.75 + 0.5 * u[k] for k in range(3))
    h = -0.25 + 0.5 * u[3]
    assert ((b >= 0.75) & (b <= 1.25)).all() and ((h >= -0.25) & (h <= 0.25)).all()
    for n in range(3):
        ref = reference_jitter(x[n], b[n].item(), c[n].item(), a[n].item(), h[n].item())
        assert torch.allclose(out[n], ref, atol=1e-10)
    assert torch.allclose(color_jitter(x, 0.0), x, atol=1e-12)  # strength 0: identity
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        color_jitter(x[:, :2], 0.25)


@pytest.mark.parametrize('length, size', [(1024, 103), (512, 51), (321, 33), (128, 13), (64, 7), (60, 5), (10, 1),
                                          (3, 1)])
def test_blur_kernel_is_the_odd_tenth_of_the_image(length, size):
    assert blur_kernel_size(length) == size


def test_random_gaussian_blur_matches_direct_2d_convolution():
    x = torch.rand(2, 3, 30, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out, sigma = random_gaussian_blur(x, generator=torch.Generator().manual_seed(3))
    assert torch.is_tensor(sigma) and sigma.dim() == 0  # stays on the device
    sigma = float(sigma)
    assert sigma == 0.15 + torch.rand((), generator=torch.Generator().manual_seed(3), dtype=torch.float64).item()
    ry, rx = 1, 2  # kernels 3 (ceil 3.0) and 5 (ceil 5.0)
    ky = torch.exp(-torch.arange(-ry, ry + 1, dtype=torch.float64)**2 / (2 * sigma**2))
    kx = torch.exp(-torch.arange(-rx, rx + 1, dtype=torch.float64)**2 / (2 * sigma**2))
    k2 = (ky / ky.sum())[:, None] * (kx / kx.sum())[None, :]
    xp = F.pad(x, (rx, rx, ry, ry), mode='reflect')
    ref = torch.zeros_like(x)
    for dy in range(2 * ry + 1):
        for dx in range(2 * rx + 1):
            ref += k2[dy, dx] * xp[:, :, dy:dy + 30, dx:dx + 50]
    assert torch.allclose(out, ref, atol=1e-12)
    const = torch.full((1, 3, 30, 50), 0.3, dtype=torch.float64)
    assert torch.allclose(random_gaussian_blur(const)[0], const, atol=1e-12)  # weights sum to 1


def test_strong_augment_probabilities_and_seeded_reproducibility():
    x = torch.rand(2, 3, 20, 40, generator=torch.Generator().manual_seed(4))
    same, info = strong_augment(x, jitter_p=0.0, blur_p=0.0)
    assert torch.equal(same, x) and not info['jitter'] and not info['blur'] and info['blur_sigma'] is None
    out, info = strong_augment(x, jitter_p=1.0, blur_p=1.0, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    torch.rand(2, generator=g, dtype=torch.float64)  # the two decisions
    ref, sigma = random_gaussian_blur(color_jitter(x, 0.25, g), generator=g)
    assert info['jitter'] and info['blur'] and info['blur_sigma'] == sigma and torch.allclose(out, ref)
    again, _ = strong_augment(x, jitter_p=1.0, blur_p=1.0, generator=torch.Generator().manual_seed(5))
    assert torch.equal(out, again)
    # probabilities in (0, 1): every factor and sigma is drawn, the decisions pick jitter / blur or not
    for seed in range(12):
        out, info = strong_augment(x, generator=torch.Generator().manual_seed(seed))
        g = torch.Generator().manual_seed(seed)
        u = torch.rand(2, generator=g, dtype=torch.float64)
        jittered = color_jitter(x, 0.25, g)
        ref = jittered if u[0] < 0.8 else x
        blurred, sigma = random_gaussian_blur(ref, generator=g)
        ref = blurred if u[1] < 0.5 else ref
        assert bool(info['jitter']) == bool(u[0] < 0.8) and bool(info['blur']) == bool(u[1] < 0.5)
        assert info['blur_sigma'] == sigma and torch.equal(out, ref)
    tiny = x[:1, :, :3, :3]  # the decision rates
    decisions = [strong_augment(tiny, generator=torch.Generator().manual_seed(s))[1] for s in range(400)]
    assert abs(sum(bool(d['jitter']) for d in decisions) / 400 - 0.8) < 0.06
    assert abs(sum(bool(d['blur']) for d in decisions) / 400 - 0.5) < 0.08
    with pytest.raises(ValueError, match='blur_p=1.5'):
        strong_augment(x, blur_p=1.5)


def test_class_frequencies_and_distribution_alignment_known_answer():
    labels = torch.tensor([[0, 0, 1, 255], [2, 255, 0, 1]])
    assert torch.allclose(class_frequencies(labels, 3), torch.tensor([0.5, 1 / 3, 1 / 6], dtype=torch.float64))
    assert class_frequencies(torch.full((2, 2), 255), 3).sum() == 0
    with pytest.raises(ValueError, match=r'outside \[0, 3\) besides ignore_index=255: \[-1, 3\]'):
        class_frequencies(torch.tensor([0, 3, 255, -1]), 3, check=True)
    # without the check (a training step: no host sync) values outside [0, K) are not counted
    assert torch.equal(class_frequencies(torch.tensor([0, 3, 255, -1, 2, 2]), 3),
                       torch.tensor([1 / 3, 0, 2 / 3], dtype=torch.float64))
    assert torch.equal(class_counts(torch.tensor([[0, 3], [255, 2]]), 3), torch.tensor([1., 0., 1.],
                                                                                       dtype=torch.float64))
    da = DistributionAlignment(prior=[1.0, 1.0], momentum=0.5)
    assert torch.allclose(da.running, torch.tensor([0.5, 0.5], dtype=torch.float64))
    q = torch.full((1, 2, 2, 2), 0.5)
    assert torch.allclose(da.align(q), q)  # identity at the start
    da.update(torch.zeros(1, 2, 2, dtype=torch.long))  # all class 0
    assert torch.allclose(da.running, torch.tensor([0.75, 0.25], dtype=torch.float64))
    # q * p / p~ = [0.5 * 0.5 / 0.75, 0.5 * 0.5 / 0.25] -> normalised [0.25, 0.75]
    assert torch.allclose(da.align(q)[0, :, 0, 0], torch.tensor([0.25, 0.75]))
    da.update(torch.full((1, 2, 2), 255))  # all ignore: unchanged
    assert torch.allclose(da.running, torch.tensor([0.75, 0.25], dtype=torch.float64))
    da_bad = DistributionAlignment(prior=[1.0, 1.0], momentum=0.5)  # outside [0, 2): ignored
    da_bad.update(torch.tensor([[[0, 7], [255, -3]]]))
    assert torch.equal(da_bad.running, torch.tensor([0.75, 0.25], dtype=torch.float64))
    assert set(da.state_dict()) == {'prior', 'running'}
    # forward = update with argmax, then align; 0.99 by default
    da2 = DistributionAlignment(prior=[0.2, 0.8])
    out = da2(torch.tensor([[0.9, 0.1]]).view(1, 2, 1, 1))
    assert torch.allclose(da2.running, torch.tensor([0.99 * 0.2 + 0.01, 0.99 * 0.8], dtype=torch.float64))
    r = torch.tensor([0.9 * 0.2 / da2.running[0].item(), 0.1 * 0.8 / da2.running[1].item()])
    assert torch.allclose(out.flatten(), r / r.sum())
    with pytest.raises(ValueError, match='prior'):
        DistributionAlignment(prior=[1.0, -1.0])
    with pytest.raises(ValueError, match='3 classes'):
        da2.align(torch.ones(1, 3, 1, 1))

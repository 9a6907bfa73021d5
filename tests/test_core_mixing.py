"""ClassMix / CutMix / CowMix masks, mixing, confidence weights, the weighted unsupervised loss
and the teacher EMA warm-up (the ClassMix/DACS thesis) against known answers and brute-force references."""
import math

import pytest
import torch

from segssl.core.consistency_weights import confidence_weights, teacher_momentum
from segssl.core.mixing import class_mix_masks, cow_mix_masks, cut_mix_masks, gaussian_blur, mix
from segssl.core.weighted_pixel_loss import weighted_pixel_loss


def present_classes(labels_b, num_classes, ignore=255):
    """Brute force: the sorted classes of [0, K) in one label map, the ignore label left out."""
    return sorted({int(v) for v in labels_b.flatten().tolist() if v != ignore and 0 <= v < num_classes})


def reference_class_mix(labels, p, seed, num_classes, ignore=255):
    """The documented draw, image by image in Python: one score u ~ U(0, 1) per (image, class)
    (float64, from a fresh generator seeded ``seed``), the ceil(p |C_b|) present classes of lowest
    score chosen; the mask pixel by pixel."""
    scores = torch.rand(labels.shape[0], num_classes, generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64)
    chosen, masks = [], torch.zeros(labels.shape, dtype=torch.bool)
    for b in range(labels.shape[0]):
        present = present_classes(labels[b], num_classes, ignore)
        k = math.ceil(p * len(present))
        pick = sorted(sorted(present, key=lambda c: scores[b, c].item())[:k])
        chosen.append(pick)
        for idx, v in enumerate(labels[b].flatten().tolist()):
            masks[b].view(-1)[idx] = v in pick
    return chosen, masks


def test_class_mix_known_answer_half_the_present_classes_never_ignore():
    labels = torch.tensor([[[0, 0, 1, 255], [2, 2, 1, 255], [3, 3, 3, 255]],
                           [[5, 5, 5, 5], [5, 5, 5, 5], [255, 255, 255, 255]]])
    masks, chosen = class_mix_masks(labels, generator=torch.Generator().manual_seed(0), num_classes=6)
    assert chosen.shape == (2, 6) and chosen.dtype == torch.bool and masks.dtype == torch.bool
    want_chosen, want_masks = reference_class_mix(labels, 0.5, 0, 6)
    assert [torch.nonzero(c).flatten().tolist() for c in chosen] == want_chosen
    assert len(want_chosen[0]) == 2 and set(want_chosen[0]) <= {0, 1, 2, 3}  # ceil(0.5 * 4)
    assert want_chosen[1] == [5]  # ceil(0.5 * 1)
    assert torch.equal(masks, want_masks) and not masks[labels == 255].any()
    # K read off the labels (one host sync): the largest non-ignored value + 1 = 6, the same draw
    again, chosen2 = class_mix_masks(labels, generator=torch.Generator().manual_seed(0))
    assert torch.equal(chosen2, chosen) and torch.equal(again, masks)
    # three classes -> ceil(1.5) = 2; all-ignore -> empty mask; p = 1: every present class
    m, c = class_mix_masks(torch.tensor([[[1, 2, 3, 255]], [[255, 255, 255, 255]]]), num_classes=4,
                           generator=torch.Generator().manual_seed(1))
    assert c.sum(1).tolist() == [2, 0] and not c[0, 0] and not m[1].any()
    m, c = class_mix_masks(labels, 1.0, num_classes=6)
    assert torch.equal(m, labels != 255)
    # values outside [0, K) besides the ignore label are never drawn; p outside [0, 1] is refused
    m, c = class_mix_masks(torch.tensor([[[0, 7, -1, 1]]]), 1.0, num_classes=2)
    assert m.tolist() == [[[True, False, False, True]]] and c.tolist() == [[True, True]]
    with pytest.raises(ValueError, match='proportion=1.5'):
        class_mix_masks(labels, 1.5)


@pytest.mark.parametrize('p', [0.25, 0.5, 1.0])
def test_class_mix_matches_the_brute_force_draw_on_random_labels(p):
    g = torch.Generator().manual_seed(10)
    k = 7
    labels = torch.randint(0, k, (6, 9, 11), generator=g)
    for b in range(6):  # each image its own subset of the classes, some ignore
        keep = torch.randperm(k, generator=g)[:1 + b]
        labels[b] = keep[labels[b] % len(keep)]
    labels[:, 0] = 255
    labels[5] = 255  # one image all ignored
    for seed in range(5):
        masks, chosen = class_mix_masks(labels, p, generator=torch.Generator().manual_seed(seed), num_classes=k)
        want_chosen, want_masks = reference_class_mix(labels, p, seed, k)
        assert [torch.nonzero(c).flatten().tolist() for c in chosen] == want_chosen
        assert torch.equal(masks, want_masks)
        for b in range(6):  # the invariants, spelled out
            present = present_classes(labels[b], k)
            assert set(want_chosen[b]) <= set(present) and len(want_chosen[b]) == math.ceil(p * len(present))
            assert torch.equal(masks[b], torch.isin(labels[b], torch.tensor(want_chosen[b], dtype=torch.long)))


def test_class_mix_choice_is_uniform_over_the_subsets():
    # 6000 images with classes {0, 1, 2, 3} (+ ignore), k = 2: each of the 6 pairs ~ 1/6
    labels = torch.tensor([0, 1, 2, 3, 255]).repeat(6000, 1, 1)
    _, chosen = class_mix_masks(labels, generator=torch.Generator().manual_seed(3), num_classes=4)
    assert (chosen.sum(1) == 2).all()
    pairs = chosen.long() @ torch.tensor([1, 2, 4, 8])
    freq = torch.bincount(pairs, minlength=16)[[3, 5, 6, 9, 10, 12]].double() / 6000
    assert freq.sum() == 1 and (freq - 1 / 6).abs().max() < 0.025  # 5 standard deviations


def reference_cut_mix(n, height, width, area, seed):
    """The documented draw box by box in Python floats: u (3, n) float64 -> aspect, sides, corner."""
    u = torch.rand(3, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).tolist()
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for b in range(n):
        r = math.exp((u[0][b] * 2 - 1) * math.log(1 / area))
        h = min(height, max(1, round(math.sqrt(area * height * width * r))))
        w = min(width, max(1, round(area * height * width / h)))
        y, x = math.floor(u[1][b] * (height - h + 1)), math.floor(u[2][b] * (width - w + 1))
        masks[b, y:y + h, x:x + w] = True
    return masks


@pytest.mark.parametrize('area', [0.5, 0.25, 1.0])
def test_cut_mix_is_one_rectangle_of_the_requested_area(area):
    masks = cut_mix_masks(20, 64, 96, area=area, generator=torch.Generator().manual_seed(1))
    assert masks.device.type == 'cpu' and masks.shape == (20, 64, 96)
    assert torch.equal(masks, reference_cut_mix(20, 64, 96, area, 1))
    for m in masks:
        ys, xs = torch.nonzero(m, as_tuple=True)
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert m.sum() == h * w  # a full rectangle
        assert abs(m.sum().item() / (64 * 96) - area) < 0.02
    with pytest.raises(ValueError, match='area=1.5'):
        cut_mix_masks(1, 8, 8, area=1.5)


def test_cut_mix_corners_cover_every_position():
    # a 1 x 8 image at area 0.5: h is clamped to 1 whatever the aspect, so w = 4, and the corner
    # is uniform over the 5 positions that fit
    masks = cut_mix_masks(5000, 1, 8, area=0.5, generator=torch.Generator().manual_seed(4))
    assert (masks.sum((1, 2)) == 4).all()
    start = masks[:, 0].float().argmax(1)
    freq = torch.bincount(start, minlength=5).double() / 5000
    assert (freq - 0.2).abs().max() < 0.03


def reference_cow_mix(n, height, width, p, sigma_range, seed):
    """The documented draw with a direct 2-D convolution in float64 of the same noise: sigma per
    mask, noise, blur (radius ceil(3 sigma_max), reflect padding), its top round(p H W)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = sigma_range
    sigma = torch.exp(math.log(lo) + torch.rand(n, generator=g) * (math.log(hi) - math.log(lo))).double()
    noise = torch.randn(n, 1, height, width, generator=g).double()
    r = math.ceil(3 * hi)
    ry, rx = min(r, height - 1), min(r, width - 1)
    fields = torch.zeros(n, height, width, dtype=torch.float64)
    for b in range(n):
        ky = torch.exp(-torch.arange(-ry, ry + 1, dtype=torch.float64)**2 / (2 * sigma[b]**2))
        kx = torch.exp(-torch.arange(-rx, rx + 1, dtype=torch.float64)**2 / (2 * sigma[b]**2))
        k2 = (ky / ky.sum())[:, None] * (kx / kx.sum())[None]
        xp = torch.nn.functional.pad(noise[b:b + 1], (rx, rx, ry, ry), mode='reflect')[0, 0]
        for i in range(height):
            for j in range(width):
                fields[b, i, j] = (k2 * xp[i:i + 2 * ry + 1, j:j + 2 * rx + 1]).sum()
    return fields, round(p * height * width)


def test_cow_mix_is_the_top_proportion_of_the_blurred_noise():
    masks = cow_mix_masks(3, 12, 16, proportion=0.4, sigma_range=(1.5, 3.0), generator=torch.Generator().manual_seed(5))
    fields, k = reference_cow_mix(3, 12, 16, 0.4, (1.5, 3.0), 5)
    assert k == 77 and (masks.flatten(1).sum(1) == k).all()
    for b in range(3):
        f = fields[b].flatten()
        thr = f.topk(k).values[-1]
        clear = (f - thr).abs() > 1e-5  # float32 vs float64: only near-ties may differ
        assert clear.sum() >= len(f) - 2
        assert torch.equal(masks[b].flatten()[clear], (f >= thr)[clear])


def test_cow_mix_covers_the_proportion_and_its_scale_follows_sigma():
    g = torch.Generator().manual_seed(2)
    masks = cow_mix_masks(6, 64, 64, proportion=0.5, generator=g)
    assert all(m.sum().item() == 2048 for m in masks)
    again = cow_mix_masks(6, 64, 64, proportion=0.5, generator=torch.Generator().manual_seed(2))
    assert torch.equal(masks, again)  # a seed gives its masks
    fine = cow_mix_masks(4, 64, 64, sigma_range=(2.0, 2.0), generator=g)
    coarse = cow_mix_masks(4, 64, 64, sigma_range=(12.0, 12.0), generator=g)

    def boundary(ms):  # share of horizontally adjacent pixel pairs that differ
        return (ms[:, :, 1:] != ms[:, :, :-1]).float().mean().item()

    assert boundary(fine) > 2.5 * boundary(coarse)
    assert not cow_mix_masks(2, 8, 8, proportion=0.0).any() and cow_mix_masks(2, 8, 8, proportion=1.0).all()
    with pytest.raises(ValueError, match='sigma_range'):
        cow_mix_masks(1, 8, 8, sigma_range=(4.0, 2.0))


def test_gaussian_blur_matches_direct_convolution():
    x = torch.randn(1, 1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    sigma, r = 1.5, 5
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64)**2 / (2 * sigma**2))
    k /= k.sum()
    xp = torch.nn.functional.pad(x, (r, r, r, r), mode='reflect')[0, 0]
    ref = torch.zeros(20, 24, dtype=torch.float64)
    for i in range(20):
        for j in range(24):
            ref[i, j] = (k[:, None] * k[None, :] * xp[i:i + 2 * r + 1, j:j + 2 * r + 1]).sum()
    assert torch.allclose(gaussian_blur(x, sigma)[0, 0], ref, atol=1e-12)
    assert torch.allclose(gaussian_blur(x, torch.tensor(sigma), radius=(r, r))[0, 0], ref, atol=1e-12)


def test_gaussian_blur_with_one_sigma_per_map():
    x = torch.randn(3, 1, 9, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    sigma = torch.tensor([0.7, 1.5, 4.0], dtype=torch.float64)
    out = gaussian_blur(x, sigma, radius=(6, 6))
    for b in range(3):  # radius 6 clamped to 8 / 12: a map's own blur
        assert torch.allclose(out[b], gaussian_blur(x[b:b + 1], float(sigma[b]), radius=(6, 6))[0], atol=1e-12)
    with pytest.raises(ValueError, match='needs radius'):
        gaussian_blur(x, sigma)
    with pytest.raises(ValueError, match='3 sigmas'):
        gaussian_blur(x[:2], sigma, radius=(2, 2))


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
    assert torch.equal(mix(labels, m)[1], labels[2])  # labels mix the same way


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


# ---- the weighted unsupervised loss (segssl.core.weighted_pixel_loss) -----------------------------
def brute_force_loss(logits, targets, weights, kind, ignore=255):
    n, c, h, w = logits.shape
    total = 0.0
    for b in range(n):
        for i in range(h):
            for j in range(w):
                q = torch.softmax(logits[b, :, i, j], 0)
                if targets.is_floating_point():
                    y = targets[b, :, i, j]
                elif targets[b, i, j] == ignore:
                    continue
                else:
                    y = torch.zeros(c, dtype=logits.dtype)
                    y[targets[b, i, j]] = 1
                l = -(y * q.log()).sum() if kind == 'ce' else ((y - q)**2).sum()
                total += weights[b, i, j] * l
    return total / (n * h * w)


@pytest.mark.parametrize('kind', ['ce', 'squared_error'])
@pytest.mark.parametrize('soft', [False, True])
def test_weighted_pixel_loss_matches_brute_force(kind, soft):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64)
    weights = torch.rand(2, 3, 5, generator=g, dtype=torch.float64)
    if soft:
        targets = torch.softmax(torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64), 1)
    else:
        targets = torch.randint(0, 4, (2, 3, 5), generator=g)
        targets[0, 1, 2] = targets[1, 0, 0] = 255
    got = weighted_pixel_loss(logits, targets, weights, kind)
    assert torch.allclose(got, torch.as_tensor(brute_force_loss(logits, targets, weights, kind)), atol=1e-12)
    all_ignored = torch.full((2, 3, 5), 255)
    assert weighted_pixel_loss(logits, all_ignored, weights, kind) == 0
    with pytest.raises(ValueError, match='kind'):
        weighted_pixel_loss(logits, targets, weights, 'l1')

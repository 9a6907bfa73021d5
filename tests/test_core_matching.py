"""Positive-pair matching and the pixel consistency loss against pixel-by-pixel references."""
import math
import random

import pytest
import torch

from segssl.core import (MomentumBatchNorm2d, convert_to_momentum_bn, cosine_momentum, ema_update, lattice_from_boxes,
                         pixel_consistency_loss, positive_pairs_dense, sum_positive_targets)
from segssl.core.matching import matching_window

pytestmark = pytest.mark.usefixtures('float64_default')  # references compared at 1e-10


def centre_by_hand(box, flip, r, c, H, W, view=None, warp=None):
    """Centre of feature bin (r, c) in original-image coordinates, computed step by step."""
    x1, y1, x2, y2 = box
    if warp is None:
        vx, vy = (c + 0.5) / W, (r + 0.5) / H  # fraction of the view
    else:
        vh, vw = view
        px, py = (c + 0.5) * vw / W, (r + 0.5) * vh / H  # pixel in the warped view
        ux = warp[0][0] * px + warp[0][1] * py + warp[0][2]  # pixel in the un-warped view
        uy = warp[1][0] * px + warp[1][1] * py + warp[1][2]
        vx, vy = ux / vw, uy / vh
    x = x2 - vx * (x2 - x1) if flip else x1 + vx * (x2 - x1)
    return x, y1 + vy * (y2 - y1)


def pairs_by_hand(b1, f1, b2, f2, H1, W1, H2, W2, tau, view=None, warp2=None):
    d1 = math.hypot((b1[2] - b1[0]) / W1, (b1[3] - b1[1]) / H1)
    if warp2 is None:
        d2 = math.hypot((b2[2] - b2[0]) / W2, (b2[3] - b2[1]) / H2)
    else:  # bin diagonal = |M (1, 1)|: the image of one bin step in both axes
        p0 = centre_by_hand(b2, f2, 0, 0, H2, W2, view, warp2)
        p1 = centre_by_hand(b2, f2, 1, 1, H2, W2, view, warp2)
        d2 = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
    A = torch.zeros(H1 * W1, H2 * W2, dtype=torch.bool)
    for i in range(H1 * W1):
        ci = centre_by_hand(b1, f1, i // W1, i % W1, H1, W1)
        for j in range(H2 * W2):
            cj = centre_by_hand(b2, f2, j // W2, j % W2, H2, W2, view, warp2)
            A[i, j] = math.hypot(ci[0] - cj[0], ci[1] - cj[1]) / max(d1, d2) <= tau
    return A


def random_box(rng, size=224):
    s = math.sqrt(rng.uniform(0.08, 1.0)) * size
    w, h = s * rng.uniform(0.8, 1.25), s * rng.uniform(0.8, 1.25)
    x1, y1 = rng.uniform(0, size - w), rng.uniform(0, size - h)
    return [x1, y1, x1 + w, y1 + h]


@pytest.mark.parametrize('seed', range(4))
def test_dense_pairs_equal_pixel_by_pixel_reference_with_flips(seed):
    rng = random.Random(seed)
    b1, b2 = random_box(rng), random_box(rng)
    f1, f2 = bool(seed % 2), bool(seed // 2)
    la = lattice_from_boxes(torch.tensor([b1]), torch.tensor([f1]), 5, 6)
    lb = lattice_from_boxes(torch.tensor([b2]), torch.tensor([f2]), 4, 4)
    A = positive_pairs_dense(la, lb, 0.7)[0]
    assert torch.equal(A, pairs_by_hand(b1, f1, b2, f2, 5, 6, 4, 4, 0.7))


def test_dense_pairs_with_an_affine_view():
    b1, b2 = [10., 20., 150., 170.], [30., 10., 200., 190.]
    a = math.radians(30)
    # inverse warp: rotation about the view centre + translation + shear, in view pixels
    cx = cy = 112.
    R = [[math.cos(a), -math.sin(a) + 0.15], [math.sin(a), math.cos(a)]]
    warp = [[R[0][0], R[0][1], cx - R[0][0] * cx - R[0][1] * cy + 10],
            [R[1][0], R[1][1], cy - R[1][0] * cx - R[1][1] * cy - 10]]
    la = lattice_from_boxes(torch.tensor([b1]), torch.tensor([False]), 7, 7)
    lb = lattice_from_boxes(torch.tensor([b2]), torch.tensor([True]), 7, 7, view_size=(224, 224),
                            warp=torch.tensor([warp]))
    A = positive_pairs_dense(la, lb, 0.7)[0]
    ref = pairs_by_hand(b1, False, b2, True, 7, 7, 7, 7, 0.7, view=(224, 224), warp2=warp)
    assert torch.equal(A, ref) and ref.sum() > 10


@pytest.mark.parametrize('seed', range(6))
def test_sparse_sums_equal_dense_pairs(seed):
    rng = random.Random(100 + seed)
    N, C = 3, 4
    boxes1 = torch.tensor([random_box(rng) for _ in range(N)])
    boxes2 = torch.tensor([random_box(rng) for _ in range(N)])
    flips1 = torch.tensor([rng.random() < 0.5 for _ in range(N)])
    flips2 = torch.tensor([rng.random() < 0.5 for _ in range(N)])
    warp = None
    if seed >= 3:  # affine on view 2
        a = math.radians(rng.uniform(-45, 45))
        warp = torch.tensor([[[math.cos(a), -math.sin(a), 40.], [math.sin(a), math.cos(a), -30.]]] * N)
    H1, W1, H2, W2 = 6, 7, 9, 8
    la = lattice_from_boxes(boxes1, flips1, H1, W1)
    lb = lattice_from_boxes(boxes2, flips2, H2, W2, view_size=(224, 224) if warp is not None else None, warp=warp)
    target = torch.randn(N, C, H2, W2)
    sums, counts = sum_positive_targets(target, la, lb, 0.7)
    A = positive_pairs_dense(la, lb, 0.7).to(target.dtype)
    assert torch.allclose(sums, torch.bmm(target.flatten(2), A.transpose(1, 2)), atol=1e-12)
    assert torch.equal(counts, A.sum(2))


def test_sparse_matching_handles_extreme_scale_ratios():
    la = lattice_from_boxes(torch.tensor([[0., 0., 224., 224.]]), torch.tensor([False]), 7, 7)
    lb = lattice_from_boxes(torch.tensor([[100., 100., 163., 163.]]), torch.tensor([True]), 14, 14)
    t = torch.randn(1, 3, 14, 14)
    sums, counts = sum_positive_targets(t, la, lb, 0.7)
    A = positive_pairs_dense(la, lb, 0.7).to(t.dtype)
    assert counts.sum() > 0 and torch.equal(counts, A.sum(2))
    assert torch.allclose(sums, torch.bmm(t.flatten(2), A.transpose(1, 2)))


def test_sparse_window_is_tight_for_very_different_scales():
    """Bins of 32 px (view a: the whole image on 7x7) against bins of 2 px (view b: an 80 px crop on
    40x40). reach = |M_b^-1| tau max diag = 0.5 * 0.7 * 32 sqrt(2) = 15.84 bins, so
    K = floor(2 reach) + 1 = 32, and one pixel of a has positives in 32 rows of b: a window of 31
    misses pairs, the default finds every pair of the dense reference."""
    la = lattice_from_boxes(torch.tensor([[0., 0., 224., 224.]]), torch.tensor([False]), 7, 7)
    lb = lattice_from_boxes(torch.tensor([[60., 70., 140., 150.]]), torch.tensor([True]), 40, 40)
    K = matching_window(la, lb, 0.7)
    assert K == math.floor(2 * 0.5 * 0.7 * 32 * math.sqrt(2)) + 1 == 32
    A = positive_pairs_dense(la, lb, 0.7)[0]
    rows, cols = torch.arange(40 * 40) // 40, torch.arange(40 * 40) % 40
    spans = [max(int(idx[A[i]].max() - idx[A[i]].min()) + 1 for i in range(49) if A[i].any()) for idx in (rows, cols)]
    assert max(spans) == K  # the bound is met by a real pixel
    t = torch.randn(1, 3, 40, 40, generator=torch.Generator().manual_seed(5))
    ref_sums, ref_counts = torch.bmm(t.flatten(2), A[None].to(t.dtype).transpose(1, 2)), A.sum(1)[None]
    for window in (None, K, K + 3):
        sums, counts = sum_positive_targets(t, la, lb, 0.7, window=window)
        assert torch.equal(counts, ref_counts.to(counts.dtype)) and torch.allclose(sums, ref_sums, atol=1e-12)
    _, short = sum_positive_targets(t, la, lb, 0.7, window=K - 1)
    assert short.sum() < A.sum()
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match='window='):
            sum_positive_targets(t, la, lb, 0.7, window=bad)


def test_window_is_sized_from_the_host_geometry_without_reading_the_device():
    """A lattice moved with ``.to(device)`` keeps its CPU geometry: the window comes from it, so the
    whole sparse loss runs on the 'meta' device, where reading any value (``.item()``, ``int()``)
    raises. Without the CPU copy the window must be read from the device: that raises there."""
    boxes = [torch.tensor([random_box(random.Random(s)) for s in range(k, k + 3)]) for k in (0, 3)]
    la = lattice_from_boxes(boxes[0], torch.tensor([False, True, False]), 6, 6)
    lb = lattice_from_boxes(boxes[1], torch.tensor([True, True, False]), 6, 6)
    ma, mb = la.to('meta'), lb.to('meta')
    assert ma.on_host() is la and mb.to('meta').on_host() is lb
    assert matching_window(ma, mb) == matching_window(la, lb) == matching_window(la.to('cpu'), lb)
    maps = [torch.empty(3, 4, 6, 6, device='meta', requires_grad=True) for _ in range(4)]
    sums, counts = sum_positive_targets(maps[1].detach(), ma, mb)
    assert sums.shape == (3, 4, 36) and counts.shape == (3, 36) and sums.is_meta
    loss = pixel_consistency_loss(*maps, ma, mb, dense=False)
    loss.backward()
    assert loss.is_meta and maps[0].grad.shape == (3, 4, 6, 6)
    ma.host = None
    with pytest.raises((RuntimeError, NotImplementedError)):
        sum_positive_targets(maps[1].detach(), ma, mb)


def test_loss_hand_made_case():
    """Same box for both views, square bins: tau * diag = 0.99 bin < 1 bin, so only i == j pair.
    y1 = x2' gives cos 1, y2 = -x1' gives cos -1: L = -(1) - (-1) = 0; with y2 = x1': L = -2."""
    torch.manual_seed(0)
    box = torch.tensor([[0., 0., 40., 40.]])
    l1 = l2 = lattice_from_boxes(box, torch.tensor([False]), 2, 2)
    x1, x2 = torch.randn(1, 3, 2, 2), torch.randn(1, 3, 2, 2)
    for dense in (False, True):
        assert positive_pairs_dense(l1, l2)[0].equal(torch.eye(4, dtype=torch.bool))
        assert abs(pixel_consistency_loss(x2.clone(), x2, -x1, x1, l1, l2, dense=dense).item()) < 1e-12
        assert abs(pixel_consistency_loss(x2 * 3, x2, x1 * 0.5, x1, l1, l2, dense=dense).item() + 2) < 1e-12
    # one known cosine: cos(y1_0, x2'_0) = 0 for orthogonal vectors at pixel 0
    y1 = x2.clone()
    y1[0, :, 0, 0] = torch.tensor([1., 0, 0])
    x2b = x2.clone()
    x2b[0, :, 0, 0] = torch.tensor([0., 1, 0])
    loss = pixel_consistency_loss(y1, x2b, x1, x1, l1, l2)
    assert abs(loss.item() - (-(0 + 1 + 1 + 1) / 4 - 1)) < 1e-12


def test_loss_gradients_reach_only_the_online_branch_and_are_zero_without_overlap():
    torch.manual_seed(1)
    y1, y2 = torch.randn(2, 4, 3, 3, requires_grad=True), torch.randn(2, 4, 3, 3, requires_grad=True)
    t1, t2 = torch.randn(2, 4, 3, 3, requires_grad=True), torch.randn(2, 4, 3, 3, requires_grad=True)
    b1 = torch.tensor([[0., 0., 50., 50.], [0., 0., 50., 50.]])
    b2 = torch.tensor([[10., 10., 60., 60.], [150., 150., 200., 200.]])  # image 2: no overlap
    f = torch.tensor([False, True])
    l1, l2 = lattice_from_boxes(b1, f, 3, 3), lattice_from_boxes(b2, f, 3, 3)
    sparse = pixel_consistency_loss(y1, t2, y2, t1, l1, l2, dense=False)
    dense = pixel_consistency_loss(y1, t2, y2, t1, l1, l2, dense=True)
    assert torch.allclose(sparse, dense)
    sparse.backward()
    assert t1.grad is None and t2.grad is None
    assert torch.isfinite(y1.grad).all() and y1.grad[0].abs().sum() > 0
    assert torch.equal(y1.grad[1], torch.zeros_like(y1.grad[1]))  # no positives, no gradient
    # a batch of only non-overlapping pairs: loss exactly 0, finite gradient
    lz1, lz2 = lattice_from_boxes(b1[:1], f[:1], 3, 3), lattice_from_boxes(b2[1:], f[:1], 3, 3)
    for dense in (False, True):
        y = torch.randn(1, 4, 3, 3, requires_grad=True)
        loss = pixel_consistency_loss(y, t2[:1], y, t1[:1], lz1, lz2, dense=dense)
        loss.backward()
        assert loss.item() == 0 and torch.isfinite(y.grad).all()


def test_default_matching_is_dense_for_small_maps_and_sparse_for_large(monkeypatch):
    """dense=None: the (HW, HW) matrix up to DENSE_MAX_PAIRS (21 x 21 maps), the sparse window
    above; the same loss either way."""
    from segssl.core import pixpro_loss as pc

    def fails(*args, **kwargs):
        raise AssertionError('this path must not run')

    g = torch.Generator().manual_seed(4)
    for side, forbidden in ((21, 'sum_positive_targets'), (22, 'positive_pairs_dense')):
        la = lattice_from_boxes(torch.tensor([[0., 0., 100., 100.]]), torch.tensor([False]), side, side)
        lb = lattice_from_boxes(torch.tensor([[20., 10., 140., 130.]]), torch.tensor([True]), side, side)
        maps = [torch.randn(1, 8, side, side, generator=g, dtype=torch.float64) for _ in range(4)]
        expected = pixel_consistency_loss(*maps, la, lb, dense=forbidden == 'sum_positive_targets')
        with monkeypatch.context() as m:
            m.setattr(pc, forbidden, fails)
            assert pixel_consistency_loss(*maps, la, lb) == expected
    assert pc.DENSE_MAX_PAIRS == 21**4


def test_ema_and_cosine_schedule_match_their_formulas():
    torch.manual_seed(2)
    online, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    ema_update(target, online, 0.9)
    for k, v in target.state_dict().items():
        assert torch.allclose(v, 0.9 * before[k] + 0.1 * online.state_dict()[k])
    assert cosine_momentum(0, 100) == pytest.approx(0.99)
    assert cosine_momentum(50, 100) == pytest.approx(0.995)
    assert cosine_momentum(100, 100) == pytest.approx(1.0)
    assert cosine_momentum(25, 100) == pytest.approx(1 - 0.01 * (math.cos(math.pi / 4) + 1) / 2)
    with pytest.raises(ValueError, match='momentum=1.5'):
        ema_update(target, online, 1.5)


def test_momentum_bn_follows_eq_2_8():
    torch.manual_seed(3)
    bn = MomentumBatchNorm2d(3, stat_momentum=0.8).train()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1., 2., 0.5]))
        bn.bias.copy_(torch.tensor([0., 1., -1.]))
    xs = [torch.randn(4, 3, 5, 5) * (k + 1) + k for k in range(3)]
    mu, var = None, None
    for x in xs:
        bm, bv = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
        mu = bm if mu is None else 0.2 * bm + 0.8 * mu  # mu_t = (1 - a) mu_batch + a mu_{t-1}
        var = bv if var is None else 0.2 * bv + 0.8 * var
        out = bn(x)
        ref = (x - mu[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + 1e-5)
        ref = ref * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]
        assert torch.allclose(out, ref, atol=1e-10)
    assert torch.allclose(bn.running_mean, mu) and torch.allclose(bn.running_var, var)
    net = convert_to_momentum_bn(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.BatchNorm2d(3)))
    assert isinstance(net[1], MomentumBatchNorm2d)

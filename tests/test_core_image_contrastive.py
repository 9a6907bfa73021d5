"""BYOL loss, NT-Xent and the video anchor loss against loop references written here, and the
BYOL target-momentum schedule (tau 0.996 -> 1, cosine) against its formula."""
import math

import pytest
import torch

from segssl.core import anchor_weights, byol_loss, cosine_momentum, nt_xent_loss, symmetric_byol_loss, video_anchor_loss


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def nt_xent_reference(z_a, z_b, tau):
    """SimCLR's definition, one anchor and one denominator term at a time."""
    u = [list(map(float, r)) for r in torch.cat([z_a, z_b])]
    n2, n = len(u), len(z_a)
    total = 0.0
    for i in range(n2):
        pos = i + n if i < n else i - n
        terms = [math.exp(cos(u[i], u[k]) / tau) for k in range(n2) if k != i]
        assert len(terms) == n2 - 1  # the 2N - 1 other embeddings
        total += -math.log(math.exp(cos(u[i], u[pos]) / tau) / sum(terms))
    return total / n2


@pytest.mark.parametrize('n, d, tau', [(1, 3, 0.5), (2, 4, 0.5), (5, 7, 0.5), (6, 16, 0.1), (4, 3, 2.0)])
def test_nt_xent_equals_loop_reference(n, d, tau):
    g = torch.Generator().manual_seed(n * 100 + d)
    z_a = torch.randn(n, d, generator=g, dtype=torch.float64) * 3
    z_b = torch.randn(n, d, generator=g, dtype=torch.float64)
    assert float(nt_xent_loss(z_a, z_b, tau)) == pytest.approx(nt_xent_reference(z_a, z_b, tau), abs=1e-10)


def test_nt_xent_known_answers_and_invariants():
    # orthonormal rows, z_b = z_a: s_pos = 1, every other s = 0 -> l = -log(e^{1/t} / (e^{1/t} + 2N-2))
    n, tau = 3, 0.5
    z = torch.eye(n, 5, dtype=torch.float64)
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * n - 2))
    assert float(nt_xent_loss(z, z, tau)) == pytest.approx(expected, abs=1e-12)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, generator=g, dtype=torch.float64), torch.randn(4, 6, generator=g, dtype=torch.float64)
    base = float(nt_xent_loss(a, b))
    assert float(nt_xent_loss(b, a)) == pytest.approx(base, abs=1e-12)  # symmetric
    assert float(nt_xent_loss(a * 7, b * 0.1)) == pytest.approx(base, abs=1e-12)  # scale-free
    perm = torch.tensor([2, 0, 3, 1])
    assert float(nt_xent_loss(a[perm], b[perm])) == pytest.approx(base, abs=1e-12)  # order-free
    a.requires_grad_(True)
    nt_xent_loss(a, b).backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='temperature'):
        nt_xent_loss(a, b, 0.0)
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        nt_xent_loss(a, b[:3])


def test_byol_loss_matches_formula():
    g = torch.Generator().manual_seed(1)
    p1, p2, z1, z2 = (torch.randn(5, 8, generator=g, dtype=torch.float64) for _ in range(4))

    def ref(p, z):
        return sum(2 - 2 * cos(list(map(float, a)), list(map(float, b))) for a, b in zip(p, z)) / len(p)

    assert float(byol_loss(p1, z2)) == pytest.approx(ref(p1, z2), abs=1e-12)
    # the normalised-MSE form of the Mask R-CNN thesis's eq. 10
    mse = ((p1 / p1.norm(dim=1, keepdim=True) - z2 / z2.norm(dim=1, keepdim=True))**2).sum(1).mean()
    assert float(byol_loss(p1, z2)) == pytest.approx(float(mse), abs=1e-12)
    assert float(symmetric_byol_loss(p1, p2, z1, z2)) == pytest.approx(ref(p1, z2) + ref(p2, z1), abs=1e-12)
    assert float(symmetric_byol_loss(p1, p2, z1, z2, symmetric=False)) == pytest.approx(ref(p1, z2), abs=1e-12)
    assert float(byol_loss(p1, 3 * p1)) == pytest.approx(0.0, abs=1e-12)
    assert float(byol_loss(p1, -p1)) == pytest.approx(4.0, abs=1e-12)
    # stop-gradient: no gradient reaches the target
    p1.requires_grad_(True)
    z2.requires_grad_(True)
    byol_loss(p1, z2).backward()
    assert p1.grad.abs().sum() > 0 and z2.grad is None


def test_byol_momentum_schedule_is_cosine_from_0996_to_1():
    K = 250
    for k in (0, 1, 60, 125, 200, 249, 250, 300):
        kk = min(k, K)
        expected = 1 - (1 - 0.996) * (math.cos(math.pi * kk / K) + 1) / 2
        assert cosine_momentum(k, K, base=0.996) == pytest.approx(expected, abs=1e-15)
    assert cosine_momentum(0, K, base=0.996) == pytest.approx(0.996)
    assert cosine_momentum(K // 2, K, base=0.996) == pytest.approx(0.998)
    assert cosine_momentum(K, K, base=0.996) == 1.0


def test_anchor_weights():
    assert anchor_weights(4).tolist() == [0.25, 0.5, 0.75, 1.0]
    assert anchor_weights(2, 'uniform').tolist() == [0.5, 0.5]
    assert anchor_weights(2, [1.0, 0.25]).tolist() == [1.0, 0.25]
    for bad in ([0.5], [0.5, 1.5]):
        with pytest.raises(ValueError, match='anchor_weights'):
            anchor_weights(2, bad)
    with pytest.raises(ValueError, match='scheme'):
        anchor_weights(2, 'cubic')


def test_video_anchor_loss_equals_loop_reference():
    g = torch.Generator().manual_seed(2)
    n, p, d, tau = 3, 4, 5, 0.5
    z0 = torch.randn(n, d, generator=g, dtype=torch.float64)
    frames = torch.randn(n, p, d, generator=g, dtype=torch.float64)
    lam = torch.tensor([0.1, 0.4, 0.0, 1.0], dtype=torch.float64)
    ref = sum(float(lam[i]) * nt_xent_reference(z0, frames[:, i], tau) for i in range(p))
    assert float(video_anchor_loss(z0, frames, lam, tau)) == pytest.approx(ref, abs=1e-10)
    with pytest.raises(ValueError, match='weights'):
        video_anchor_loss(z0, frames, lam[:3])

"""PPM, LocalPPM and the self-attention head against explicit loops over pixels (the PixPro thesis)."""
import math

import pytest
import torch
import torch.nn.functional as F

from segssl.core import (LocalPixelPropagation, PixelPropagation, SelfAttentionPropagation,
                         sinusoidal_position_encoding_2d)

pytestmark = pytest.mark.usefixtures('float64_default')  # references compared at 1e-10


def brute_force_ppm(x, g, gamma, same_region, normalize_value=True):
    """y_i = sum_{j in Omega(i)} max(cos(x_i, x_j), 0)^gamma g(x_j), one pixel pair at a time."""
    N, C, H, W = x.shape
    v = g(x)
    if normalize_value:
        v = F.normalize(v, dim=1)
    y = torch.zeros_like(v)
    for n in range(N):
        for i in range(H * W):
            ri, ci = divmod(i, W)
            for j in range(H * W):
                rj, cj = divmod(j, W)
                if not same_region(ri, ci, rj, cj):
                    continue
                cos = torch.dot(x[n, :, ri, ci], x[n, :, rj, cj]) / (x[n, :, ri, ci].norm() * x[n, :, rj, cj].norm())
                y[n, :, ri, ci] += cos.clamp(min=0)**gamma * v[n, :, rj, cj]
    return y


@pytest.mark.parametrize('gamma', [2.0, 1.0])
@pytest.mark.parametrize('value_transform', ['conv', 'linear_bn_relu'])
def test_ppm_equals_double_loop(gamma, value_transform):
    torch.manual_seed(0)
    head = PixelPropagation(6, gamma=gamma, value_transform=value_transform).eval()
    x = torch.randn(2, 6, 3, 4)
    ref = brute_force_ppm(x, head.value, gamma, lambda *a: True)
    assert torch.allclose(head(x), ref, atol=1e-10)


@pytest.mark.parametrize('frame, hw', [(2, (4, 4)), (3, (5, 7)), (5, (7, 6))])
def test_local_ppm_equals_double_loop_within_frames(frame, hw):
    torch.manual_seed(1)
    head = LocalPixelPropagation(5, frame=frame).eval()
    x = torch.randn(2, 5, *hw)

    def same_frame(ri, ci, rj, cj):
        return ri // frame == rj // frame and ci // frame == cj // frame

    ref = brute_force_ppm(x, head.value, 2.0, same_frame)
    assert torch.allclose(head(x), ref, atol=1e-10)


@pytest.mark.parametrize('frame', [7, 9])
def test_local_ppm_with_frame_covering_the_map_equals_ppm(frame):
    torch.manual_seed(2)
    ppm = PixelPropagation(8).eval()
    local = LocalPixelPropagation(8, frame=frame).eval()
    local.load_state_dict(ppm.state_dict())
    x = torch.randn(3, 8, 7, 5)  # n=7: no padding on H, 2 columns of padding on W
    assert torch.allclose(local(x), ppm(x), atol=1e-12)


def test_local_ppm_memory_is_per_frame():
    """The similarity tensors are (frames, n^2, n^2): at 56x56 with n=5 that is 144 frames x 625,
    not 3136^2. Checked through the largest intermediate autograd saves."""
    head = LocalPixelPropagation(16, frame=5)
    x = torch.randn(1, 16, 56, 56, requires_grad=True)
    largest = [0]

    def pack(t):
        largest[0] = max(largest[0], t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        head(x).sum().backward()
    frames = (60 // 5)**2  # 56 padded to 60
    assert largest[0] == max(16 * 60 * 60, frames * 25 * 25)  # O(HW n^2): map or per-frame similarity
    assert largest[0] < (56 * 56)**2 / 100  # the dense PPM similarity would be (HW)^2


def test_sinusoidal_encoding_formula():
    pe = sinusoidal_position_encoding_2d(8, 3, 4)
    assert pe.shape == (1, 8, 3, 4)
    for k in range(2):
        w = 10000**(-k / 2)
        for r in range(3):
            for c in range(4):
                assert math.isclose(pe[0, k, r, c], math.sin(r * w), abs_tol=1e-12)
                assert math.isclose(pe[0, 2 + k, r, c], math.cos(r * w), abs_tol=1e-12)
                assert math.isclose(pe[0, 4 + k, r, c], math.sin(c * w), abs_tol=1e-12)
                assert math.isclose(pe[0, 6 + k, r, c], math.cos(c * w), abs_tol=1e-12)


def test_self_attention_starts_as_identity_and_matches_explicit_softmax():
    torch.manual_seed(3)
    head = SelfAttentionPropagation(8, key_channels=4)
    x = torch.randn(2, 8, 3, 3)
    assert float(head.gamma) == 0.0 and torch.equal(head(x), x)
    with torch.no_grad():
        head.gamma.fill_(0.7)
    h = x + sinusoidal_position_encoding_2d(8, 3, 3)
    q, k, v = head.query(h), head.key(h), head.value(h)
    ref = x.clone()
    for n in range(2):
        for i in range(9):
            logits = torch.stack([torch.dot(q[n, :, i // 3, i % 3], k[n, :, j // 3, j % 3]) for j in range(9)]) / 2.0
            a = torch.softmax(logits, 0)
            ref[n, :, i // 3, i % 3] += 0.7 * sum(a[j] * v[n, :, j // 3, j % 3] for j in range(9))
    assert torch.allclose(head(x), ref, atol=1e-10)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match='frame=0'):
        LocalPixelPropagation(4, frame=0)
    with pytest.raises(ValueError, match="kind='mlp'"):
        PixelPropagation(4, value_transform='mlp')

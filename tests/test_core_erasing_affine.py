"""segssl.core.affine and segssl.core.erasing against hand-computed answers and cv2."""
import math

import cv2
import numpy as np
import pytest
import torch

from segssl.core.affine import (affine_matrix, compose_affine, invert_affine, random_affine_params, to_index_convention,
                                warp_images)
from segssl.core.erasing import (IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, erase, erasing_fill, patch_erasing_mask,
                                 rectangle_mask, sample_erasing_rectangle)


# ----------------------------------------------------------------------------------- affine
def apply(m, p):
    m = torch.as_tensor(m, dtype=torch.float64)
    return (m[:, :2] @ torch.tensor(p, dtype=torch.float64) + m[:, 2]).tolist()


def test_affine_matrix_known_answers():
    # 90 deg about the origin: (1, 0) -> (0, -1), i.e. counter-clockwise as displayed (y down)
    assert apply(affine_matrix(90), (1.0, 0.0)) == pytest.approx([0.0, -1.0], abs=1e-12)
    # translation only
    assert apply(affine_matrix(0, (3, -4)), (1.0, 2.0)) == pytest.approx([4.0, -2.0], abs=1e-12)
    # x-shear 45 deg: (0, 1) -> (tan 45, 1) = (1, 1); y-shear 45 deg: (1, 0) -> (1, 1)
    assert apply(affine_matrix(0, shear=(45, 0)), (0.0, 1.0)) == pytest.approx([1.0, 1.0], abs=1e-12)
    assert apply(affine_matrix(0, shear=(0, 45)), (1.0, 0.0)) == pytest.approx([1.0, 1.0], abs=1e-12)
    # the centre is fixed by rotation and shear and moved by the translation
    m = affine_matrix(30, (10, 10), (10, 10), center=(112, 112))
    assert apply(m, (112.0, 112.0)) == pytest.approx([122.0, 122.0], abs=1e-12)
    assert torch.det(m[:, :2]).item() == pytest.approx(1.0, abs=1e-12)  # rotation x shears
    # by hand: q = c + t + R Shx Shy (p - c)
    a, sx, sy = math.radians(30), math.tan(math.radians(10)), math.tan(math.radians(10))
    d = (20.0 - 112, 50.0 - 112)
    d = (d[0], sy * d[0] + d[1])  # Shy
    d = (d[0] + sx * d[1], d[1])  # Shx
    d = (math.cos(a) * d[0] + math.sin(a) * d[1], -math.sin(a) * d[0] + math.cos(a) * d[1])
    assert apply(m, (20.0, 50.0)) == pytest.approx([122 + d[0], 122 + d[1]], abs=1e-10)


def test_affine_batched_invert_and_compose_round_trip():
    g = torch.Generator().manual_seed(0)
    angle = torch.rand(16, generator=g) * 90 - 45
    t = torch.rand(16, 2, generator=g) * 200 - 100
    s = torch.rand(16, 2, generator=g) * 20 - 10
    m = affine_matrix(angle, t, s, center=(112, 112))
    assert m.shape == (16, 2, 3)
    assert torch.allclose(m[5], affine_matrix(float(angle[5]), t[5].tolist(), s[5].tolist(), center=(112, 112)),
                          atol=1e-12)
    inv = invert_affine(m)
    eye = torch.eye(2, 3, dtype=torch.float64).expand(16, 2, 3)
    assert torch.allclose(compose_affine(m, inv), eye, atol=1e-10)
    assert torch.allclose(compose_affine(inv, m), eye, atol=1e-10)
    assert torch.allclose(invert_affine(inv), m, atol=1e-10)
    p = torch.rand(16, 2, 1, generator=g, dtype=torch.float64) * 224
    q = m[:, :, :2] @ p + m[:, :, 2:]
    assert torch.allclose(inv[:, :, :2] @ q + inv[:, :, 2:], p, atol=1e-10)


def test_to_index_convention():
    m = affine_matrix(17, (3, 5), (4, 2), center=(40, 30))
    mi = to_index_convention(m)
    p = (12.5, 7.5)  # a pixel centre (continuous), index (12, 7)
    q = apply(m, p)
    assert apply(mi, (12.0, 7.0)) == pytest.approx([q[0] - 0.5, q[1] - 0.5], abs=1e-12)


def smooth_image(h, w, c=3):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([np.sin(x / 7 + k) + np.cos(y / 5 - k) for k in range(c)], -1).astype(np.float32)


def test_warp_images_matches_cv2_away_from_borders():
    H, W = 64, 80
    img = smooth_image(H, W)
    m = affine_matrix(20, (3, -5), (5, 3), center=(W / 2, H / 2))
    ref = cv2.warpAffine(img,
                         to_index_convention(m).numpy(), (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=0)
    out = warp_images(torch.from_numpy(img).permute(2, 0, 1)[None], m)[0].permute(1, 2, 0).numpy()
    # where the source point lies at least 1.5 px inside the image
    inv = invert_affine(m).numpy()
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    sx, sy = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2], inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2]
    inside = (sx > 1.5) & (sx < W - 1.5) & (sy > 1.5) & (sy < H - 1.5)
    assert inside.sum() > 0.6 * H * W
    err = np.abs(out - ref)[inside]
    assert err.max() < 0.01  # cv2 quantises coordinates to 1/32 px; gradients < 0.35
    assert np.abs(out[~inside & ((sx < -1) | (sy < -1) | (sx > W + 1) | (sy > H + 1))]).max() == 0
    # inverse=True with the inverse matrix is the same warp; one (2, 3) matrix serves a batch
    batch = torch.from_numpy(img).permute(2, 0, 1)[None].repeat(3, 1, 1, 1)
    out_inv = warp_images(batch, invert_affine(m), inverse=True)
    assert torch.allclose(out_inv[2].permute(1, 2, 0), torch.from_numpy(out), atol=1e-5)


def test_warp_images_moves_a_marked_pixel():
    H, W = 48, 64
    img = torch.zeros(1, 1, H, W, dtype=torch.float64)
    img[0, 0, 10, 20] = 1.0
    out = warp_images(img, affine_matrix(0, (5, 7)))  # integer shift
    assert out[0, 0, 17, 25].item() == pytest.approx(1.0, abs=1e-9)
    assert out.sum().item() == pytest.approx(1.0, abs=1e-9)
    m = affine_matrix(33, (4, -3), (8, 5), center=(W / 2, H / 2))
    out = warp_images(img, m)[0, 0]
    q = apply(m, (20.5, 10.5))  # the pixel's centre
    r, c = divmod(int(out.argmax()), W)
    assert abs(c + 0.5 - q[0]) <= 1.0 and abs(r + 0.5 - q[1]) <= 1.0
    yy, xx = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing='ij')
    cx, cy = (out * xx).sum() / out.sum(), (out * yy).sum() / out.sum()
    assert (cx.item(), cy.item()) == pytest.approx(q, abs=0.25)


def test_random_affine_params_ranges_and_determinism():
    g = torch.Generator().manual_seed(3)
    draws = [random_affine_params(g) for _ in range(500)]
    angles = np.array([d['angle'] for d in draws])
    t = np.array([d['translate'] for d in draws])
    s = np.array([d['shear'] for d in draws])
    assert np.abs(angles).max() <= 45 and np.abs(angles).max() > 40
    assert np.abs(t).max() <= 100 and np.abs(t).min(0).max() < 5 and np.abs(t).max(0).min() > 90
    assert np.abs(s[:, 0]).max() <= 10 and np.all(s[:, 1] == 0)  # no y-shear
    assert abs(angles.mean()) < 45 * 3 / math.sqrt(3 * 500)  # 3 sd of U(-45, 45)
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert random_affine_params(g1) == random_affine_params(g2)


# ---------------------------------------------------------------------------------- erasing
def test_erasing_rectangle_area_and_aspect_within_bounds():
    rng = np.random.RandomState(0)
    H = W = 224
    S = H * W
    sl, sh, r1, r2 = 0.02, 0.4, 0.3, 1 / 0.3
    fracs, aspects = [], []
    for _ in range(2000):
        y, x, h, w = sample_erasing_rectangle(H, W, (sl, sh), (r1, r2), rng=rng)
        assert 0 <= y and y + h <= H and 0 <= x and x + w <= W
        # sides were rounded from sqrt(S_e r_e), sqrt(S_e / r_e): +-0.5 px
        assert (h - .5) * (w - .5) / S <= sh and (h + .5) * (w + .5) / S >= sl
        assert (h - .5) / (w + .5) <= r2 and (h + .5) / (w - .5) >= r1
        fracs.append(h * w / S)
        aspects.append(h / w)
    fracs, aspects = np.array(fracs), np.array(aspects)
    assert fracs.min() < 0.03 and fracs.max() > 0.35  # the whole range is used
    assert aspects.min() < 0.4 and aspects.max() > 2.5
    assert 0.9 * sl <= fracs.min() and fracs.max() <= 1.05 * sh


def test_erasing_rectangle_gives_up_after_max_attempts():
    # a >= 0.9 S rectangle with aspect >= 3 can never fit in a square: image left unchanged
    assert sample_erasing_rectangle(50, 50, (0.9, 1.0), (3.0, 3.3), max_attempts=20,
                                    rng=np.random.RandomState(0)) is None
    assert not rectangle_mask(50, 50, None).any()
    m = rectangle_mask(10, 12, (2, 3, 4, 5))
    assert m.sum() == 20 and m[2:6, 3:8].all()


def test_patch_erasing_mask_is_the_union_of_squares():
    rng = np.random.RandomState(1)
    for n, side in [(50, 10), (7, 20), (200, 3)]:
        mask, corners = patch_erasing_mask(224, 224, n, side, rng=rng)
        assert corners.shape == (n, 2)
        assert corners.min() >= 0 and corners.max() <= 224 - side
        union = np.zeros((224, 224), bool)
        for y, x in corners:
            union[y:y + side, x:x + side] = True
        assert np.array_equal(mask, union)
        assert mask.sum() <= n * side * side
    # the PixPro thesis default: 50 squares of 10 px ~ 10% of a 224 view (less where they overlap)
    fr = [patch_erasing_mask(224, 224, 50, 10, rng=rng)[0].mean() for _ in range(50)]
    assert 0.08 < np.mean(fr) <= 5000 / 224**2
    with pytest.raises(ValueError, match='patch_size'):
        patch_erasing_mask(8, 8, 1, 9)


def test_erasing_fill_statistics():
    rng = np.random.RandomState(2)
    assert not erasing_fill((100, 3), 'black').any()
    v = erasing_fill((200000, 3), 'gaussian', rng=rng)
    assert np.allclose(v.mean(0), IMAGENET_MEAN_RGB, atol=0.5)
    assert np.allclose(v.std(0), IMAGENET_STD_RGB, atol=0.5)
    # normalised with the same mean/std: N(0, 1)
    z = (v - np.array(IMAGENET_MEAN_RGB)) / np.array(IMAGENET_STD_RGB)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    with pytest.raises(ValueError, match='fill'):
        erasing_fill((1, 3), 'white')


def test_erase_only_touches_the_mask_and_clips_uint8():
    rng = np.random.RandomState(3)
    img = rng.randint(1, 256, size=(40, 50, 3)).astype(np.uint8)
    mask = rectangle_mask(40, 50, (5, 6, 20, 30))
    black = erase(img, mask, 'black')
    assert (black[mask] == 0).all() and np.array_equal(black[~mask], img[~mask])
    assert np.array_equal(img, rng.__class__(3).randint(1, 256, size=(40, 50, 3)))  # not in place
    noisy = erase(img, mask, 'gaussian', mean=(128, ) * 3, std=(400, ) * 3, rng=rng)
    vals = noisy[mask]
    assert vals.dtype == np.uint8 and (vals == 0).mean() > 0.2 and (vals == 255).mean() > 0.2

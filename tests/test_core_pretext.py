"""The ERFNet thesis's pretext label makers (segssl.core.pretext / lab / otsu) against hand-made images
and brute-force references written here."""
import itertools
import math

import numpy as np
import pytest

from segssl.core.lab import colorization_pair, lab_to_rgb, rgb_to_lab
from segssl.core.otsu import between_class_variance, multi_otsu_thresholds, otsu_labels, rgb_to_gray_uint8
from segssl.core.pretext import (NEIGHBOURS, hamming_distances, hamming_permutation_set, jigsaw_sample,
                                 jigsaw_tile_corners, permutation_index, relative_patch_sample, rotate_image,
                                 rotation_sample)


# ----------------------------------------------------------------------------- rotation
def test_rotation_is_counter_clockwise_quarter_turns():
    img = np.arange(9).reshape(3, 3)
    # by hand: 90 deg counter-clockwise moves the top row to the left column, read upwards
    assert rotate_image(img, 1).tolist() == [[2, 5, 8], [1, 4, 7], [0, 3, 6]]
    assert rotate_image(img, 2).tolist() == [[8, 7, 6], [5, 4, 3], [2, 1, 0]]
    assert rotate_image(img, 3).tolist() == [[6, 3, 0], [7, 4, 1], [8, 5, 2]]
    assert rotate_image(img, 4).tolist() == img.tolist()


def test_rotation_sample_label_matches_the_rotation():
    img = np.zeros((4, 4, 3), np.uint8)
    img[0, 0] = 255  # a mark in the top-left corner
    where = {0: (0, 0), 1: (3, 0), 2: (3, 3), 3: (0, 3)}  # corner after k CCW quarter turns
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        out, k = rotation_sample(img, rng)
        seen.add(k)
        ys, xs = np.nonzero(out[:, :, 0])
        assert (int(ys[0]), int(xs[0])) == where[k]
    assert seen == {0, 1, 2, 3}
    with pytest.raises(ValueError, match='not square'):
        rotation_sample(np.zeros((4, 6, 3)), rng)


# ------------------------------------------------------------------------------- jigsaw
def _greedy_reference(candidates, first, n):
    """Noroozi's maximal_hamming loop, literally: mean distance to the chosen set, argmax."""
    chosen, rest = [candidates[first]], [c for i, c in enumerate(candidates) if i != first]
    while len(chosen) < n:
        means = [np.mean([sum(a != b for a, b in zip(c, q)) for q in chosen]) for c in rest]
        j = int(np.argmax(means))
        chosen.append(rest.pop(j))
    return np.array(chosen)


def test_jigsaw_permutations_follow_the_greedy_rule_brute_force():
    perms = hamming_permutation_set(10, num_tiles=5, seed=3)
    candidates = [tuple(p) for p in itertools.permutations(range(5))]
    first = candidates.index(tuple(perms[0]))
    assert np.array_equal(perms, _greedy_reference(candidates, first, 10))


def test_jigsaw_permutation_set_hamming_property_and_reproducibility():
    perms = hamming_permutation_set(100, num_tiles=9, seed=0)
    assert perms.shape == (100, 9)
    assert all(sorted(p) == list(range(9)) for p in perms)
    assert len({tuple(p) for p in perms}) == 100
    d = hamming_distances(perms)
    brute = np.array([[sum(a != b for a, b in zip(p, q)) for q in perms] for p in perms])
    assert np.array_equal(d, brute)
    off = d[~np.eye(100, dtype=bool)]
    # each p_i maximises the mean distance to p_1..p_{i-1} over all 9! candidates, so its mean
    # is at least the candidates' average (random permutations average 9 * (1 - 1/9) = 8)
    all9 = np.array(list(itertools.permutations(range(9))), dtype=np.int8)
    for i in (1, 2, 10):
        best = (all9[:, None, :] != perms[None, :i].astype(np.int8)).sum(-1).mean(1)
        taken = np.isin(
            all9.view([('', np.int8)] * 9).ravel(), perms[:i].astype(np.int8).view([('', np.int8)] * 9).ravel())
        assert d[i, :i].mean() == pytest.approx(best[~taken].max())
    assert off.mean() > 8.0 and off.min() >= 2
    assert np.array_equal(perms, hamming_permutation_set(100, 9, seed=0))
    assert not np.array_equal(perms[:10], hamming_permutation_set(10, 9, seed=1))
    assert np.array_equal(hamming_permutation_set(30, 9, seed=0), perms[:30])


def test_jigsaw_tiles_come_from_their_cells_in_permuted_order():
    cell, tile = 75, 64
    img = np.zeros((225, 225, 1), np.int64)
    for r in range(3):
        for c in range(3):
            img[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = 10 * (3 * r + c)
    rng = np.random.default_rng(1)
    perms = hamming_permutation_set(20, seed=0)
    for _ in range(10):
        tiles, label = jigsaw_sample(img, perms, rng=rng)
        assert tiles.shape == (9, tile, tile, 1)
        cells = [int(np.unique(t)[0]) // 10 for t in tiles]  # each tile inside one cell
        assert all(len(np.unique(t)) == 1 for t in tiles)
        assert cells == perms[label].tolist() and permutation_index(cells, perms) == label
    corners = np.stack([jigsaw_tile_corners(rng=rng) for _ in range(200)])
    offsets = corners - (cell * np.array([(r, c) for r in range(3) for c in range(3)]))[None]
    assert offsets.min() == 0 and offsets.max() == cell - tile  # jitter covers 0..11
    with pytest.raises(ValueError, match='225 x 225'):
        jigsaw_sample(np.zeros((200, 225, 3)), perms)


def test_relative_patch_label_names_the_neighbour_position():
    img = np.zeros((225, 225, 1), np.int64)
    for r in range(3):
        for c in range(3):
            img[r * 75:(r + 1) * 75, c * 75:(c + 1) * 75] = 3 * r + c
    rng = np.random.default_rng(2)
    labels = set()
    for _ in range(60):
        tiles, label = relative_patch_sample(img, rng=rng)
        labels.add(label)
        assert tiles.shape == (2, 64, 64, 1) and np.all(tiles[0] == 4)  # the centre first
        r, c = NEIGHBOURS[label]
        assert np.all(tiles[1] == 3 * r + c)
    assert labels == set(range(8))


# ------------------------------------------------------------------------------------ Lab
def _lab_reference(r, g, b):
    """One pixel through the CIE formulas with the exact constants eps = 216/24389,
    kappa = 24389/27 (skimage rounds them to 0.008856 and 7.787 * 116)."""

    def lin(c):
        return ((c + 0.055) / 1.055)**2.4 if c > 0.04045 else c / 12.92

    rl, gl, bl = lin(r), lin(g), lin(b)
    x = (0.412453 * rl + 0.357580 * gl + 0.180423 * bl) / 0.95047
    y = (0.212671 * rl + 0.715160 * gl + 0.072169 * bl) / 1.0
    z = (0.019334 * rl + 0.119193 * gl + 0.950227 * bl) / 1.08883
    eps, kappa = 216 / 24389, 24389 / 27

    def f(t):
        return t**(1 / 3) if t > eps else (kappa * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_lab_matches_the_cie_formulas_and_known_colours():
    rng = np.random.default_rng(0)
    rgb = np.concatenate([rng.random((300, 3)), np.eye(3), [[1, 1, 1], [0, 0, 0], [0.02, 0.01, 0.03]]])
    lab = rgb_to_lab(rgb)
    ref = np.array([_lab_reference(*p) for p in rgb])
    assert np.abs(lab - ref).max() < 1e-3
    assert lab[-3] == pytest.approx([100.0, 0.0, 0.0], abs=1e-2)  # white: L* 100, ~neutral
    assert lab[-2] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    grey = rgb_to_lab(np.full((5, 3), 0.5))
    assert np.abs(grey[:, 1:]).max() < 1e-2  # greys have a* = b* = 0


def test_lab_round_trip():
    rng = np.random.default_rng(1)
    rgb = rng.random((64, 64, 3))
    assert np.abs(lab_to_rgb(rgb_to_lab(rgb)) - rgb).max() < 1e-6
    img = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    light, ab = colorization_pair(img)
    assert light.shape == (16, 16, 3) and ab.shape == (2, 16, 16)
    assert np.array_equal(light[..., 0], light[..., 2]) and 0 <= light.min() and light.max() <= 100
    lab = np.concatenate([light[..., :1], ab.transpose(1, 2, 0)], -1)
    assert np.abs(lab_to_rgb(lab) * 255 - img).max() < 1e-2


# ----------------------------------------------------------------------------------- Otsu
def _brute_force_otsu(hist, classes):
    best, arg = -np.inf, None
    for ts in itertools.combinations(range(len(hist) - 1), classes - 1):
        v = between_class_variance(hist, ts)
        if v > best + 1e-12:
            best, arg = v, ts
    return np.array(arg), best


@pytest.mark.parametrize('classes,levels,seed', [(2, 256, 0), (3, 64, 1), (4, 32, 2), (4, 24, 3)])
def test_multi_otsu_equals_exhaustive_search(classes, levels, seed):
    hist = np.random.default_rng(seed).random(levels)**3
    ts, var = multi_otsu_thresholds(hist, classes)
    ref_ts, ref_var = _brute_force_otsu(hist, classes)
    assert ts.tolist() == ref_ts.tolist() and var == pytest.approx(ref_var, rel=1e-10)
    # the variance returned is the formula's value at the thresholds, sum w (mu - mu_T)^2
    p = hist / hist.sum()
    lv = np.arange(levels)
    mu_t = (lv * p).sum()
    edges = [-1] + ts.tolist() + [levels - 1]
    direct = sum(p[a + 1:b + 1].sum() * ((lv[a + 1:b + 1] * p[a + 1:b + 1]).sum() / p[a + 1:b + 1].sum() - mu_t)**2
                 for a, b in zip(edges[:-1], edges[1:]))
    assert var == pytest.approx(direct, rel=1e-10)


def test_otsu_labels_on_a_hand_made_image():
    img = np.array([[10, 10, 80, 80], [10, 10, 80, 80], [150, 150, 240, 240], [150, 150, 240, 240]], np.uint8)
    assert otsu_labels(img, 4).tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    two = np.array([[0, 0, 200], [0, 3, 255]], np.uint8)
    assert otsu_labels(two, 2).tolist() == [[0, 0, 1], [0, 0, 1]]
    # a pixel exactly at a threshold joins the lower class
    ts, _ = multi_otsu_thresholds(np.bincount(img.ravel(), minlength=256), 4)
    at = np.array([[ts[0], ts[0] + 1]], np.uint8)
    lab = np.searchsorted(ts, at, side='left')
    assert lab.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match='integer grey image'):
        otsu_labels(np.zeros((2, 2)), 4)


def test_gray_is_the_luma_in_either_channel_order():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [100, 150, 200]]], np.uint8)
    expected = [
        round(0.299 * 255),
        round(0.587 * 255),
        round(0.114 * 255),
        round(0.299 * 100 + 0.587 * 150 + 0.114 * 200)
    ]
    assert rgb_to_gray_uint8(rgb).tolist() == [expected]
    assert rgb_to_gray_uint8(rgb[..., ::-1], 'bgr').tolist() == [expected]
    assert math.isclose(between_class_variance([1, 0, 0, 1], [0]), 2.25)  # levels 0, 3: (3/2)^2

"""Two-view transforms (the PixPro thesis / PixPro): recorded geometry, photometric steps, online-only
erasing and packing, asserting numbers."""
import glob
import os

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

import segssl.mmseg.transforms  # noqa: F401  (registers the transforms)

# isort: split
from mmseg.registry import TRANSFORMS

from segssl.core import lattice_from_boxes
from segssl.core.erasing import patch_erasing_mask
from segssl.mmseg.transforms import (AffineView, OnlineRandomErasing, OnlineRandomPatchedErasing, PackPixelViews,
                                     TwoViewCrop, ViewColorAugment)


def coordinate_image(H, W):
    """float32 (H, W, 3): channel 0 = x, channel 1 = y of each pixel's centre (continuous
    coordinates, centre of pixel (r, c) = (c + .5, r + .5)), channel 2 = 1 (validity)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    return np.stack([x, y, np.ones_like(x)], -1)


def check_views_against_lattice(results, size, tol, margin=1):
    """Every view pixel's value (where it came from) equals its lattice centre."""
    boxes = torch.as_tensor(results['view_boxes'], dtype=torch.float64)
    flips = torch.as_tensor(results['view_flips'])
    warps = torch.as_tensor(results['view_warps'], dtype=torch.float64)
    centres = lattice_from_boxes(boxes, flips, size, size, view_size=(size, size),
                                 warp=warps).centres()  # (2, size*size, 2)
    checked = []
    for v in range(2):
        img = results['views'][v].astype(np.float64)
        got = img[..., :2].reshape(-1, 2)
        # where the sample is wholly inside the image and 'margin' view pixels from the crop's
        # edge (cv2.resize clamps there) - the un-warped view position, from the recorded warp
        yy, xx = np.mgrid[0:size, 0:size] + 0.5
        w = warps[v].numpy()
        ux, uy = w[0, 0] * xx + w[0, 1] * yy + w[0, 2], w[1, 0] * xx + w[1, 1] * yy + w[1, 2]
        ok = ((img[..., 2] > 0.999) & (ux > margin) & (ux < size - margin) & (uy > margin)
              & (uy < size - margin)).reshape(-1)
        err = np.abs(got - centres[v].numpy())[ok]
        assert ok.sum() > 0.05 * size * size
        assert err.max() < tol, (v, err.max())
        checked.append(err)
    return checked


@pytest.mark.parametrize('seed', range(6))
def test_two_view_crop_records_boxes_and_flips(seed):
    np.random.seed(seed)
    H, W, size = 120, 200, 48
    res = TwoViewCrop(size=size, scale=(0.08, 1.0))(dict(img=coordinate_image(H, W)))
    assert res['view_boxes'].dtype == np.float32 and res['view_boxes'].shape == (2, 4)
    assert res['view_flips'].dtype == bool and res['view_flips'].shape == (2, )
    assert np.array_equal(res['view_warps'], np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    assert res['view_size'] == (size, size) and res['views'][0].shape == (size, size, 3)
    # float image: cv2's bilinear resize reproduces a linear ramp, so the match is exact
    err = check_views_against_lattice(res, size, tol=1e-3, margin=1)
    assert max(e.max() for e in err) < 1e-3


def test_two_view_crop_uint8_coordinates_within_rounding():
    """The same with a uint8 image (LoadImageFromFile's type): values are rounded to whole
    pixels and cv2's fixed-point uint8 resize (INTER_AREA at exactly 2x) adds < 0.25 px."""
    H, W, size = 160, 250, 64
    img = np.round(coordinate_image(H, W) - 0.5).astype(np.uint8)  # = pixel index
    img[..., 2] = 255
    for seed in range(5):
        np.random.seed(seed)
        res = TwoViewCrop(size=size)(dict(img=img))
        res['views'] = [np.concatenate([v[..., :2] + 0.5, v[..., 2:] / 255.0], -1) for v in res['views']]
        err = np.concatenate(check_views_against_lattice(res, size, tol=1.0))
        assert err.mean() < 0.4


@pytest.mark.parametrize(
    'mode,kw,size',
    [
        ('fixed', dict(degrees=30, translate=(0, 0), shear=(0, 0)), 96),  # seed: rotation
        ('fixed', dict(degrees=30, translate=(10, 10), shear=(10, 10)), 96),  # seed: fixed affine
        ('random', dict(degrees=45, translate=(100, 100), shear=(10, 0)), 224)
    ])  # seed: random affine
@pytest.mark.parametrize('view', [0, 1])
def test_affine_view_records_the_inverse_warp(mode, kw, size, view):
    """An affine view: each warped-view pixel, mapped through box/flip/warp, lands where it came from."""
    H, W = 240, 320
    for seed in range(3):
        np.random.seed(100 + seed)
        res = TwoViewCrop(size=size, scale=(0.3, 1.0))(dict(img=coordinate_image(H, W)))
        before = [v.copy() for v in res['views']]
        res = AffineView(view=view, mode=mode, **kw)(res)
        other = 1 - view
        assert np.array_equal(res['views'][other], before[other])
        assert np.array_equal(res['view_warps'][other], np.eye(2, 3))
        assert not np.allclose(res['view_warps'][view], np.eye(2, 3))
        # cv2.warpAffine quantises coordinates to 1/32 px: bins of < 2.3 original px each
        check_views_against_lattice(res, size, tol=0.1, margin=1)
        # the forward warp is the inverse of the recorded one
        f, w = res['view_affine'][view].astype(np.float64), res['view_warps'][view].astype(np.float64)
        prod = f[:, :2] @ w[:, :2]
        assert np.allclose(prod, np.eye(2), atol=1e-5)


def test_affine_view_fixed_is_the_seed_default_and_composes():
    np.random.seed(0)
    res = TwoViewCrop(size=64)(dict(img=coordinate_image(100, 100)))
    t = AffineView()
    assert (t.view, t.mode, t.degrees, t.translate, t.shear) == (0, 'fixed', 30.0, (10.0, 10.0), (10.0, 10.0))
    res = AffineView(translate=0, shear=0, degrees=20)(res)
    res = AffineView(translate=0, shear=0, degrees=10)(res)
    a = np.radians(30)  # two rotations about the centre = one of 30
    assert np.allclose(res['view_warps'][0][:, :2], [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], atol=1e-6)
    check_views_against_lattice(res, 64, tol=0.1, margin=1)
    res['online_views'] = list(res['views'])
    with pytest.raises(ValueError, match='before'):
        AffineView()(res)


def test_two_view_crop_box_statistics():
    np.random.seed(1)
    H, W = 300, 400
    t = TwoViewCrop(size=32, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), flip_prob=0.5)
    boxes, flips = [], []
    for _ in range(200):
        res = t(dict(img=np.zeros((H, W, 3), np.uint8)))
        boxes.append(res['view_boxes'])
        flips.append(res['view_flips'])
    b, f = np.concatenate(boxes), np.concatenate(flips)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    assert np.all(b == np.round(b)) and b[:, :2].min() >= 0 and b[:, 2].max() <= W and b[:, 3].max() <= H
    assert np.all((w + 1) * (h + 1) / (H * W) >= 0.08) and np.all((w - 1) * (h - 1) / (H * W) <= 1.0)
    assert np.all((w + 1) / (h - 1) >= 3 / 4) and np.all((w - 1) / (h + 1) <= 4 / 3)
    assert 400 * 0.5 - 4 * 10 <= f.sum() <= 400 * 0.5 + 4 * 10  # Binomial(400, .5): 4 sd


def test_view_color_augment_steps():
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (32, 32, 3)).astype(np.uint8)
    res = lambda: dict(views=[img.copy(), img.copy()])  # noqa: E731
    off = dict(jitter_prob=0, grayscale_prob=0, blur_prob=0, solarize_prob=0)
    out = ViewColorAugment(**off)(res())['views']
    assert all(np.array_equal(v, img) for v in out)
    # grayscale of BGR input: 0.299 R + 0.587 G + 0.114 B, R = channel 2
    out = ViewColorAugment(**dict(off, grayscale_prob=1.0))(res())['views']
    luma = 0.299 * img[..., 2] + 0.587 * img[..., 1] + 0.114 * img[..., 0]
    assert np.abs(out[0][..., 0].astype(float) - luma).max() <= 0.5 + 1e-3
    assert np.array_equal(out[0][..., 0], out[0][..., 2]) and np.array_equal(out[1], out[0])
    # solarize only view 2 (seed default (0.0, 0.2), here forced to (0, 1))
    out = ViewColorAugment(**dict(off, solarize_prob=(0.0, 1.0)))(res())['views']
    assert np.array_equal(out[0], img)
    assert np.array_equal(out[1], np.where(img >= 128, 255 - img, img))
    # brightness only: every unsaturated pixel scaled by one factor in [0.6, 1.4]
    np.random.seed(3)
    t = ViewColorAugment(**dict(off, jitter_prob=1.0), contrast=0, saturation=0, hue=0)
    out = t(res())['views']
    for v in out:
        sel = (img > 20) & (v < 250)
        ratio = v[sel] / img[sel].astype(float)
        assert 0.6 - 0.03 <= np.median(ratio) <= 1.4 + 0.03 and ratio.std() < 0.03
    # blur lowers the variance of noise; hue +1/3 turn maps pure red to pure green
    out = ViewColorAugment(**dict(off, blur_prob=(1.0, 0.0)), blur_sigma=(1.5, 2.0))(res())['views']
    assert out[0].astype(float).std() < 0.5 * img.std() and np.array_equal(out[1], img)
    from segssl.mmseg.transforms.view_color_augment import adjust_hue
    red = np.zeros((2, 2, 3), np.float32)
    red[..., 2] = 1.0
    assert np.allclose(adjust_hue(red, 1 / 3, bgr=True)[0, 0], [0, 1, 0], atol=1e-5)


def test_view_color_augment_per_view_probabilities():
    """Seed default blur p = (1.0, 0.1): view 1 always blurred, view 2 about 10% of the time."""
    rng = np.random.RandomState(1)
    img = rng.randint(0, 256, (16, 16, 3)).astype(np.uint8)
    np.random.seed(0)
    d = ViewColorAugment()
    assert (d.jitter_prob, d.grayscale_prob, d.blur_prob, d.solarize_prob) == ((0.8, 0.8), (0.2, 0.2), (1.0, 0.1),
                                                                               (0.0, 0.2))
    assert (d.brightness, d.contrast, d.saturation, d.hue, d.blur_sigma) == (0.4, 0.4, 0.2, 0.1, (0.1, 2.0))
    t = ViewColorAugment(jitter_prob=0, grayscale_prob=0, solarize_prob=0, blur_sigma=(1.0, 2.0))
    n, changed = 400, np.zeros(2)
    for _ in range(n):
        out = t(dict(views=[img, img]))['views']
        changed += [not np.array_equal(v, img) for v in out]
    assert changed[0] == n
    sd = np.sqrt(n * 0.1 * 0.9)
    assert n * 0.1 - 4 * sd <= changed[1] <= n * 0.1 + 4 * sd


def two_views(size=64, seed=0):
    rng = np.random.RandomState(seed)
    v = [rng.randint(1, 256, (size, size, 3)).astype(np.uint8) for _ in range(2)]
    return dict(views=v, view_boxes=np.zeros((2, 4), np.float32), view_flips=np.zeros(2, bool),
                view_warps=np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)), view_size=(size, size))


def test_random_erasing_touches_only_the_online_copy():
    sl, sh, r1, r2 = 0.02, 0.4, 0.3, 1 / 0.3
    t = OnlineRandomErasing()
    assert (t.p, t.scale, t.ratio, t.fill) == (1.0, (sl, sh), (r1, r2), 'black')
    np.random.seed(0)
    size = 64
    fracs = []
    for k in range(200):
        res = two_views(size, seed=k)
        target = [v.copy() for v in res['views']]
        res = t(res)
        for v in range(2):
            assert np.array_equal(res['views'][v], target[v])  # target copy untouched
            erased = (res['online_views'][v] != target[v]).any(-1)
            assert np.array_equal(erased, (res['online_views'][v] == 0).all(-1))  # black
            ys, xs = np.nonzero(erased)
            h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
            assert erased.sum() == h * w  # one full rectangle
            assert (h - .5) * (w - .5) / size**2 <= sh and (h + .5) * (w + .5) / size**2 >= sl
            assert (h - .5) / (w + .5) <= r2 and (h + .5) / (w - .5) >= r1
            fracs.append(h * w / size**2)
        assert res['online_erased'].all()
    assert min(fracs) < 0.04 and max(fracs) > 0.3


def test_random_erasing_p_half_erases_about_half():
    np.random.seed(1)
    t = OnlineRandomErasing(p=0.5)
    n = 0
    for k in range(200):
        res = t(two_views(32, seed=k))
        n += int(res['online_erased'].sum())
        for v in range(2):
            same = np.array_equal(res['online_views'][v], res['views'][v])
            assert same != res['online_erased'][v]
    assert 200 - 4 * 10 <= n <= 200 + 4 * 10  # Binomial(400, .5): 4 sd


def test_patched_erasing_is_the_union_of_n_squares():
    t = OnlineRandomPatchedErasing()
    assert (t.p, t.num_patches, t.patch_size) == (1.0, 50, 10)
    for seed in range(5):
        res = two_views(96, seed=seed)
        target = [v.copy() for v in res['views']]
        np.random.seed(seed)
        res = OnlineRandomPatchedErasing(num_patches=20, patch_size=7)(res)
        # replay numpy's global stream: p draw, then view 1's squares
        np.random.seed(seed)
        np.random.rand()
        mask, corners = patch_erasing_mask(96, 96, 20, 7)
        erased = (res['online_views'][0] != target[0]).any(-1)
        assert np.array_equal(erased, mask)
        assert 7 * 7 <= erased.sum() <= 20 * 7 * 7
        assert all(np.array_equal(res['views'][v], target[v]) for v in range(2))
        e2 = (res['online_views'][1] == 0).all(-1)
        assert 7 * 7 <= e2.sum() <= 20 * 7 * 7


def test_erasing_fill_statistics_black_and_gaussian():
    np.random.seed(2)
    big = dict(scale=(0.3, 0.4), ratio=(0.8, 1.25))
    res = OnlineRandomErasing(fill='gaussian', **big)(two_views(224))
    vals = np.concatenate([(o[(o != v).any(-1)]) for o, v in zip(res['online_views'], res['views'])])
    assert len(vals) > 2 * 0.25 * 224**2
    # BGR views: channel 0 holds blue, ImageNet B mean 103.53 / std 57.375 (0-255 units)
    assert np.allclose(vals.mean(0), [103.53, 116.28, 123.675], atol=1.5)
    assert np.allclose(vals.std(0), [57.375, 57.12, 58.395], atol=2.5)  # clipping trims a little
    res = OnlineRandomErasing(fill='gaussian', channel_order='rgb', **big)(two_views(224))
    vals = np.concatenate([(o[(o != v).any(-1)]) for o, v in zip(res['online_views'], res['views'])])
    assert np.allclose(vals.mean(0), [123.675, 116.28, 103.53], atol=1.5)
    res = OnlineRandomPatchedErasing(fill='black')(two_views(224))
    for o, v in zip(res['online_views'], res['views']):
        changed = (o != v).any(-1)
        assert (o[changed] == 0).all() and 0.06 < changed.mean() <= 5000 / 224**2
    with pytest.raises(ValueError, match='fill'):
        OnlineRandomErasing(fill='white')


def test_pack_pixel_views_order_and_meta():
    res = two_views(16)
    res['online_views'] = [v // 2 for v in res['views']]
    res['img_path'], res['ori_shape'] = 'a.png', (40, 50)
    out = PackPixelViews()(dict(res))
    x = out['inputs']
    assert x.dtype == torch.uint8 and x.shape == (4, 3, 16, 16)
    expect = res['online_views'] + res['views']
    for i in range(4):
        assert torch.equal(x[i], torch.from_numpy(expect[i].transpose(2, 0, 1).copy()))
    ds = out['data_samples']
    assert isinstance(ds, BaseDataElement)
    assert ds.view_boxes.shape == (2, 4) and ds.view_flips.shape == (2, ) and ds.view_warps.shape == (2, 2, 3)
    assert ds.view_size == (16, 16) and ds.img_path == 'a.png' and ds.ori_shape == (40, 50)
    # without online views the online slots repeat the target views
    del res['online_views']
    x = PackPixelViews()(dict(res))['inputs']
    assert torch.equal(x[0], x[2]) and torch.equal(x[1], x[3])
    with pytest.raises(KeyError, match='view_boxes'):
        PackPixelViews()(dict(views=res['views']))


def test_pipeline_from_configs_on_a_synthetic_image(tmp_path):
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope

    from segssl.synthetic import generate
    init_default_scope('mmseg')
    generate(str(tmp_path / 'syn'), num_train=1, num_val=1, height=64, width=128, parts=('cityscapes', ))
    path = sorted(glob.glob(os.path.join(str(tmp_path / 'syn'), '**', '*_leftImg8bit.png'), recursive=True))[0]
    cfg = [
        dict(type='LoadImageFromFile'),
        dict(type='TwoViewCrop', size=32, scale=(0.2, 1.0)),
        dict(type='ViewColorAugment'),
        dict(type='AffineView', view=0, mode='random', degrees=45, translate=(10, 10), shear=(10, 0)),
        dict(type='OnlineRandomErasing', p=1.0, fill='gaussian'),
        dict(type='PackPixelViews')
    ]
    pipeline = Compose([TRANSFORMS.build(c) for c in cfg])
    assert 'TwoViewCrop(size=32' in repr(pipeline) and 'OnlineRandomErasing(p=1.0' in repr(pipeline)
    np.random.seed(0)
    out = pipeline(dict(img_path=path))
    assert set(out) == {'inputs', 'data_samples'}
    x, ds = out['inputs'], out['data_samples']
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.uint8
    assert ds.img_path == path and tuple(ds.ori_shape) == (64, 128) and ds.view_size == (32, 32)
    assert ds.view_boxes.dtype == np.float32 and ds.view_boxes.shape == (2, 4)
    assert ds.view_boxes[:, 2].max() <= 128 and ds.view_boxes[:, 3].max() <= 64
    assert not np.allclose(ds.view_warps[0], np.eye(2, 3)) and np.allclose(ds.view_warps[1], np.eye(2, 3))
    assert not torch.equal(x[0], x[2]) and not torch.equal(x[1], x[3])  # online copies erased
    lat = lattice_from_boxes(torch.as_tensor(ds.view_boxes[None, 0]), torch.as_tensor(ds.view_flips[None, 0]), 4, 4,
                             view_size=ds.view_size, warp=torch.as_tensor(ds.view_warps[None, 0]))
    assert lat.centres().shape == (1, 16, 2)

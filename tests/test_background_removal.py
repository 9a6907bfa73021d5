"""Background removal (the Mask R-CNN thesis): the kept mask per option, the output on hand-made images
against expected images built pixel by pixel, the cosine score against a direct numpy
computation, the no-instance case (reported and counted, never an error), and the command line."""
import json
import os

import cv2
import numpy as np
import pytest
from conftest import ROOT, run_tool

from segssl.core.background import cosine_similarity_percent, remove_background, select_instance_mask, summarize


def hand_image():
    h, w = 4, 5
    img = np.zeros((h, w, 3), np.uint8)
    for y in range(h):
        for x in range(w):
            img[y, x] = (10 * y + x + 1, 50 + 3 * x, 200 - 7 * y)
    return img


def test_output_equals_expected_image_exactly():
    img = hand_image()
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:4] = True
    mask[0, 4] = True
    expected = np.zeros_like(img)
    for y in range(4):
        for x in range(5):
            if (1 <= y < 3 and 1 <= x < 4) or (y, x) == (0, 4):
                expected[y, x] = img[y, x]
    out = remove_background(img, mask)
    assert out.dtype == np.uint8 and np.array_equal(out, expected)
    assert np.array_equal(remove_background(img[..., 0], mask), expected[..., 0])
    with pytest.raises(ValueError, match=r'mask \(3, 5\) does not match image \(4, 5\)'):
        remove_background(img, mask[:3])


def test_instance_selection_options():
    masks = np.zeros((3, 4, 5), bool)
    masks[0, 0, 0] = masks[1, 1, 1] = masks[2, 2, 2] = True
    scores, classes = np.array([0.3, 0.9, 0.7]), np.array([0, 1, 2])
    m, kept = select_instance_mask(masks, scores, classes, 'top', 0.5)
    assert kept == [1] and np.array_equal(m, masks[1])
    m, kept = select_instance_mask(masks, scores, classes, 'union', 0.5)
    assert kept == [1, 2] and np.array_equal(m, masks[1] | masks[2])
    m, kept = select_instance_mask(masks, scores, classes, 'union', 0.0)
    assert kept == [0, 1, 2] and m.sum() == 3
    m, kept = select_instance_mask(masks, scores, classes, 'top', 0.2, class_ids=[0, 2])
    assert kept == [2] and np.array_equal(m, masks[2])
    for args in (dict(keep='top', score_threshold=0.95), dict(keep='union', score_threshold=0.5, class_ids=[0])):
        m, kept = select_instance_mask(masks, scores, classes, **args)
        assert kept == [] and m.shape == (4, 5) and not m.any()
    m, kept = select_instance_mask(np.zeros((0, 4, 5), bool), np.zeros(0), np.zeros(0), 'top', 0.5)
    assert kept == [] and not m.any()
    with pytest.raises(ValueError, match="keep='best'"):
        select_instance_mask(masks, scores, classes, 'best')


def test_cosine_equals_direct_numpy():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (6, 7, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (6, 7, 3)).astype(np.uint8)
    va, vb = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    direct = 100 * np.sum(va * vb) / np.sqrt(np.sum(va * va) * np.sum(vb * vb))
    assert cosine_similarity_percent(a, b) == pytest.approx(direct, rel=1e-12)
    assert cosine_similarity_percent(a, a) == pytest.approx(100.0)
    assert cosine_similarity_percent(a, 3 * a.astype(float)) == pytest.approx(100.0)
    z = np.zeros_like(a)
    assert cosine_similarity_percent(z, z) == 100.0 and cosine_similarity_percent(z, a) == 0.0
    s = summarize([{
        'cosine': 90.0,
        'no_instance': False
    }, {
        'cosine': 0.0,
        'no_instance': True
    }, {
        'cosine': 70.0,
        'no_instance': False
    }, {
        'cosine': None,
        'no_instance': True
    }])
    assert s == {'num_images': 4, 'num_no_instance': 2, 'mean_cosine': 80.0, 'mean_cosine_all': pytest.approx(160 / 3)}


def test_images_with_a_fake_predictor(tmp_path):
    pytest.importorskip('detectron2')
    import torch

    import segssl.detectron2  # noqa: F401  (first: stands in for a missing detectron2._C)
    # isort: split
    from detectron2.structures import Instances

    from segssl.detectron2.background import CocoGroundTruth, MaskFolderGroundTruth, remove_background_images
    rng = np.random.default_rng(1)
    h, w = 6, 8
    imgs = {n: rng.integers(1, 256, (h, w, 3)).astype(np.uint8) for n in ('a', 'b', 'c')}
    pred = {
        'a': [(0.9, 0, (slice(1, 4), slice(2, 6))), (0.6, 1, (slice(0, 2), slice(0, 2)))],
        'b': [(0.2, 0, (slice(0, 6), slice(0, 8)))],  # below the threshold
        'c': []
    }  # no detection at all
    gt = {'a': (slice(1, 5), slice(2, 6)), 'b': (slice(2, 4), slice(1, 3)), 'c': (slice(0, 1), slice(0, 8))}
    (tmp_path / 'img').mkdir()
    (tmp_path / 'gt').mkdir()
    for n, im in imgs.items():
        cv2.imwrite(str(tmp_path / 'img' / f'{n}.png'), im)
        m = np.zeros((h, w), np.uint8)
        m[gt[n]] = 255
        cv2.imwrite(str(tmp_path / 'gt' / f'{n}.png'), m)

    def predictor(image):
        name = next(n for n, im in imgs.items() if np.array_equal(im, image))
        inst = Instances((h, w))
        masks = np.zeros((len(pred[name]), h, w), bool)
        for i, (_, _, box) in enumerate(pred[name]):
            masks[i][box] = True
        inst.pred_masks = torch.from_numpy(masks)
        inst.scores = torch.tensor([s for s, _, _ in pred[name]], dtype=torch.float32)
        inst.pred_classes = torch.tensor([c for _, c, _ in pred[name]], dtype=torch.int64)
        return {'instances': inst}

    lines = []
    paths = [str(tmp_path / 'img' / f'{n}.png') for n in 'abc']
    rep = remove_background_images(predictor, paths, str(tmp_path / 'out'), 'top', 0.5, None,
                                   MaskFolderGroundTruth(str(tmp_path / 'gt')), log=lines.append)
    exp_a = np.zeros_like(imgs['a'])
    exp_a[1:4, 2:6] = imgs['a'][1:4, 2:6]
    assert np.array_equal(cv2.imread(str(tmp_path / 'out' / 'pred' / 'a.png')), exp_a)
    for n in 'bc':
        assert not cv2.imread(str(tmp_path / 'out' / 'pred' / f'{n}.png')).any()
    cos = []
    for n in 'abc':
        g = np.zeros_like(imgs[n])
        g[gt[n]] = imgs[n][gt[n]]
        assert np.array_equal(cv2.imread(str(tmp_path / 'out' / 'gt' / f'{n}.png')), g)
        o = cv2.imread(str(tmp_path / 'out' / 'pred' / f'{n}.png')).reshape(-1).astype(float)
        g = g.reshape(-1).astype(float)
        cos.append(100 * o @ g / (np.linalg.norm(o) * np.linalg.norm(g)) if o.any() else 0.0)
    recs = rep['images']
    assert [r['cosine'] for r in recs] == pytest.approx(cos)
    assert [r['no_instance'] for r in recs] == [False, True, True] and recs[0]['kept_instances'] == [0]
    assert rep['summary'] == {
        'num_images': 3,
        'num_no_instance': 2,
        'mean_cosine': pytest.approx(cos[0]),
        'mean_cosine_all': pytest.approx(np.mean(cos))
    }
    assert 'b.png: no instance passed' in lines[1] and '2 with no instance passing' in lines[-1]
    assert json.load(open(tmp_path / 'out' / 'report.json'))['summary']['num_no_instance'] == 2
    # union of instances, class filter, and COCO ground truth (union of the image's instances)
    coco = {
        'images': [{
            'id': i + 1,
            'file_name': f'{n}.png',
            'height': h,
            'width': w
        } for i, n in enumerate('abc')],
        'categories': [{
            'id': 3,
            'name': 'x'
        }, {
            'id': 7,
            'name': 'y'
        }],
        'annotations': [{
            'id': 1,
            'image_id': 1,
            'category_id': 7,
            'iscrowd': 0,
            'area': 4,
            'bbox': [0, 0, 2, 2],
            'segmentation': [[0, 0, 2, 0, 2, 2, 0, 2]]
        }]
    }
    (tmp_path / 'gt.json').write_text(json.dumps(coco))
    rep = remove_background_images(predictor, paths[:1], str(tmp_path / 'out2'), 'union', 0.5, [1],
                                   CocoGroundTruth(str(tmp_path / 'gt.json'), [1]), log=lambda s: None)
    out = cv2.imread(str(tmp_path / 'out2' / 'pred' / 'a.png'))
    exp = np.zeros_like(imgs['a'])
    exp[0:2, 0:2] = imgs['a'][0:2, 0:2]
    assert np.array_equal(out, exp) and rep['images'][0]['kept_classes'] == [1]
    gt_img = cv2.imread(str(tmp_path / 'out2' / 'gt' / 'a.png'))
    from pycocotools import mask as mask_util
    rle = mask_util.frPyObjects(coco['annotations'][0]['segmentation'], h, w)
    g = mask_util.decode(mask_util.merge(rle)).astype(bool)
    assert np.array_equal(gt_img, remove_background(imgs['a'], g))
    assert rep['images'][0]['cosine'] == pytest.approx(cosine_similarity_percent(out, gt_img))


def test_smoke_remove_background_cli_with_an_untrained_model(synthetic_root, tmp_path):
    """An untrained R18 Mask R-CNN through DefaultPredictor: nothing passes a 1.01 threshold,
    and every image is reported and counted as such."""
    pytest.importorskip('detectron2')
    coco = os.path.join(synthetic_root, 'coco')
    r = run_tool([
        'tools/remove_background.py', '--config-file',
        os.path.join(ROOT, 'configs', 'detectron2', 'mask_rcnn_R_18_FPN_synthetic_scratch.yaml'), '--input',
        os.path.join(coco, 'val'), '--output',
        str(tmp_path / 'bg'), '--gt-coco',
        os.path.join(coco, 'annotations', 'instances_val.json'), '--score-threshold', '1.01', 'INPUT.MIN_SIZE_TEST',
        '64'
    ], timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]
    rep = json.load(open(tmp_path / 'bg' / 'report.json'))
    n = len(os.listdir(os.path.join(coco, 'val')))
    assert rep['summary']['num_images'] == rep['summary']['num_no_instance'] == n
    assert rep['summary']['mean_cosine'] is None and rep['summary']['mean_cosine_all'] == 0.0
    assert r.stdout.count('no instance passed') == n

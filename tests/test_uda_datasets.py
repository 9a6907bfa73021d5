"""GTA5 / SYNTHIA label ids -> Cityscapes train ids against the published id lists, the converters
on hand-made label images, the registered datasets, and SYNTHIA's 16/13-class metric."""
import os

import numpy as np
import pytest
from conftest import run_tool
from PIL import Image

from segssl.data.uda_labels import (CITYSCAPES_TRAIN_CLASSES, GTA5_ID_TO_TRAIN_ID, SYNTHIA_13_CLASSES,
                                    SYNTHIA_16_CLASSES, SYNTHIA_ID_TO_TRAIN_ID, to_train_ids)

# cityscapesscripts/helpers/labels.py: (name, id, trainId); GTA5's label PNGs use these ids
CITYSCAPES_LABELS = [('unlabeled', 0, 255), ('ego vehicle', 1, 255), ('rectification border', 2, 255),
                     ('out of roi', 3, 255), ('static', 4, 255),
                     ('dynamic', 5, 255), ('ground', 6, 255), ('road', 7, 0), ('sidewalk', 8, 1), ('parking', 9, 255),
                     ('rail track', 10, 255), ('building', 11, 2), ('wall', 12, 3), ('fence', 13, 4),
                     ('guard rail', 14, 255), ('bridge', 15, 255), ('tunnel', 16, 255), ('pole', 17, 5),
                     ('polegroup', 18, 255), ('traffic light', 19, 6), ('traffic sign', 20, 7), ('vegetation', 21, 8),
                     ('terrain', 22, 9), ('sky', 23, 10), ('person', 24, 11), ('rider', 25, 12), ('car', 26, 13),
                     ('truck', 27, 14), ('bus', 28, 15), ('caravan', 29, 255), ('trailer', 30, 255), ('train', 31, 16),
                     ('motorcycle', 32, 17), ('bicycle', 33, 18)]
# SYNTHIA RAND-CITYSCAPES README: id -> class name, and the Cityscapes class each one is
SYNTHIA_LABELS = {
    0: 'void',
    1: 'sky',
    2: 'building',
    3: 'road',
    4: 'sidewalk',
    5: 'fence',
    6: 'vegetation',
    7: 'pole',
    8: 'car',
    9: 'traffic sign',
    10: 'pedestrian',
    11: 'bicycle',
    12: 'motorcycle',
    13: 'parking-slot',
    14: 'road-work',
    15: 'traffic light',
    16: 'terrain',
    17: 'rider',
    18: 'truck',
    19: 'bus',
    20: 'train',
    21: 'wall',
    22: 'lanemarking'
}
SYNTHIA_TO_CITYSCAPES_NAME = {'pedestrian': 'person'}


def test_gta5_every_id_lands_on_the_published_train_id():
    assert [n for n, _, t in CITYSCAPES_LABELS if t != 255] == list(CITYSCAPES_TRAIN_CLASSES)
    ids = np.array([i for _, i, _ in CITYSCAPES_LABELS] + [34, 200, 255], dtype=np.uint8)[None]
    expected = [t for _, _, t in CITYSCAPES_LABELS] + [255, 255, 255]
    assert to_train_ids(ids, GTA5_ID_TO_TRAIN_ID)[0].tolist() == expected
    for name, i, t in CITYSCAPES_LABELS:
        if t != 255:
            assert CITYSCAPES_TRAIN_CLASSES[GTA5_ID_TO_TRAIN_ID[i]] == name


def test_synthia_every_id_lands_on_the_cityscapes_class_of_the_same_name():
    ids = np.arange(0, 40, dtype=np.uint16)[None]
    got = to_train_ids(ids, SYNTHIA_ID_TO_TRAIN_ID)[0].tolist()
    for i in range(40):
        name = SYNTHIA_TO_CITYSCAPES_NAME.get(SYNTHIA_LABELS.get(i), SYNTHIA_LABELS.get(i))
        want = CITYSCAPES_TRAIN_CLASSES.index(name) if name in CITYSCAPES_TRAIN_CLASSES else 255
        assert got[i] == want, (i, name)
    assert sorted(v for v in SYNTHIA_ID_TO_TRAIN_ID.values()) == list(range(19))
    # 16 classes without terrain, truck, train; 13 also without wall, fence, pole
    names16 = [CITYSCAPES_TRAIN_CLASSES[c] for c in SYNTHIA_16_CLASSES]
    assert len(names16) == 16 and not {'terrain', 'truck', 'train'} & set(names16)
    names13 = [CITYSCAPES_TRAIN_CLASSES[c] for c in SYNTHIA_13_CLASSES]
    assert set(names16) - set(names13) == {'wall', 'fence', 'pole'}


def test_to_train_ids_rejects_non_integer_ids():
    with pytest.raises(ValueError, match='integer label ids'):
        to_train_ids(np.zeros((2, 2), np.float32), GTA5_ID_TO_TRAIN_ID)


def _palette_png(path, ids):
    im = Image.fromarray(ids.astype(np.uint8), mode='P')
    im.putpalette([v for i in range(256) for v in (i, 255 - i, 7 * i % 256)])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im.save(path)


def test_convert_gta5_tool_writes_train_ids_and_split(tmp_path):
    root = tmp_path / 'gta'
    a = np.array([[7, 8, 9, 33], [26, 0, 34, 24]], np.uint8)
    b = np.array([[11, 11], [23, 31]], np.uint8)
    for name, ids in (('00001', a), ('00002', b)):
        _palette_png(str(root / 'labels' / f'{name}.png'), ids)
        _palette_png(str(root / 'images' / f'{name}.png'), ids)  # content irrelevant here
    r = run_tool(['tools/convert_gta5.py', str(root)], timeout=120)
    assert r.returncode == 0, r.stdout
    out = np.array(Image.open(root / 'labels' / '00001_labelTrainIds.png'))
    assert out.tolist() == [[0, 1, 255, 18], [13, 255, 255, 11]]
    assert np.array(Image.open(root / 'labels' / '00002_labelTrainIds.png')).tolist() == [[2, 2], [10, 16]]
    assert open(root / 'train.txt').read() == '00001\n00002\n'
    assert not [n for n in os.listdir(root / 'labels') if n.endswith('.tmp')]
    # a re-run skips its own outputs; the registered dataset reads the result
    assert run_tool(['tools/convert_gta5.py', str(root)], timeout=120).returncode == 0
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import segssl.mmseg  # noqa: F401
    init_default_scope('mmseg')
    ds = DATASETS.build(dict(type='GTA5Dataset', data_root=str(root), pipeline=[]))
    assert len(ds) == 2 and len(ds.metainfo['classes']) == 19
    assert ds[0]['seg_map_path'].endswith('labels/00001_labelTrainIds.png')


def test_convert_synthia_reads_the_first_channel_of_16_bit_labels(tmp_path):
    import cv2
    root = tmp_path / 'synthia'
    (root / 'GT' / 'LABELS').mkdir(parents=True)
    (root / 'RGB').mkdir()
    ids = np.array([[3, 4, 2, 21], [16, 18, 20, 0], [22, 10, 11, 12]], np.uint16)
    inst = np.full_like(ids, 999)  # instance ids in the 2nd channel
    rgb = np.stack([ids, inst, np.zeros_like(ids)], axis=-1)  # R = class id
    cv2.imwrite(str(root / 'GT' / 'LABELS' / '0000000.png'), rgb[:, :, ::-1].copy())  # cv2: BGR
    cv2.imwrite(str(root / 'RGB' / '0000000.png'), np.zeros((3, 4, 3), np.uint8))
    r = run_tool(['tools/convert_synthia.py', str(root), '-o', str(tmp_path / 'lists')], timeout=120)
    assert r.returncode == 0, r.stdout
    out = np.array(Image.open(root / 'GT' / 'LABELS' / '0000000_labelTrainIds.png'))
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 1, 2, 3], [9, 14, 16, 255], [255, 11, 18, 17]]
    assert open(tmp_path / 'lists' / 'train.txt').read() == '0000000\n'
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import segssl.mmseg  # noqa: F401
    init_default_scope('mmseg')
    ds = DATASETS.build(dict(type='SynthiaDataset', data_root=str(root), pipeline=[]))
    assert len(ds) == 1 and ds[0]['seg_map_path'].endswith('GT/LABELS/0000000_labelTrainIds.png')


def test_converters_name_bad_input(tmp_path, capsys):
    from segssl.data.label_convert import main  # the tools' main, in-process
    assert main('gta5', [str(tmp_path / 'nowhere')]) == 1
    out = capsys.readouterr().out
    assert 'label folder' in out and 'nowhere' in out
    lab = tmp_path / 'gta' / 'labels'
    lab.mkdir(parents=True)
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(lab / '00001.png')  # colour, not ids
    assert main('gta5', [str(tmp_path / 'gta')]) == 1
    assert "00001.png: GTA5 label has mode 'RGB'" in capsys.readouterr().out
    assert not (lab / '00001_labelTrainIds.png').exists()
    lab = tmp_path / 'syn' / 'GT' / 'LABELS'
    lab.mkdir(parents=True)
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(lab / '0000000.png')
    assert main('synthia', [str(tmp_path / 'syn')]) == 1
    assert 'expected (H, W, 3)' in capsys.readouterr().out


def test_synthia_metric_16_and_13_classes_on_a_hand_made_confusion_matrix():
    import torch
    from mmseg.registry import METRICS

    import segssl.mmseg  # noqa: F401
    rng = np.random.default_rng(3)
    conf = rng.integers(0, 6, size=(19, 19))  # conf[gt, pred] pixel counts
    conf[9, :] = 0  # terrain never in the ground truth ...
    conf[:, 9] = 0  # ... nor predicted: its IoU is undefined
    conf[14, 3] = 40  # truck predicted as wall: an FP of wall
    gt = np.repeat(np.repeat(np.arange(19), 19), conf.ravel())
    pred = np.repeat(np.tile(np.arange(19), 19), conf.ravel())
    gt = np.concatenate([gt, [255] * 7])  # ignored pixels, whatever is predicted
    pred = np.concatenate([pred, [0] * 7])
    metric = METRICS.build(dict(type='SynthiaIoUMetric', iou_metrics=['mIoU']))
    metric.dataset_meta = dict(classes=CITYSCAPES_TRAIN_CLASSES)
    half = len(gt) // 2  # two samples, accumulated
    for sl in (slice(0, half), slice(half, None)):
        metric.process({}, [
            dict(pred_sem_seg=dict(data=torch.tensor(pred[sl])[None]), gt_sem_seg=dict(data=torch.tensor(gt[sl])[None]))
        ])
    out = metric.evaluate(2)
    tp = np.diag(conf).astype(float)
    union = conf.sum(0) + conf.sum(1) - tp
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    ref = lambda cls: round(float(np.nanmean(iou[list(cls)]) * 100), 2)  # noqa: E731
    assert out['mIoU'] == pytest.approx(ref(range(19)), abs=0.006)
    assert out['mIoU16'] == pytest.approx(ref(SYNTHIA_16_CLASSES), abs=1e-9)
    assert out['mIoU13'] == pytest.approx(ref([c for c in range(19) if c not in (3, 4, 5, 9, 14, 16)]), abs=1e-9)
    assert out['mIoU16'] != out['mIoU13'] != out['mIoU']

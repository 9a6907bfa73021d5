"""Seeded COCO subsets (the Mask R-CNN thesis: 20k train / 5k val / 5k test from train2017): same seed -> same
ids, disjoint subsets, only the chosen images' annotations, all-or-nothing writes, clear errors,
registration by name with detectron2."""
import json
import os

import numpy as np
import pytest
from conftest import run_tool

from segssl.data.coco_subset import choose_subset_ids, make_coco_subsets


def fake_coco(path, num_images=40, seed=0):
    """A COCO instances file with ids 1000 + 7 k in shuffled order, 0-3 annotations each."""
    rng = np.random.default_rng(seed)
    ids = [1000 + 7 * int(k) for k in rng.permutation(num_images)]
    anns, aid = [], 1
    for i in ids:
        for _ in range(int(rng.integers(0, 4))):
            anns.append({
                'id': aid,
                'image_id': i,
                'category_id': 1,
                'bbox': [1, 1, 4, 4],
                'area': 16,
                'iscrowd': 0,
                'segmentation': [[1, 1, 5, 1, 5, 5, 1, 5]]
            })
            aid += 1
    data = {
        'info': {
            'description': 'fake'
        },
        'licenses': [],
        'categories': [{
            'id': 1,
            'name': 'thing'
        }],
        'images': [{
            'id': i,
            'file_name': f'{i}.jpg',
            'height': 8,
            'width': 8
        } for i in ids],
        'annotations': anns
    }
    path.write_text(json.dumps(data))
    return data


def test_choose_subset_ids_against_a_direct_permutation():
    ids = [5, 3, 9, 1, 7, 11]
    got = choose_subset_ids(ids, {'train': 3, 'val': 2, 'test': 1}, seed=4)
    order = np.random.default_rng(4).permutation(6)
    s = sorted(ids)
    assert got == {
        'train': sorted(s[i] for i in order[:3]),
        'val': sorted(s[i] for i in order[3:5]),
        'test': [s[order[5]]]
    }
    assert choose_subset_ids(list(reversed(ids)), {'train': 3, 'val': 2, 'test': 1}, seed=4) == got
    with pytest.raises(ValueError, match='asked for 4 train \\+ 2 val \\+ 1 test = 7 images, but only 6'):
        choose_subset_ids(ids, {'train': 4, 'val': 2, 'test': 1}, seed=0)
    with pytest.raises(ValueError, match='not unique'):
        choose_subset_ids([1, 1, 2], {'train': 1}, seed=0)


def test_subsets_are_seeded_disjoint_and_complete(tmp_path):
    src = tmp_path / 'annotations' / 'instances_train2017.json'
    src.parent.mkdir()
    data = fake_coco(src)
    m1 = make_coco_subsets(str(src), str(tmp_path / 'a'), 'sub', 20, 8, 6, seed=3)
    make_coco_subsets(str(src), str(tmp_path / 'b'), 'sub', 20, 8, 6, seed=3)
    make_coco_subsets(str(src), str(tmp_path / 'c'), 'sub', 20, 8, 6, seed=4)
    make_coco_subsets(str(src), str(tmp_path / 'd'), 'sub', 20, 3, 3, seed=3)
    load = lambda d, s: json.load(open(tmp_path / d / f'sub_{s}.json'))  # noqa: E731
    ids = {d: {s: sorted(im['id'] for im in load(d, s)['images']) for s in ('train', 'val', 'test')} for d in 'abcd'}
    assert ids['a'] == ids['b']  # same seed -> same ids
    assert ids['a']['train'] != ids['c']['train']  # another seed -> another draw
    assert ids['d']['train'] == ids['a']['train']  # val/test sizes do not move the train draw
    a = ids['a']
    assert [len(a[s]) for s in ('train', 'val', 'test')] == [20, 8, 6]
    assert not (set(a['train']) & set(a['val']) or set(a['train']) & set(a['test']) or set(a['val']) & set(a['test']))
    for split in ('train', 'val', 'test'):
        sub = load('a', split)
        chosen = set(a[split])
        expected_anns = [x for x in data['annotations'] if x['image_id'] in chosen]
        assert sub['annotations'] == expected_anns  # exactly the chosen images' annotations
        assert sub['categories'] == data['categories'] and sub['info'] == data['info']
        assert m1['splits'][split] == {
            'json': f'sub_{split}.json',
            'num_images': len(chosen),
            'num_annotations': len(expected_anns)
        }
    assert m1['image_root'] == str(tmp_path / 'train2017') and m1['seed'] == 3
    # only-annotated draws from annotated images only
    make_coco_subsets(str(src), str(tmp_path / 'e'), 'sub', 5, 2, 2, seed=0, only_annotated=True)
    annotated = {x['image_id'] for x in data['annotations']}
    assert all(im['id'] in annotated for s in ('train', 'val', 'test') for im in load('e', s)['images'])


def test_too_many_images_is_an_error_and_nothing_is_written(tmp_path):
    src = tmp_path / 'instances_x.json'
    fake_coco(src, num_images=10)
    with pytest.raises(ValueError, match=r"instances_x.json' \(10 images\): asked for 8 train \+ 2 val \+ 1 test = 11"):
        make_coco_subsets(str(src), str(tmp_path / 'out'), 'sub', 8, 2, 1, seed=0)
    assert not (tmp_path / 'out').exists() or os.listdir(tmp_path / 'out') == []
    # an existing manifest is untouched when a later write fails
    make_coco_subsets(str(src), str(tmp_path / 'out'), 'sub', 4, 2, 1, seed=0)
    before = {f: open(tmp_path / 'out' / f).read() for f in os.listdir(tmp_path / 'out')}
    with pytest.raises(ValueError):
        make_coco_subsets(str(src), str(tmp_path / 'out'), 'sub', 9, 2, 1, seed=1)
    assert {f: open(tmp_path / 'out' / f).read() for f in os.listdir(tmp_path / 'out')} == before
    (tmp_path / 'bad.json').write_text('{"images": []}')
    with pytest.raises(ValueError, match="bad.json'.*'annotations'"):
        make_coco_subsets(str(tmp_path / 'bad.json'), str(tmp_path / 'o2'), 'sub', 1, 0, 0)


def test_registered_by_name_and_cli(tmp_path):
    src = tmp_path / 'instances_train2017.json'
    fake_coco(src, num_images=12)
    r = run_tool([
        'tools/make_coco_subset.py',
        str(src),
        str(tmp_path / 'subs'), '--train', '6', '--val', '3', '--test', '3', '--seed', '1', '--name', 'tiny',
        '--image-root',
        str(tmp_path)
    ], timeout=120)
    assert r.returncode == 0, r.stdout
    assert 'tiny_train: 6 images' in r.stdout
    pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
    from segssl.detectron2.coco_subset import register_coco_subsets
    names = register_coco_subsets(str(tmp_path / 'subs'), 'tiny')
    assert names == ['tiny_train', 'tiny_val', 'tiny_test']
    from detectron2.data import DatasetCatalog
    for split in ('train', 'val', 'test'):
        got = sorted(d['image_id'] for d in DatasetCatalog.get(f'tiny_{split}'))
        want = sorted(im['id'] for im in json.load(open(tmp_path / 'subs' / f'tiny_{split}.json'))['images'])
        assert got == want
    assert register_coco_subsets(str(tmp_path / 'subs'), 'tiny') == names  # idempotent
    with pytest.raises(FileNotFoundError, match="NAME='other'.*make_coco_subset.py"):
        register_coco_subsets(str(tmp_path / 'subs'), 'other')
    r = run_tool(['tools/make_coco_subset.py', str(src), str(tmp_path / 'x'), '--train', '20'], timeout=120)
    assert r.returncode == 2 and 'only 12 are available' in r.stdout

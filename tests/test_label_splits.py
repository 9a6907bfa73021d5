"""Label-fraction splits (the ClassMix/DACS thesis): the report's counts, nesting, determinism, atomic files, the
command-line tool, and the error when a split does not match the dataset."""
import os
import runpy

import pytest
from conftest import ROOT

from segssl.data.splits import FRACTIONS, list_train_ids, make_splits, write_splits


@pytest.mark.parametrize(
    'dataset, n, counts',
    [
        ('cityscapes', 2975, [100, 372, 744, 1488, 2975]),  # the report's 100 / 372 / 744 / 1488 / full
        ('voc_aug', 10582, [106, 212, 530, 1323, 2646, 10582]),
    ])
def test_fraction_sizes_nesting_and_determinism(dataset, n, counts):
    ids = [f'id_{i:05d}' for i in range(n)]
    splits = make_splits(ids, FRACTIONS[dataset], seed=0)
    assert [len(splits[name][0]) for name, _ in FRACTIONS[dataset]] == counts
    previous = set()
    for name, _ in FRACTIONS[dataset]:
        lab, unl = splits[name]
        assert not set(lab) & set(unl) and sorted(lab + unl) == ids and lab == sorted(lab)
        assert previous <= set(lab)  # nested: 1/30 within 1/8 ...
        previous = set(lab)
    assert make_splits(list(reversed(ids)), FRACTIONS[dataset], seed=0) == splits  # order-free
    assert make_splits(ids, FRACTIONS[dataset], seed=1)[FRACTIONS[dataset][0][0]] != splits[FRACTIONS[dataset][0][0]]


def test_write_splits_and_the_command_line_tool(synthetic_root, tmp_path, capsys):
    root = os.path.join(synthetic_root, 'cityscapes')
    ids = list_train_ids('cityscapes', root)
    assert len(ids) == 6 and all(i.startswith('synth/synth_000000_') for i in ids)
    out = str(tmp_path / 'splits')
    meta = write_splits(out, 'cityscapes', ids, seed=0)
    assert meta['fractions'] == {'1-30': 1, '1-8': 1, '1-4': 2, '1-2': 3, 'full': 6}
    lab = open(os.path.join(out, '1-2', 'labelled.txt')).read().split()
    unl = open(os.path.join(out, '1-2', 'unlabelled.txt')).read().split()
    assert sorted(lab + unl) == ids and len(lab) == 3
    assert open(os.path.join(out, 'full', 'unlabelled.txt')).read() == ''
    assert not [f for f in os.listdir(out) if f.endswith('.tmp')]
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'make_label_splits.py'))  # its main(), in-process
    assert tool['main']([root, '--dataset', 'cityscapes', '--out', str(tmp_path / 'cli')]) == 0
    for name in ('meta.json', '1-2/labelled.txt', '1-8/unlabelled.txt'):
        assert open(tmp_path / 'cli' / name).read() == open(os.path.join(out, name)).read()
    with pytest.raises(SystemExit) as e:
        tool['main']([root, '--dataset', 'cityscapes', '--seed', '3', '--out', str(tmp_path / 'cli')])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert 'holds splits of another id list or seed' in err and '--overwrite' in err
    with pytest.raises(SystemExit):
        tool['main']([str(tmp_path / 'none'), '--dataset', 'cityscapes'])
    assert 'does not exist' in capsys.readouterr().err


def test_voc_ids_come_from_the_image_sets_without_val(tmp_path):
    sets = tmp_path / 'ImageSets' / 'Segmentation'
    sets.mkdir(parents=True)
    (sets / 'train.txt').write_text('a\nb\n')
    (sets / 'aug.txt').write_text('c\nb\nv\n')
    (sets / 'val.txt').write_text('v\n')
    assert list_train_ids('voc_aug', str(tmp_path)) == ['a', 'b', 'c']
    (sets / 'trainaug.txt').write_text('x\ny\n')  # mmseg's converter output wins
    assert list_train_ids('voc_aug', str(tmp_path)) == ['x', 'y']
    with pytest.raises(FileNotFoundError, match='aug'):
        list_train_ids('voc_aug', str(tmp_path / 'ImageSets'))


def test_preflight_names_a_split_that_does_not_match_the_data(synthetic_root, tmp_path, monkeypatch):
    """What tools/train.py checks before handing over to mmseg (one clear line, no traceback)."""
    from mmengine.config import Config

    from segssl.mmseg.preflight import missing_data_folders
    data = tmp_path / 'data'
    data.mkdir()
    os.symlink(os.path.join(synthetic_root, 'cityscapes'), data / 'cityscapes')
    monkeypatch.setenv('SEGSSL_DATA_ROOT', str(data))
    wrong = tmp_path / 'wrong.txt'
    wrong.write_text('synth/synth_000000_000001\nfrankfurt/frankfurt_000000_000294\n')
    for name, key in (('supervised', 'train_dataloader.dataset.ann_file'),
                      ('classmix', 'train_dataloader.dataset.labelled.ann_file')):
        cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'semi', f'{name}_deeplabv2_r18-d8_synthetic-1-8_64x128.py'))
        problems = missing_data_folders(cfg, ['train_dataloader'])  # no split files made yet
        assert f"ann_file '{data}/cityscapes/splits/1-8/labelled.txt' does not exist" in problems[0]
        assert 'make_label_splits.py' in problems[0]
        cfg.merge_from_dict({key: str(wrong)})
        problems = missing_data_folders(cfg, ['train_dataloader'])
        assert any(f"ann_file '{wrong}': 1 of 2 samples name a img_path that does not exist, e.g. "
                   f"['{data}/cityscapes/leftImg8bit/train/frankfurt/frankfurt_000000_000294_leftImg8bit.png']" in p
                   for p in problems), problems


def test_coco_ids_are_the_instance_files_images_and_the_tool_splits_them(synthetic_root, tmp_path, capsys):
    import json
    import shutil
    coco = tmp_path / 'coco'
    shutil.copytree(os.path.join(synthetic_root, 'coco'), coco)
    images = json.load(open(coco / 'annotations' / 'instances_train.json'))['images']
    expected = sorted(os.path.splitext(im['file_name'])[0] for im in images)
    assert list_train_ids('coco', str(coco)) == expected and len(expected) == 6
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'make_label_splits.py'))
    assert tool['main']([str(coco), '--dataset', 'coco']) == 0
    meta = json.load(open(coco / 'splits' / 'meta.json'))
    assert meta['dataset'] == 'coco' and meta['fractions'] == {'1-30': 1, '1-8': 1, '1-4': 2, '1-2': 3, 'full': 6}
    lab = open(coco / 'splits' / '1-2' / 'labelled.txt').read().split()
    assert lab == make_splits(expected, FRACTIONS['coco'], seed=0)['1-2'][0]
    with pytest.raises(SystemExit) as e:
        tool['main']([str(tmp_path), '--dataset', 'coco'])
    assert e.value.code == 2 and 'annotations/instances_train.json' in capsys.readouterr().err

"""UnlabelledImageFolder: listing (ImageNet, Cityscapes layouts), errors, mmseg DATASETS build."""
import os

import numpy as np
import pytest
from PIL import Image

import segssl.mmseg.datasets  # noqa: F401  (registers UnlabelledImageFolder)
from segssl.mmseg.datasets import UnlabelledImageFolder


def _image(path, height=6, width=8, value=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array = np.full((height, width, 3), value, dtype=np.uint8)
    fmt = {'.jpg': 'JPEG', '.jpeg': 'JPEG', '.png': 'PNG', '.bmp': 'BMP'}
    Image.fromarray(array).save(path, format=fmt[os.path.splitext(path)[1].lower()])


@pytest.fixture
def imagenet_like(tmp_path):
    """train/<wnid>/*.JPEG and friends, plus files that are not images or are hidden."""
    root = tmp_path / 'imagenet'
    images = [
        'train/n02/b.JPEG', 'train/n02/a.jpeg', 'train/n01/z.png', 'train/n01/y.PNG', 'train/n01/sub/x.bmp',
        'train/top.jpg'
    ]
    for i, rel in enumerate(images):
        _image(str(root / rel), value=10 * i)
    for rel in ('train/n01/labels.txt', 'train/n02/.hidden.jpg', 'train/.cache/c.jpg', 'val/n01/v.JPEG'):
        os.makedirs(os.path.dirname(str(root / rel)), exist_ok=True)
        (root / rel).write_bytes(b'not listed')
    return str(root)


def _relative(dataset, folder):
    return [os.path.relpath(dataset.get_data_info(i)['img_path'], folder) for i in range(len(dataset))]


def test_imagenet_layout_counts_and_sorted_order(imagenet_like):
    dataset = UnlabelledImageFolder(data_root=imagenet_like, data_prefix=dict(img_path='train'))
    folder = os.path.join(imagenet_like, 'train')
    expected = ['n01/sub/x.bmp', 'n01/y.PNG', 'n01/z.png', 'n02/a.jpeg', 'n02/b.JPEG', 'top.jpg']
    assert _relative(dataset, folder) == [p.replace('/', os.sep) for p in expected]
    assert set(dataset.get_data_info(0)) == {'img_path', 'sample_idx'}
    # An absolute prefix ignores data_root; max_images keeps the first of the sorted list.
    first = UnlabelledImageFolder(data_prefix=dict(img_path=folder), max_images=2)
    assert _relative(first, folder) == [p.replace('/', os.sep) for p in expected[:2]]
    # Extensions are configurable, case-insensitive, with or without the dot.
    pngs = UnlabelledImageFolder(data_root=imagenet_like, data_prefix=dict(img_path='train'), extensions=('PNG', ))
    assert _relative(pngs, folder) == [os.path.join('n01', 'y.PNG'), os.path.join('n01', 'z.png')]


def test_cityscapes_layout(tmp_path):
    from segssl.synthetic import generate
    root = str(tmp_path / 'synthetic')
    generate(root, num_train=4, num_val=2, height=64, width=128, parts=('cityscapes', ))
    cityscapes = os.path.join(root, 'cityscapes')
    for split, count in (('train', 4), ('val', 2)):
        dataset = UnlabelledImageFolder(data_root=cityscapes, data_prefix=dict(img_path=f'leftImg8bit/{split}'))
        paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
        assert len(paths) == count
        assert all(p.endswith('_leftImg8bit.png') for p in paths)
        assert paths == sorted(paths)  # <city>/<name> sorted; same folders as os.walk finds
        on_disk = sorted(
            os.path.join(d, f) for d, _, fs in os.walk(os.path.join(cityscapes, 'leftImg8bit', split)) for f in fs)
        assert paths == on_disk


def test_errors_name_the_folder_and_what_was_expected(tmp_path, imagenet_like):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='does not exist') as info:
        UnlabelledImageFolder(data_root=missing, data_prefix=dict(img_path='train'))
    assert os.path.join(missing, 'train') in str(info.value)
    empty = tmp_path / 'empty' / 'train'
    (empty / 'n01').mkdir(parents=True)
    (empty / 'n01' / 'notes.txt').write_text('x')
    with pytest.raises(FileNotFoundError, match='no image under') as info:
        UnlabelledImageFolder(data_prefix=dict(img_path=str(empty)))
    assert str(empty) in str(info.value) and "'.jpeg'" in str(info.value)
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        UnlabelledImageFolder(data_prefix=dict(img_path=str(empty / 'n01' / 'notes.txt')))
    with pytest.raises(ValueError, match='max_images=0'):
        UnlabelledImageFolder(data_root=imagenet_like, data_prefix=dict(img_path='train'), max_images=0)
    with pytest.raises(KeyError, match='img_path'):
        UnlabelledImageFolder(data_root=imagenet_like, data_prefix=dict(img='train'))


def test_build_through_mmseg_datasets_with_load_image(imagenet_like):
    from mmseg.registry import DATASETS
    dataset = DATASETS.build(
        dict(type='UnlabelledImageFolder', data_root=imagenet_like, data_prefix=dict(img_path='train/n01'),
             pipeline=[dict(type='LoadImageFromFile')]))
    assert isinstance(dataset, UnlabelledImageFolder) and len(dataset) == 3
    item = dataset[1]  # n01/y.PNG, written with value 10 * 3
    assert item['img_path'].endswith('y.PNG') and item['img'].shape == (6, 8, 3)
    assert item['img'].dtype == np.uint8 and (item['img'] == 30).all()
    assert item['ori_shape'] == (6, 8)

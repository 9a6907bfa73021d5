"""Files written through segssl's atomic-write helper (segssl.io.atomic) get the mode a plain
``open(path, 'w')`` gives them, 0o666 & ~umask (0644 under umask 022, as mmengine's and
detectron2's own files have; 0600 under 077), not the 0600 of the temporary file they start as;
a replaced file keeps its mode; folders renamed into place get 0o777 & ~umask."""
import os
import pickle
import runpy
import stat

import numpy as np
import pytest
import torch
import torchvision
from conftest import ROOT

from segssl.convert import convert
from segssl.data.splits import write_splits
from segssl.io.atomic import atomic_outputs, temporary_folder
from segssl.runs.plots import plot_curves


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.fixture(scope='module')
def resnet18_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('src') / 'r18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), path)
    return str(path)


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(r, n), folder) for r, _, names in os.walk(folder) for n in names)


@pytest.mark.parametrize('umask, expected', [(0o022, 0o644), (0o077, 0o600), (0o027, 0o640)], indirect=['umask'],
                         ids=['umask022', 'umask077', 'umask027'])
def test_checkpoints_splits_and_figures_get_the_umask_mode(umask, expected, resnet18_file, tmp_path):
    convert(resnet18_file, str(tmp_path / 'ckpt' / 'r18_mmseg.pth'), 'mmseg')
    convert(resnet18_file, str(tmp_path / 'ckpt' / 'r18_d2.pkl'), 'detectron2')
    convert(resnet18_file, str(tmp_path / 'ckpt' / 'r18_tv.pth'), 'torchvision')
    write_splits(str(tmp_path / 'splits'), 'cityscapes', [f'city/{i:03d}' for i in range(12)])
    plot_curves({'run': [(0, 1.0), (10, 0.5)]}, str(tmp_path / 'fig' / 'loss.png'), 'loss')
    pets = runpy.run_path(os.path.join(ROOT, 'tools', 'make_pets_splits.py'))
    pets['write_lists'](str(tmp_path / 'pets'), {'1pct': ['a'], 'test': ['b', 'c']})
    written = {d: files_under(tmp_path / d) for d in ('ckpt', 'splits', 'fig', 'pets')}
    assert written == {
        'ckpt': ['r18_d2.pkl', 'r18_d2.yaml', 'r18_mmseg.pth', 'r18_tv.pth'],
        'splits': [
            '1-2/labelled.txt', '1-2/unlabelled.txt', '1-30/labelled.txt', '1-30/unlabelled.txt', '1-4/labelled.txt',
            '1-4/unlabelled.txt', '1-8/labelled.txt', '1-8/unlabelled.txt', 'full/labelled.txt', 'full/unlabelled.txt',
            'meta.json'
        ],
        'fig': ['loss.png'],
        'pets': ['1pct.txt', 'test.txt']
    }
    modes = {f'{d}/{f}': oct(mode(tmp_path / d / f)) for d, names in written.items() for f in names}
    assert modes == {k: oct(expected) for k in modes}
    with open(tmp_path / 'plain.txt', 'w'):  # the reference: what open() gives
        pass
    assert mode(tmp_path / 'plain.txt') == expected
    assert pickle.load(open(tmp_path / 'ckpt' / 'r18_d2.pkl', 'rb'))['__author__'] == 'segssl'


@pytest.mark.parametrize('umask', [0o022], indirect=True, ids=['umask022'])
def test_a_replaced_file_keeps_its_mode(umask, tmp_path):
    dst = tmp_path / 'table.md'
    dst.write_text('old\n')
    os.chmod(dst, 0o604)
    with atomic_outputs(str(dst)) as (tmp, ):
        assert mode(tmp) == 0o644  # the temporary file: the new-file mode
        with open(tmp, 'w') as f:
            f.write('new\n')
    assert (dst.read_text(), mode(dst)) == ('new\n', 0o604)
    assert os.listdir(tmp_path) == ['table.md']


@pytest.mark.parametrize('umask', [0o277], indirect=True, ids=['umask277'])
def test_a_umask_without_owner_write_still_writes_then_sets_its_mode(umask, tmp_path):
    """open(dst, 'w') under umask 277 creates a read-only 0400 file it can still write; so does
    the helper (its temporary file stays writable until the content is complete)."""
    dst = tmp_path / 'weights.json'
    with atomic_outputs(str(dst)) as (tmp, ):
        with open(tmp, 'w') as f:
            f.write('[1.0]\n')
    assert (dst.read_text(), mode(dst)) == ('[1.0]\n', 0o400)


@pytest.mark.parametrize('umask, expected', [(0o022, 0o755), (0o077, 0o700)], indirect=['umask'],
                         ids=['umask022', 'umask077'])
def test_folders_renamed_into_place_get_the_umask_mode(umask, expected, tmp_path):
    folder = temporary_folder(str(tmp_path), '.train.')
    assert os.path.basename(folder).startswith('.train.') and folder.endswith('.tmp')
    assert mode(folder) == expected
    os.rmdir(folder)
    cifar = runpy.run_path(os.path.join(ROOT, 'tools', 'export_cifar10.py'))
    images = np.zeros((2, 32, 32, 3), np.uint8)
    counts = cifar['export']({'train': (images, np.array([0, 1]))}, ['cat', 'dog'], str(tmp_path / 'cifar'))
    assert counts == {'train': [1, 1]}
    assert files_under(tmp_path / 'cifar') == ['train/cat/00000.png', 'train/dog/00001.png']
    assert [oct(mode(tmp_path / 'cifar' / p)) for p in ('train', 'train/cat', 'train/dog')] == \
        [oct(expected)] * 3
    assert oct(mode(tmp_path / 'cifar' / 'train' / 'cat' / '00000.png')) == oct(expected & 0o666)

"""The unlabelled pretraining pool (segssl.synthetic.pool): deterministic, disjoint from the labelled
and validation scenes, made once and reused, and its command line."""
import hashlib
import json
import os

import numpy as np
import pytest
from conftest import run_tool
from PIL import Image

from segssl.synthetic import ensure_pool, generate, pool_image, write_pool

H, W = 32, 64


def _digests(folder):
    return {
        hashlib.sha256(np.asarray(Image.open(os.path.join(r, f))).tobytes()).hexdigest()
        for r, _, files in os.walk(folder)
        for f in files if f.endswith('.png') and 'gtFine' not in r
    }


def test_pool_is_byte_identical_for_the_same_options(tmp_path):
    write_pool(str(tmp_path / 'a'), 5, H, W, seed=0)
    write_pool(str(tmp_path / 'b'), 5, H, W, seed=0)
    for name in sorted(os.listdir(tmp_path / 'a' / 'images')):
        assert (tmp_path / 'a' / 'images' / name).read_bytes() == (tmp_path / 'b' / 'images' / name).read_bytes()
    assert json.load(open(tmp_path / 'a' / 'meta.json'))['num'] == 5
    other = write_pool(str(tmp_path / 'c'), 5, H, W, seed=1)
    assert other['seed'] == 1 and not _digests(tmp_path / 'c') & _digests(tmp_path / 'a')


def test_pool_scenes_are_none_of_the_labelled_or_validation_scenes(tmp_path):
    generate(str(tmp_path / 'labelled'), num_train=12, num_val=6, height=H, width=W, seed=0, parts=['cityscapes'])
    write_pool(str(tmp_path / 'pool'), 24, H, W, seed=0)
    pool, labelled = _digests(tmp_path / 'pool'), _digests(tmp_path / 'labelled' / 'cityscapes' / 'leftImg8bit')
    assert len(pool) == 24 and len(labelled) == 18  # every scene distinct
    assert not pool & labelled
    # the same draw as the pool image that write_pool wrote (pool_image is the one definition)
    first = np.asarray(Image.open(tmp_path / 'pool' / 'images' / 'pool_000000.png'))
    assert np.array_equal(first, pool_image(0, 0, H, W))


def test_ensure_pool_makes_once_replaces_other_options_and_never_touches_other_folders(tmp_path):
    out = str(tmp_path / 'pool')
    assert ensure_pool(out, 3, H, W) is True
    stamp = os.stat(os.path.join(out, 'images', 'pool_000000.png')).st_mtime_ns
    assert ensure_pool(out, 3, H, W) is False  # reused
    assert os.stat(os.path.join(out, 'images', 'pool_000000.png')).st_mtime_ns == stamp
    assert ensure_pool(out, 4, H, W) is True and len(os.listdir(os.path.join(out, 'images'))) == 4
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'keep.txt').write_text('a user folder')
    with pytest.raises(FileExistsError, match='is not a segssl pool'):
        ensure_pool(str(mine), 3, H, W)
    assert (mine / 'keep.txt').read_text() == 'a user folder'


def test_pool_command_line(tmp_path):
    r = run_tool(['tools/make_synthetic_data.py', str(tmp_path / 'pool'), '--pool', '2', '--size', f'{H}x{W}'])
    assert r.returncode == 0, r.stdout
    assert sorted(os.listdir(tmp_path / 'pool' / 'images')) == ['pool_000000.png', 'pool_000001.png']
    bad = run_tool(['tools/make_synthetic_data.py', str(tmp_path / 'bad'), '--pool', '0'])
    assert bad.returncode == 2 and 'make_synthetic_data: error: pool num=0: expected an int in 1..' in bad.stdout
    assert not (tmp_path / 'bad').exists()

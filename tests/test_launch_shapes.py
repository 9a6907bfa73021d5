"""Every real-data mmseg config carries its launch shape (issue #17 item 13), mmseg's convention:
the name holds ``{gpus}xb{batch per GPU}``, ``train_dataloader.batch_size`` is that per-GPU batch
and ``auto_scale_lr`` holds the report's global batch, from one table here."""
import glob
import os
import re

import pytest
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
CONFIGS = os.path.join(ROOT, 'configs')
# the reports' global batches (issue #17): pattern of the config's path -> global batch
GLOBAL = [
    (r'pretrain/pixpro_.*-mbn_3xb16-30ep', 48),  # the "(48)" rows
    (r'pretrain/pixpro_', 64),  # ablations on 3 GPUs, final on 4
    (r'finetune/fcn16_', 7),
    (r'semi/.*_cityscapes-', 2),  # 2 labelled + 2 unlabelled
    (r'semi/.*_voc-aug-', 10),  # 10 + 10
    (r'uda/', 2),  # 2 source + 2 target
    (r'finetune/erfnet/', 20),
    (r'pretrain/erfnet_(colorization|otsu)', 20),  # encoder-decoder pretext tasks
    (r'pretrain/erfnet_', 128),  # encoder-only pretext tasks
    (r'pretrain/byol_', 64),
    (r'pretrain/simclr', 256),  # the SimCLR report (one GPU)
    (r'finetune/twoblock_', 32),
    (r'finetune/deeplabv2_', 2),
    (r'custom/pixpro_', 64),  # your own data: the GPU templates
    (r'custom/', 2),
]
# where the global batch does not divide over the report's GPU count, the nearest shape
NEAREST = {64: {3: 21}}


def real_data_configs():
    return sorted(
        os.path.relpath(p, CONFIGS) for p in glob.glob(os.path.join(CONFIGS, '*', '**', '*.py'), recursive=True)
        if '_base_' not in p and 'synthetic' not in p and 'quickstart' not in p
        and not ('custom' in p and '_r18' in p))  # the CPU templates of your own data


def test_the_table_covers_every_real_data_config():
    names = real_data_configs()
    assert len(names) == 95
    assert [n for n in names if not any(re.search(p, n) for p, _ in GLOBAL)] == []


@pytest.fixture
def classes_txt(tmp_path, monkeypatch):
    # the configs/custom templates read MYDATA/classes.txt when parsed
    (tmp_path / 'classes.txt').write_text('a\nb\n')
    monkeypatch.setenv('SEGSSL_DATA_ROOT', str(tmp_path))


@pytest.mark.parametrize('name', real_data_configs())
def test_name_batch_and_global_batch_agree(name, classes_txt):
    from mmengine.config import Config
    m = re.search(r'_(\d+)xb(\d+)[-_]', os.path.basename(name))
    assert m, f'{name}: no {{gpus}}xb{{batch}} in the name'
    gpus, per_gpu = int(m.group(1)), int(m.group(2))
    expected = next(g for p, g in GLOBAL if re.search(p, name))
    cfg = Config.fromfile(os.path.join(CONFIGS, name))
    assert cfg.train_dataloader.batch_size == per_gpu
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=expected)
    assert gpus * per_gpu == expected or NEAREST[expected][gpus] == per_gpu


def test_synthetic_twins_state_their_own_batch():
    # a CPU twin that inherits a real-data config must not carry the real global batch
    from mmengine.config import Config
    for p in glob.glob(os.path.join(CONFIGS, '*', '**', '*synthetic*.py'), recursive=True):
        cfg = Config.fromfile(p)
        asl = cfg.get('auto_scale_lr')
        assert asl is None or asl['base_batch_size'] == cfg.train_dataloader.batch_size, p

"""SEGSSL_VIS (configs/_base_/segssl_runtime.py) picks mmengine's vis_backends, LocalVisBackend
always: the config resolves to the documented lists; an unknown value or a missing package is one
line on stderr, exit 2, before anything is built; a 2-iteration run with tensorboard writes event
files holding the same scalars as scalars.json (which is still written)."""
import glob
import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import ROOT, skip_without_mmseg

from segssl.runs import mmengine_scalars, scalars_files

skip_without_mmseg()
QUICKSTART = os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py')
LOCAL = dict(type='LocalVisBackend')


@pytest.mark.parametrize('value, backends', [(None, [LOCAL]), ('local', [LOCAL]),
                                             ('tensorboard', [LOCAL, dict(type='TensorboardVisBackend')]),
                                             ('wandb', [LOCAL, dict(type='WandbVisBackend')])])
def test_segssl_vis_selects_the_backend_list(value, backends, monkeypatch):
    from mmengine.config import Config
    if value is None:
        monkeypatch.delenv('SEGSSL_VIS', raising=False)
    else:
        monkeypatch.setenv('SEGSSL_VIS', value)
    find_spec = importlib.util.find_spec  # the list is checked here, not the package
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: object()
                        if name == value else find_spec(name, *a))
    cfg = Config.fromfile(QUICKSTART)
    assert cfg.visualizer.vis_backends == backends and cfg.vis_backends == backends
    assert cfg.visualizer.type == 'SegLocalVisualizer' and cfg.visualizer.name == 'visualizer'
    assert not [k for k in cfg if k.startswith('_vis') or k in ('sys', 'importlib')]  # helpers deleted


@pytest.mark.parametrize('package', ['tensorboard', 'wandb'])
def test_a_backend_without_its_package_is_one_line(package, monkeypatch, capsys):
    from mmengine.config import Config
    monkeypatch.setenv('SEGSSL_VIS', package)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == package else find_spec(name, *a))
    with pytest.raises(ValueError) as e:  # an error a script can catch, not an exit
        Config.fromfile(QUICKSTART)
    assert str(e.value) == (f'segssl_runtime.py: SEGSSL_VIS={package} needs the {package} '
                            f'package, which is not installed (pip install {package})')


def test_an_unknown_value_is_one_line_from_train_py(tmp_path):
    env = dict(os.environ, SEGSSL_VIS='tensorbord', PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')
    r = subprocess.run([sys.executable, 'tools/train.py', QUICKSTART, '--work-dir',
                        str(tmp_path / 'w')], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr == (f"train.py: error: config {QUICKSTART}: segssl_runtime.py: SEGSSL_VIS='tensorbord': "
                        "expected one of local, tensorboard, wandb\n")
    assert 'Traceback' not in r.stdout and not os.path.exists(tmp_path / 'w')


def test_tensorboard_run_logs_the_scalars_of_scalars_json(synthetic_root, tmp_path, monkeypatch):
    assert importlib.util.find_spec('tensorboard') is not None, 'both pinned stacks ship tensorboard'
    from conftest import train_quickstart_two_iterations
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    monkeypatch.setenv('SEGSSL_VIS', 'tensorboard')
    work = tmp_path / 'w'
    code = train_quickstart_two_iterations(work, 'vis_backends_tensorboard')
    assert code == 0
    (scalars, ) = scalars_files(str(work))
    records = mmengine_scalars(str(work))
    (events, ) = glob.glob(str(work / '*' / 'vis_data' / 'events.out.tfevents.*'))
    tb = EventAccumulator(events).Reload()
    train = [r for r in records if 'loss' in r]
    assert [e.step for e in tb.Scalars('loss')] == [r['step'] for r in train] == [1, 2]
    assert [e.value for e in tb.Scalars('loss')] == pytest.approx([r['loss'] for r in train], rel=1e-6)
    (val, ) = [r for r in records if 'mIoU' in r]
    for key in ('mIoU', 'aAcc', 'IoU.sky', 'IoU.road'):
        (event, ) = tb.Scalars(key)
        assert event.step == val['step'] == 2 and event.value == pytest.approx(val[key], rel=1e-6)

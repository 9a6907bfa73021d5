"""tools/compute_class_weights.py: ENet weights w = 1/ln(1.02 + p) from label PNGs, written as
a JSON list that mmseg's CrossEntropyLoss reads and a config snippet; clear errors."""
import json
import math
import os

import numpy as np
import pytest
from conftest import ROOT, run_tool, skip_without_mmseg
from PIL import Image

SUFFIX = '_gtFine_labelTrainIds.png'


def save(path, arr, mode='L'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(arr, dtype=np.uint8), mode=mode).save(path)


@pytest.fixture
def labels(tmp_path):
    root = tmp_path / 'gtFine' / 'train'
    save(str(root / 'a' / f'x_000001{SUFFIX}'), [[0, 0, 1, 1], [2, 255, 0, 0]])
    save(str(root / 'b' / f'y_000002{SUFFIX}'), [[1, 1, 255, 0]])
    save(str(root / 'b' / 'y_000002_gtFine_color.png'), [[9, 9, 9, 9]])  # not a label file
    return root


def test_weights_equal_the_formula_and_load_into_mmseg(labels, tmp_path):
    out = str(tmp_path / 'w' / 'enet')
    r = run_tool(['tools/compute_class_weights.py', str(labels), '--num-classes', '4', '--out', out])
    assert r.returncode == 0, r.stdout
    counts = [5, 4, 1, 0]  # 255 excluded, class 3 absent
    expected = [1 / math.log(1.02 + n / 10) for n in counts]
    weights = json.load(open(out + '.json'))
    assert np.allclose(weights, expected, rtol=0, atol=1e-12)
    assert '2 label files, 10 labelled pixels' in r.stdout
    from mmengine.config import Config
    snippet = Config.fromfile(out + '.py')
    assert snippet.class_pixel_counts == counts and np.allclose(snippet.class_weight, expected, atol=1e-6)
    skip_without_mmseg()
    from mmseg.models.losses import CrossEntropyLoss
    assert np.allclose(CrossEntropyLoss(class_weight=out + '.json').class_weight, expected, atol=1e-12)
    assert sorted(os.listdir(tmp_path / 'w')) == ['enet.json', 'enet.py']  # no temporaries left


@pytest.mark.parametrize('case, message', [
    ('value', 'x_000001_gtFine_labelTrainIds.png: values [7] outside 0..3 (ignore_index 255)'),
    ('rgb', 'expected a single-channel integer label map, found shape (1, 2, 3)'),
    ('corrupt', 'cannot read as an image'),
    ('empty', "no label file ending in '_gtFine_labelTrainIds.png'"),
])
def test_bad_label_files_are_named_and_nothing_is_written(case, message, tmp_path, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location('ccw', os.path.join(ROOT, 'tools', 'compute_class_weights.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root = tmp_path / 'labels'
    os.makedirs(root)
    name = str(root / f'x_000001{SUFFIX}')
    if case == 'value':
        save(name, [[0, 7, 255]])
    elif case == 'rgb':
        save(name, np.zeros((1, 2, 3)), mode='RGB')
    elif case == 'corrupt':
        open(name, 'wb').write(b'not a png')
    out = str(tmp_path / 'out' / 'w')
    with pytest.raises(SystemExit) as e:
        tool.main([str(root), '--num-classes', '4', '--out', out])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith('compute_class_weights: error: '), err
    assert len(err.splitlines()) == 1, err
    assert not os.path.exists(tmp_path / 'out')

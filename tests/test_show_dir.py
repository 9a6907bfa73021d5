"""mmseg's tools/test.py --show-dir on segssl configs (issue 18): every config keeps mmseg's
SegVisualizationHook in default_hooks (and segssl's PerClassMetricsHook beside it); after a
2-iteration run, test.py --show-dir draws one PNG per test image, ground truth beside prediction,
for a plain EncoderDecoder and for the ClassMix student/teacher wrapper."""
import ast
import glob
import os
import re
import sys

import cv2
from conftest import ROOT, SMALL, run_tool, skip_without_mmseg

mmseg = skip_without_mmseg()
CONFIGS = os.path.join(ROOT, 'configs')
QUICKSTART = os.path.join(CONFIGS, 'quickstart', 'fcn_r18-d8_synthetic-128x256.py')
CLASSMIX = os.path.join(CONFIGS, 'semi', 'classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py')
TWO_ITERS = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
    'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2'
]


def _bases(path):
    """The files ``path`` names in ``_base_`` (env defaults filled in, ``mmseg::`` resolved)."""
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == '_base_':
            value = ast.literal_eval(node.value)
            for base in [value] if isinstance(value, str) else value:
                base = re.sub(r'\{\{\$\w+:(.*?)\}\}', r'\1', base)
                if base.startswith('mmseg::'):
                    yield os.path.join(mmseg.__path__[0], '.mim', 'configs', base[len('mmseg::'):])
                else:
                    yield os.path.normpath(os.path.join(os.path.dirname(path), base))


def _hook_providers(path):
    """Every file in the base chain of ``path`` (itself included) that assigns default_hooks."""
    found = [p for base in _bases(path) for p in _hook_providers(base)]
    return found + [path] if re.search(r'^default_hooks\s*=', open(path).read(), re.M) else found


def test_every_config_keeps_the_visualization_and_per_class_hooks(monkeypatch):
    """default_hooks is a merged dict: each config's comes from the files of its base chain that
    assign it. Every config has such a file, and each of them, loaded, keeps both hooks."""
    from mmengine.config import Config
    configs = [
        p for p in glob.glob(os.path.join(CONFIGS, '**', '*.py'), recursive=True) if os.sep + '_base_' + os.sep not in p
    ]
    assert len(configs) > 100
    providers = {}
    for path in configs:
        chain = _hook_providers(path)
        assert chain, f'{path}: no file of its base chain sets default_hooks'
        providers.update(dict.fromkeys(chain))
    assert len(providers) >= 10
    for path in providers:
        hooks = Config.fromfile(path).default_hooks
        assert hooks.visualization == dict(type='SegVisualizationHook', interval=1), path
        assert hooks.per_class_metrics == dict(type='PerClassMetricsHook'), path


def _train(config, work, name, extra=()):
    """Two iterations through mmseg's train.py in this process (its own visualizer by name)."""
    from segssl.mmseg.tools import run_mmseg_tool
    argv = sys.argv[:]
    try:
        code = run_mmseg_tool(
            'train.py',
            [config, '--work-dir',
             str(work), '--cfg-options', *TWO_ITERS, f'visualizer.name={name}', *extra])
    finally:
        sys.argv = argv
    assert code == 0 and os.path.isfile(work / 'iter_2.pth')


def _val_images(synthetic_root):
    return sorted(glob.glob(os.path.join(synthetic_root, 'cityscapes', 'leftImg8bit', 'val', '*', '*.png')))


def _check_drawings(show_dir, synthetic_root):
    """One PNG per test image, named by mmseg's hook, ground truth | prediction side by side."""
    images = _val_images(synthetic_root)
    assert len(images) == SMALL['num_val'] == 3
    drawn = sorted(glob.glob(os.path.join(show_dir, 'vis_data', 'vis_image', '*.png')))
    assert [os.path.basename(p) for p in drawn] == [f'test_{os.path.basename(p)}_0.png' for p in images]
    for path in drawn:
        assert cv2.imread(path).shape == (SMALL['height'], 2 * SMALL['width'], 3)


def test_show_dir_draws_every_test_image_of_a_quickstart_run(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    _train(QUICKSTART, tmp_path / 'fcn', 'show_dir_fcn')
    show = tmp_path / 'show'
    r = run_tool([
        'tools/test.py', QUICKSTART,
        str(tmp_path / 'fcn' / 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--show-dir',
        str(show)
    ], env={'SEGSSL_DATA_ROOT': synthetic_root})
    assert r.returncode == 0, r.stdout[-4000:]
    _check_drawings(show, synthetic_root)


def test_show_dir_draws_the_predictions_of_a_classmix_wrapper(synthetic_root, tmp_path, monkeypatch):
    """ClassMixSegmentor (student + EMA teacher) predicts through its eval model, whose data
    samples carry pred_sem_seg; test.py runs on the config train.py dumped (its label splits)."""
    from segssl.data.splits import list_train_ids, write_splits
    from segssl.mmseg.tools import run_mmseg_tool
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    root = os.path.join(synthetic_root, 'cityscapes')
    write_splits(str(tmp_path / 'splits'), 'cityscapes', list_train_ids('cityscapes', root), seed=0)
    work = tmp_path / 'classmix'
    _train(CLASSMIX, work, 'show_dir_classmix_train', [
        f'train_dataloader.dataset.labelled.ann_file={tmp_path}/splits/1-2/labelled.txt',
        f'train_dataloader.dataset.unlabelled.ann_file={tmp_path}/splits/1-2/unlabelled.txt'
    ])
    show, argv = tmp_path / 'show', sys.argv[:]
    try:
        code = run_mmseg_tool('test.py', [
            str(work / os.path.basename(CLASSMIX)),
            str(work / 'iter_2.pth'), '--work-dir',
            str(tmp_path / 'test'), '--show-dir',
            str(show), '--cfg-options', 'visualizer.name=show_dir_classmix_test'
        ])
    finally:
        sys.argv = argv
    assert code == 0
    _check_drawings(show, synthetic_root)

"""The preflight of tools/train.py and tools/test.py (segssl.mmseg.preflight / input_checks) and
of tools/train_net.py: label ids outside the model's classes, images that do not decode,
checkpoints that do not exist, a wrong config path and a missing detectron2 synthetic root each
end, before any work, with one line on stderr naming the file, exit code 2, no traceback and no
work dir; preflight.skip_unreadable leaves unreadable images out with a warning instead."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, skip_without_mmseg
from PIL import Image

skip_without_mmseg()
QUICKSTART = os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py')
FINETUNE = os.path.join(ROOT, 'configs', 'finetune', 'fcn16_r18-d16_synthetic-128x256.py')
CLASSMIX = os.path.join(ROOT, 'configs', 'semi', 'classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py')
CLASSES = '(background,box,disc,bar)'
SHORT = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False'
]


def draw(root, split, name, size=(48, 64), seed=0, ext='.jpg'):
    """An image and its 4-class label map (0 background, 1 a box, 2 a disc, 3 a bar, 255 a thin
    ignored border) at ``root/img/<split>/<name><ext>`` and ``root/labels/<split>/<name>.png``."""
    h, w = size
    rng = np.random.default_rng(seed)
    label = np.zeros((h, w), np.uint8)
    y0, x0 = rng.integers(2, h // 2), rng.integers(2, w // 2)
    label[y0:y0 + h // 3, x0:x0 + w // 3] = 1
    yy, xx = np.mgrid[:h, :w]
    cy, cx, r = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4), h // 6
    label[(yy - cy)**2 + (xx - cx)**2 <= r * r] = 2
    label[h - 6:h - 3, 4:w - 4] = 3
    label[0, :] = 255
    colours = np.array([[40, 40, 40], [200, 30, 30], [30, 200, 30], [30, 30, 200]], np.uint8)
    image = colours[np.minimum(label, 3)] + rng.integers(0, 20, (h, w, 3)).astype(np.uint8)
    for kind, arr in (('img', image), ('labels', label)):
        os.makedirs(os.path.join(root, kind, split), exist_ok=True)
    Image.fromarray(image).save(os.path.join(root, 'img', split, name + ext))
    Image.fromarray(label).save(os.path.join(root, 'labels', split, name + '.png'))
    return os.path.join(root, 'labels', split, name + '.png')


def drawn_set(root, num_train=6, num_val=3):
    for split, n in (('train', num_train), ('val', num_val)):
        for i in range(n):
            draw(str(root), split, f'img_{i:03d}', seed=100 * (split == 'val') + i)
    return str(root)


def set_label(path, value, where=(slice(10, 14), slice(10, 14))):
    label = np.array(Image.open(path))
    label[where] = value
    Image.fromarray(label).save(path)


def dataset_options(root, loaders=('train', 'val')):
    """--cfg-options that point the quickstart config's Cityscapes layout at the drawn set."""
    opts = ['model.decode_head.num_classes=4', 'model.auxiliary_head.num_classes=4']
    for split in loaders:
        d = f'{split}_dataloader.dataset'
        folder = 'train' if split == 'train' else 'val'
        opts += [
            f'{d}.type=BaseSegDataset', f'{d}.data_root={root}', f'{d}.data_prefix.img_path=img/{folder}',
            f'{d}.data_prefix.seg_map_path=labels/{folder}', f'{d}.img_suffix=.jpg', f'{d}.seg_map_suffix=.png',
            f'{d}.metainfo.classes={CLASSES}'
        ]
    return opts


def run(args, env=None, timeout=600):
    """A tool in a subprocess with stdout and stderr apart (conftest.run_tool merges them)."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2', **(env or {}))
    for name in [k for k, v in full_env.items() if v is None]:
        del full_env[name]
    return subprocess.run([sys.executable] + list(args), cwd=ROOT, env=full_env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one_error_line(r, tool='train.py'):
    """The single line a preflight failure writes on stderr, asserting that it is the last one
    and that the others (if any) are Python warnings the stack prints on import (e.g. setuptools'
    pkg_resources deprecation on the newer stack)."""
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    lines = r.stderr.strip().splitlines()
    assert lines and lines[-1].startswith(f'{tool}: error: '), r.stderr[-3000:]
    others = [line for line in lines[:-1] if not ('Warning: ' in line or line.startswith('  '))]
    assert others == [], r.stderr[-3000:]
    assert 'Traceback' not in r.stdout + r.stderr
    return lines[-1]


def test_label_id_outside_the_classes_is_named_in_train_and_val_labels(tmp_path):
    data = drawn_set(tmp_path / 'data')
    bad = os.path.join(data, 'labels', 'train', 'img_003.png')
    set_label(bad, 7)
    work = tmp_path / 'work'
    r = run(['tools/train.py', QUICKSTART, '--work-dir', str(work), '--cfg-options'] + dataset_options(data))
    line = one_error_line(r)
    assert line.startswith(f'train.py: error: {bad} holds ids [7] outside 0..3 (num_classes=4, ignore 255): '
                           'train_dataloader.dataset, 1 label file(s) hold such ids (all 6 checked)'), line
    assert line.endswith('fix the labels or model.decode_head.num_classes'), line
    assert not work.exists()  # stopped before mmseg made the work dir
    # the same in a validation label (which would otherwise pass silently and lower mIoU)
    set_label(bad, 1)
    bad_val = os.path.join(data, 'labels', 'val', 'img_001.png')
    set_label(bad_val, 9)
    set_label(bad_val, 7, (slice(20, 22), slice(20, 22)))
    r = run(['tools/train.py', QUICKSTART, '--work-dir', str(work), '--cfg-options'] + dataset_options(data))
    line = one_error_line(r)
    assert f'error: {bad_val} holds ids [7, 9] outside 0..3 (num_classes=4, ignore 255): val_dataloader.dataset, ' \
           '1 label file(s) hold such ids (all 3 checked)' in line, line
    assert not work.exists()
    # test.py checks its test set the same way (its CHECKPOINT must exist first)
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'')
    r = run(['tools/test.py', QUICKSTART,
             str(ckpt), '--work-dir', str(work), '--cfg-options'] + dataset_options(data, ('test', )))
    assert f'{bad_val} holds ids [7, 9]' in one_error_line(r, 'test.py') and not work.exists()
    r = run(['tools/test.py', QUICKSTART, str(tmp_path / 'none.pth'), '--cfg-options'] +
            dataset_options(data, ('test', )))
    assert one_error_line(r, 'test.py') == (f'test.py: error: checkpoint {tmp_path}/none.pth (the CHECKPOINT argument) '
                                            'does not exist: expected a checkpoint written by tools/train.py '
                                            '(WORK_DIR/iter_N.pth)')


def test_unreadable_image_is_named_or_skipped_with_a_warning(tmp_path):
    data = drawn_set(tmp_path / 'data')
    broken = os.path.join(data, 'img', 'train', 'broken.jpg')
    draw(data, 'train', 'broken')
    with open(broken, 'wb') as f:
        f.write(b'\xff\xd8 this is not a JPEG')
    work = tmp_path / 'work'
    r = run(['tools/train.py', QUICKSTART, '--work-dir', str(work), '--cfg-options'] + dataset_options(data))
    line = one_error_line(r)
    assert line.startswith(
        f"train.py: error: image {broken} cannot be decoded by the pipeline's LoadImageFromFile "
        f'(AssertionError: failed to load image: {broken}): train_dataloader.dataset, 1 unreadable'), line
    assert 'preflight.skip_unreadable=True' in line and not work.exists()
    # with the option: one warning naming it, and training runs its 2 iterations without it
    r = run(['tools/train.py', QUICKSTART, '--work-dir',
             str(work), '--cfg-options', 'preflight.skip_unreadable=True'] + SHORT + dataset_options(data))
    assert r.returncode == 0, r.stderr[-4000:]
    warnings = [l for l in r.stderr.splitlines() if l.startswith('train.py: warning:')]
    assert warnings == [
        f'train.py: warning: preflight.skip_unreadable: train_dataloader.dataset: leaving out 1 '
        f'unreadable image(s) found in the checked sample: {broken} (AssertionError: failed to '
        f'load image: {broken})'
    ], r.stderr[-3000:]
    assert os.path.isfile(work / 'iter_2.pth')
    from mmengine.config import Config
    dumped = Config.fromfile(str(work / os.path.basename(QUICKSTART)))
    assert dumped.train_dataloader.dataset.indices == [1, 2, 3, 4, 5, 6]  # broken.jpg sorts first
    assert 'indices' not in dumped.val_dataloader.dataset


def test_missing_backbone_names_its_environment_variable(tmp_path, synthetic_root):
    r = run(['tools/train.py', FINETUNE, '--work-dir', str(tmp_path / 'w')], env={
        'SEGSSL_DATA_ROOT': synthetic_root,
        'SEGSSL_BACKBONE': None
    })
    assert one_error_line(r) == (
        'train.py: error: checkpoint work_dirs/pretrained/r18_mmseg.pth (model.backbone.init_cfg.checkpoint, '
        "set by SEGSSL_BACKBONE, which is not set: the config's default) does not exist: set SEGSSL_BACKBONE "
        'to a converted backbone (python tools/convert_checkpoint.py SSL_CKPT OUT.pth --to mmseg), or start '
        'from random weights with --cfg-options model.backbone.init_cfg=None')
    assert not (tmp_path / 'w').exists()


def test_checkpoint_checks_in_process(tmp_path, monkeypatch, synthetic_root):
    """Set and unset variables, nested (ClassMix) init_cfg, load_from, remote paths skipped."""
    from mmengine.config import Config

    from segssl.mmseg.checkpoint_checks import missing_checkpoints
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'r18.pth'))
    cfg = Config.fromfile(FINETUNE)
    assert missing_checkpoints(cfg, FINETUNE, 'train.py') == [
        f'checkpoint {tmp_path}/r18.pth (model.backbone.init_cfg.checkpoint, set by SEGSSL_BACKBONE) does not '
        'exist: set SEGSSL_BACKBONE to a converted backbone (python tools/convert_checkpoint.py SSL_CKPT OUT.pth '
        '--to mmseg), or start from random weights with --cfg-options model.backbone.init_cfg=None'
    ]
    (tmp_path / 'r18.pth').write_bytes(b'')
    assert missing_checkpoints(cfg, FINETUNE, 'train.py') == []
    cfg.merge_from_dict({'load_from': 'nowhere/iter_9.pth'})
    assert missing_checkpoints(cfg, FINETUNE, 'train.py') == [
        'checkpoint nowhere/iter_9.pth (load_from) does not exist: fix load_from to an existing checkpoint '
        '(e.g. WORK_DIR/iter_N.pth)'
    ]
    assert missing_checkpoints(cfg, FINETUNE, 'test.py', str(tmp_path / 'r18.pth')) == []  # test.py: its argument
    cfg = Config.fromfile(CLASSMIX)
    cfg.merge_from_dict({
        'model.segmentor.backbone.init_cfg': dict(_delete_=True, type='Pretrained', checkpoint='no/r18.pth'),
        'model.segmentor.decode_head.init_cfg': dict(_delete_=True, type='Pretrained',
                                                     checkpoint='torchvision://resnet18'),
        'model.segmentor.pretrained': 'open-mmlab://resnet18_v1c'
    })
    problems = missing_checkpoints(cfg, CLASSMIX, 'train.py')
    assert len(problems) == 1 and problems[0].startswith(
        'checkpoint no/r18.pth (model.segmentor.backbone.init_cfg.checkpoint) does not exist: point '
        'model.segmentor.backbone.init_cfg.checkpoint at a converted backbone'), problems
    assert problems[0].endswith('--cfg-options model.segmentor.backbone.init_cfg=None')


def test_wrong_config_path_is_one_line(tmp_path):
    for tool, extra in (('train.py', []), ('test.py', ['ckpt.pth'])):
        r = run([f'tools/{tool}', 'configs/quickstart/no_such_config.py'] + extra + ['--work-dir', str(tmp_path / 'w')])
        assert one_error_line(r, tool) == (
            f'{tool}: error: config configs/quickstart/no_such_config.py does not exist: expected the path of '
            'an mmengine config file (e.g. configs/quickstart/fcn_r18-d8_synthetic-128x256.py)')
    assert not (tmp_path / 'w').exists()


def test_labels_pass_through_the_datasets_reduce_zero_label(tmp_path):
    """Ids are checked after LoadAnnotations: with reduce_zero_label 0 -> 255 and 1..4 -> 0..3."""
    from mmengine.config import Config

    from segssl.mmseg.preflight import content_checks
    data = drawn_set(tmp_path / 'data', num_train=3, num_val=0)
    for i in range(3):
        path = os.path.join(data, 'labels', 'train', f'img_{i:03d}.png')
        label = np.array(Image.open(path))
        Image.fromarray(np.where(label == 255, 0, label + 1).astype(np.uint8)).save(path)  # ids 0..4
    cfg = Config.fromfile(QUICKSTART)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in dataset_options(data, ('train', ))[2:]))
    cfg.merge_from_dict({
        'train_dataloader.dataset.metainfo.classes': ('background', 'box', 'disc', 'bar'),
        'model.decode_head.num_classes': 4
    })
    opts = dict(max_labels=200, max_images=50, skip_unreadable=False)
    [check] = content_checks(cfg, ['train_dataloader'], opts)
    assert len(check.problems) == 1 and 'holds ids [4] outside 0..3' in check.problems[0], check.problems
    cfg.merge_from_dict({'train_dataloader.dataset.reduce_zero_label': True})
    [check] = content_checks(cfg, ['train_dataloader'], opts)
    assert check.problems == []


def test_a_dataset_that_lists_no_samples_is_named(tmp_path):
    from mmengine.config import Config

    from segssl.mmseg.preflight import content_checks
    data = drawn_set(tmp_path / 'data', num_train=2, num_val=0)
    cfg = Config.fromfile(QUICKSTART)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in dataset_options(data, ('train', ))[2:]))
    cfg.merge_from_dict({'train_dataloader.dataset.img_suffix': '.png'})  # the images are .jpg
    [check] = content_checks(cfg, ['train_dataloader'], dict(max_labels=200, max_images=50, skip_unreadable=False))
    assert check.problems == [
        f"train_dataloader.dataset lists no samples (data_root '{data}', data_prefix {{'img_path': 'img/train', "
        "'seg_map_path': 'labels/train'}, img_suffix '.png'): expected image files there with the suffix the "
        'dataset names'
    ]


def test_spread_sample_and_options():
    from mmengine.config import Config

    from segssl.mmseg.input_checks import preflight_options, spread_sample
    assert spread_sample(5, 200) == [0, 1, 2, 3, 4] and spread_sample(5, None) == [0, 1, 2, 3, 4]
    s = spread_sample(2000, 200)
    assert len(s) == 200 and s[0] == 0 and s[-1] == 1999 and set(np.diff(s)) <= {10, 11}
    assert spread_sample(2000, 200) == s  # the same files every run
    assert preflight_options(Config(dict())) == dict(max_labels=200, max_images=50, skip_unreadable=False)
    with pytest.raises(
            ValueError, match=r"preflight.skip_unredable: unknown option, expected one of "
            r"\['max_images', 'max_labels', 'skip_unreadable'\]"):
        preflight_options(Config(dict(preflight=dict(skip_unredable=True))))
    with pytest.raises(ValueError, match='preflight.max_images=0: expected a positive number'):
        preflight_options(Config(dict(preflight=dict(max_images=0))))


def test_label_check_takes_seconds_on_two_thousand_files(tmp_path):
    """~2,000 small label maps: the sampled check (200 labels, 50 images, spread evenly) takes a
    few seconds at most and catches a bad id in a sampled file (the last one always is)."""
    from mmengine.config import Config

    from segssl.mmseg.preflight import content_checks
    n = 2000
    root = tmp_path / 'many'
    rng = np.random.default_rng(0)
    for split in ('img', 'labels'):
        (root / split / 'train').mkdir(parents=True)
    image = Image.fromarray(rng.integers(0, 255, (16, 32, 3)).astype(np.uint8))
    for i in range(n):
        image.save(root / 'img' / 'train' / f'img_{i:04d}.jpg')
        Image.fromarray(rng.integers(0, 4,
                                     (16, 32)).astype(np.uint8)).save(root / 'labels' / 'train' / f'img_{i:04d}.png')
    set_label(str(root / 'labels' / 'train' / f'img_{n - 1:04d}.png'), 5, (slice(0, 2), slice(0, 2)))
    cfg = Config.fromfile(QUICKSTART)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in dataset_options(str(root), ('train', ))[2:]))
    cfg.merge_from_dict({
        'train_dataloader.dataset.metainfo.classes': ('background', 'box', 'disc', 'bar'),
        'model.decode_head.num_classes': 4
    })
    t = time.perf_counter()
    [check] = content_checks(cfg, ['train_dataloader'], dict(max_labels=200, max_images=50, skip_unreadable=False))
    seconds = time.perf_counter() - t
    print(f"preflight of {n} samples (200 label maps and 50 images read): {seconds:.2f} s")
    assert seconds < 5, seconds
    assert len(check.problems) == 1 and check.problems[0].startswith(
        f'{root}/labels/train/img_{n - 1:04d}.png holds ids [5] outside 0..3 (num_classes=4, ignore 255): '
        'train_dataloader.dataset, 1 label file(s) hold such ids (200 of 2000 checked, spread evenly: '
        'preflight.max_labels=None checks all)'), check.problems


def test_detectron2_missing_synthetic_root_is_one_line(tmp_path):
    pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
    missing = str(tmp_path / 'nowhere')
    config = os.path.join(ROOT, 'configs', 'detectron2', 'mask_rcnn_R_18_FPN_synthetic_scratch.yaml')
    r = run([
        'tools/train_net.py', '--config-file', config, 'SEGSSL.SYNTHETIC_ROOT', missing, 'OUTPUT_DIR',
        str(tmp_path / 'out')
    ])
    assert r.returncode == 2, r.stderr[-3000:]
    assert 'Traceback' not in r.stdout + r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"train_net.py: error: synthetic COCO set not found under SEGSSL.SYNTHETIC_ROOT='{missing}': expected "
        f'{missing}/coco/annotations/instances_train.json and {missing}/coco/train; generate it with '
        f'`python tools/make_synthetic_data.py {missing}` or set SEGSSL.SYNTHETIC_ROOT to the folder it wrote')
    assert not (tmp_path / 'out').exists()

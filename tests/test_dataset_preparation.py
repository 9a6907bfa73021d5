"""Dataset preparation (README, "Preparing the datasets"): the layout the README gives is the one
the configs read, the validation resolution of the ClassMix/DACS thesis configs is the reference code's
(Cityscapes mIoU at 512x1024, VOC at native size) with mmseg's as an option, and
tools/export_cifar10.py turns CIFAR-10's pickled batches into the image folder the SimCLR config
reads, pixel for pixel."""
import importlib.util
import inspect
import os
import pickle
import re
import struct
import tarfile

import numpy as np
import pytest
from conftest import ROOT, run_tool, skip_without_mmseg
from PIL import Image

skip_without_mmseg()

TOOL = os.path.join(ROOT, 'tools', 'export_cifar10.py')
ENV_VARS = ('SEGSSL_DATA_ROOT', 'SEGSSL_CITYSCAPES_ROOT', 'SEGSSL_GTA5_ROOT', 'SEGSSL_SYNTHIA_ROOT',
            'SEGSSL_FRAMES_ROOT', 'SEGSSL_CITYSCAPES_VAL', 'SEGSSL_VOC_VAL')
CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def load(rel, monkeypatch, **env):
    from mmengine.config import Config
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Config.fromfile(os.path.join(ROOT, 'configs', rel))


# ---- validation resolution -----------------------------------------------------------------------

LOAD, ANN, PACK = dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')
CS_RESIZE = dict(type='Resize', scale=(1024, 512), keep_ratio=True)
ORI_SHAPE = dict(type='KeyMapper', mapping=dict(ori_shape='img_shape'), remapping=dict(ori_shape='ori_shape'),
                 transforms=[])
CS_512 = [LOAD, ANN, CS_RESIZE, ORI_SHAPE, PACK]  # label resized with the image, ori_shape := 512x1024
CS_FULL = [LOAD, CS_RESIZE, ANN, PACK]  # label loaded after the resize: 1024x2048
CITYSCAPES_CONFIGS = [
    'semi/classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py',
    'semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-full_512x1024_40k.py',
    'uda/dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py',
    'uda/source-only_deeplabv2_r101-d8_1xb2_synthia-to-cityscapes-512x512_250k.py'
]
VOC_CONFIGS = [
    'semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py',
    'semi/supervised_deeplabv2_r101-d8_1xb10_voc-aug-full_321x321_40k.py'
]


def _pipelines(cfg):
    return [list(map(dict, cfg[k].dataset.pipeline)) for k in ('val_dataloader', 'test_dataloader')]


@pytest.mark.parametrize('rel', CITYSCAPES_CONFIGS)
def test_cityscapes_val_is_scored_at_512x1024_by_default_and_full_size_as_option(rel, clean_env):
    cfg = load(rel, clean_env)
    assert cfg.cityscapes_val == '512x1024'
    assert _pipelines(cfg) == [CS_512, CS_512]
    assert cfg.val_dataloader.dataset.data_prefix == dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')
    assert list(map(dict, cfg.test_pipeline)) == CS_FULL  # inference_model predicts at the image size
    full = load(rel, clean_env, SEGSSL_CITYSCAPES_VAL='full')
    assert full.cityscapes_val == 'full' and _pipelines(full) == [CS_FULL, CS_FULL]


def test_erfnet_cityscapes_fine_tunes_score_at_the_512x1024_they_resize_labels_to(clean_env):
    """The ERFNet thesis evaluates at 512x1024 with labels resized (nearest); ori_shape must follow, or
    mmseg upsamples the prediction to 1024x2048 and IoUMetric fails on the shape mismatch."""
    cfg = load('finetune/erfnet/erfnet_rotation_1xb20_cityscapes-512x1024.py', clean_env)
    assert _pipelines(cfg) == [CS_512, CS_512]


@pytest.mark.parametrize('rel', VOC_CONFIGS)
def test_voc_val_runs_at_native_size_by_default_and_mmseg_2048x512_as_option(rel, clean_env):
    import mmseg
    from mmengine.config import Config
    cfg = load(rel, clean_env)
    assert cfg.voc_val == 'native'
    assert _pipelines(cfg) == [[LOAD, ANN, PACK]] * 2
    assert cfg.val_dataloader.dataset.ann_file == 'ImageSets/Segmentation/val.txt'
    assert cfg.val_dataloader.dataset.data_prefix.seg_map_path == 'SegmentationClass'
    option = load(rel, clean_env, SEGSSL_VOC_VAL='2048x512')
    mmseg_base = Config.fromfile(
        os.path.join(os.path.dirname(mmseg.__file__), '.mim', 'configs', '_base_', 'datasets', 'pascal_voc12.py'))
    assert _pipelines(option) == [list(map(dict, mmseg_base.test_pipeline))] * 2


@pytest.mark.parametrize('rel, var', [(CITYSCAPES_CONFIGS[0], 'SEGSSL_CITYSCAPES_VAL'),
                                      (CITYSCAPES_CONFIGS[2], 'SEGSSL_CITYSCAPES_VAL'),
                                      (VOC_CONFIGS[0], 'SEGSSL_VOC_VAL')])
def test_an_unknown_val_resolution_is_refused_with_its_name(rel, var, clean_env):
    with pytest.raises(Exception, match=f"{var}='1024x2048': expected"):
        load(rel, clean_env, **{var: '1024x2048'})


def _cityscapes_val_sample(root, label):
    """One Cityscapes-layout val image (1024x2048, smooth) and its train-id label."""
    img_dir, lab_dir = os.path.join(root, 'leftImg8bit', 'val', 'city'), os.path.join(root, 'gtFine', 'val', 'city')
    os.makedirs(img_dir)
    os.makedirs(lab_dir)
    ramp = np.linspace(0, 255, label.shape[1], dtype=np.float32).astype(np.uint8)
    Image.fromarray(np.stack([np.broadcast_to(ramp, label.shape)] * 3,
                             -1)).save(os.path.join(img_dir, 'city_000000_000000_leftImg8bit.png'))
    Image.fromarray(label).save(os.path.join(lab_dir, 'city_000000_000000_gtFine_labelTrainIds.png'))


@pytest.mark.parametrize('choice, side', [('512x1024', (512, 1024)), ('full', (1024, 2048))])
def test_the_prediction_and_label_meet_at_the_chosen_resolution(choice, side, clean_env, tmp_path):
    """Through mmseg's own dataset, pipeline, segmentor postprocess and IoUMetric: the network
    input is 512x1024 either way; the label and the prediction are compared at ``side``, so
    IoUMetric counts side[0] * side[1] pixels (minus ignored ones) and a prediction equal to the
    label at 512x1024 scores 100 in the default."""
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.evaluation import IoUMetric
    from mmseg.models.segmentors.base import BaseSegmentor
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 19, (128, 256)).astype(np.uint8)
    coarse[:8, :8] = 255  # ignored pixels
    label = np.kron(coarse, np.ones((8, 8), np.uint8))  # 1024x2048, 8x8 blocks
    _cityscapes_val_sample(str(tmp_path), label)
    cfg = load(CITYSCAPES_CONFIGS[2], clean_env, SEGSSL_CITYSCAPES_ROOT=str(tmp_path), SEGSSL_CITYSCAPES_VAL=choice)
    sample = DATASETS.build(cfg.val_dataloader.dataset)[0]
    inputs, data_sample = sample['inputs'], sample['data_samples']
    assert tuple(inputs.shape[1:]) == (512, 1024)
    gt = data_sample.gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, label if choice == 'full' else label[::2, ::2])
    # logits of a perfect 512x1024 prediction (one-hot of the nearest-resized label; ignored -> 0)
    small = torch.from_numpy(label[::2, ::2].astype(np.int64)).clamp(max=18)
    logits = torch.nn.functional.one_hot(small, 19).permute(2, 0, 1)[None].float()
    out = BaseSegmentor.postprocess_result(type('S', (), {'align_corners': False})(), logits, [data_sample])
    assert tuple(out[0].pred_sem_seg.data.shape[1:]) == side == tuple(gt.shape)
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=tuple(range(19)))
    metric.process({}, [out[0].to_dict()])
    counted = float(metric.results[0][3].sum())  # area_label: scored pixels
    ignored = 64 * 64 if choice == 'full' else 32 * 32  # the 255 corner at that size
    assert counted == side[0] * side[1] - ignored  # 2,093,056 or 523,264
    if choice == '512x1024':
        assert metric.compute_metrics(metric.results)['mIoU'] == 100.0


# ---- the README's layout is the configs' ---------------------------------------------------------

LAYOUT_CONFIGS = [
    'semi/classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py',
    'semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py',
    'uda/dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py',
    'uda/dacs_deeplabv2_r101-d8_1xb2_synthia-to-cityscapes-512x512_250k.py',
    'finetune/fcn16_r50-d16_1xb7_cityscapes-768x768.py',
    'pretrain/erfnet_rotation-waug_1xb128_cityscapes-extra.py',
    'pretrain/pixpro_r50_3xb21-30ep_imagenet.py',
    'pretrain/erfnet_otsu-noaug_1xb20_imagenet-224.py',
    'pretrain/byol_r50-h4096_1xb64_coco2014-224.py',
    'finetune/twoblock_r34-os8_1xb32_pets-128x128_1pct.py',
    'pretrain/simclr_r34-3x3stem_1xb256_cifar10-32px.py',
    'pretrain/simclr_r34-3x3stem_1xb256_inat-animals-64px.py',
    'pretrain/simclr-video-anchor_r34-3x3stem_1xb256_animal-kingdom-64px.py',
]


def _readme_section():
    text = open(os.path.join(ROOT, 'README.md')).read()
    start = text.index('### Preparing the datasets\n')
    return text[start:text.index('\n### ', start + 1)]


def _datasets(ds):
    if isinstance(ds, dict):
        if ds.get('type') == 'PairedDataset':
            yield from _datasets(ds['labelled'])
            yield from _datasets(ds['unlabelled'])
        else:
            yield ds


def _class_default(dataset_type, name):
    from mmseg.registry import DATASETS

    import segssl.mmseg.datasets  # noqa: F401  (GTA5Dataset, SynthiaDataset)
    cls = DATASETS.get(dataset_type)
    for klass in cls.__mro__:
        param = inspect.signature(klass.__init__).parameters.get(name)
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    return None


@pytest.mark.parametrize('rel', LAYOUT_CONFIGS)
def test_every_folder_and_suffix_a_config_reads_is_in_the_readme(rel, clean_env):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    section = _readme_section()
    cfg = load(rel, clean_env)
    checked = 0
    for loader in ('train_dataloader', 'val_dataloader'):
        if not cfg.get(loader):
            continue
        for ds in _datasets(cfg[loader].dataset):
            root = ds.data_root.rstrip('/')
            prefix = dict(ds.get('data_prefix') or _class_default(ds.type, 'data_prefix') or {})
            for key in ('img_path', 'seg_map_path'):
                if key in prefix:
                    path = f'{root}/{prefix[key]}'.rstrip('/') + '/'
                    assert f'`{path}' in section, f'{rel}: {loader} reads {path}'
                    checked += 1
            if ds.get('ann_file'):
                top = f"{root}/{ds.ann_file.split('/')[0]}/"
                assert f'`{top}' in section, f'{rel}: {loader} reads {root}/{ds.ann_file}'
            for key in ('img_suffix', 'seg_map_suffix'):
                if ds.type in ('UnlabelledImageFolder', 'FrameFolderDataset'):
                    continue  # any image extension
                suffix = ds.get(key) or _class_default(ds.type, key)
                assert suffix and f'{suffix}`' in section, f'{rel}: {ds.type} reads *{suffix}'
    assert checked >= 1


def test_the_detectron2_coco_subset_folder_is_in_the_readme():
    section = _readme_section()
    yaml = open(os.path.join(ROOT, 'configs', 'detectron2', 'Base-mask_rcnn_R_50_FPN_coco-subset.yaml')).read()
    folder = re.search(r'DIR:\s*"([^"]+)"', yaml).group(1)
    assert folder == 'datasets/coco2017_subset' and f'`{folder}/`' in section
    assert ('python tools/make_coco_subset.py datasets/coco/annotations/instances_train2017.json '
            'datasets/coco2017_subset') in section


# ---- tools/export_cifar10.py ---------------------------------------------------------------------


def _py2(value):
    """``value`` pickled as Python 2's cPickle (protocol 2) writes CIFAR-10's batches: py2 ``str``
    as (SHORT_)BINSTRING, numpy arrays through ``numpy.core.multiarray._reconstruct`` with their
    bytes as a BINSTRING. Python 3's pickle cannot write this form, so the opcodes are spelled out."""

    def string(b):
        b = b.encode('latin1') if isinstance(b, str) else b
        return b'U' + bytes([len(b)]) + b if len(b) < 256 else b'T' + struct.pack('<i', len(b)) + b

    def integer(n):
        return b'K' + bytes([n]) if 0 <= n < 256 else b'J' + struct.pack('<i', n)

    if isinstance(value, (str, bytes)):
        return string(value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, list):
        return b']' + (b'(' + b''.join(map(_py2, value)) + b'e' if value else b'')
    if isinstance(value, dict):
        return b'}(' + b''.join(_py2(k) + _py2(v) for k, v in value.items()) + b'u'
    assert isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 2
    dtype = (b'cnumpy\ndtype\n' + string('u1') + integer(0) + integer(1) + b'\x87R' + b'(' + integer(3) + string('|') +
             b'NNN' + integer(-1) + integer(-1) + integer(0) + b'tb')
    return (b'cnumpy.core.multiarray\n_reconstruct\n' + b'cnumpy\nndarray\n' + integer(0) + b'\x85' + string('b') +
            b'\x87R' + b'(' + integer(1) + integer(value.shape[0]) + integer(value.shape[1]) + b'\x86' + dtype +
            b'\x89' + string(value.tobytes()) + b'tb')


def _write_py2(path, value):
    with open(path, 'wb') as f:
        f.write(b'\x80\x02' + _py2(value) + b'.')


@pytest.fixture
def fake_cifar(tmp_path):
    """A cifar-10-batches-py folder: 5 train batches of 3 images, a test batch of 4, the meta;
    returns (folder, {split: (images (N, 32, 32, 3), labels)})."""
    rng = np.random.default_rng(0)
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    _write_py2(folder / 'batches.meta', {'num_cases_per_batch': 3, 'label_names': CLASSES, 'num_vis': 3072})
    expected = {}
    for split, names, n in (('train', [f'data_batch_{i}' for i in range(1, 6)], 3), ('test', ['test_batch'], 4)):
        images, labels = [], []
        for name in names:
            rows = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            lab = [int(x) for x in rng.integers(0, 10, n)]
            _write_py2(
                folder / name, {
                    'batch_label': f'{name} of fake',
                    'labels': lab,
                    'data': rows,
                    'filenames': [f'img_{i}.png' for i in range(n)]
                })
            # a row is the R, G, B 32x32 planes, row-major: pixel (y, x) = row[c * 1024 + y * 32 + x]
            images += [np.stack([r[c * 1024:(c + 1) * 1024].reshape(32, 32) for c in range(3)], -1) for r in rows]
            labels += lab
        expected[split] = (np.stack(images), labels)
    return folder, expected


def _check_export(out, expected):
    for split, (images, labels) in expected.items():
        assert sorted(os.listdir(out / split)) == sorted(CLASSES)  # every class folder, even empty
        files = sorted((c, f) for c in CLASSES for f in os.listdir(out / split / c))
        assert len(files) == len(images)
        for i, (img, label) in enumerate(zip(images, labels)):
            path = out / split / CLASSES[label] / f'{i:05d}.png'
            with Image.open(path) as im:
                assert im.mode == 'RGB' and im.size == (32, 32)
                np.testing.assert_array_equal(np.asarray(im), img)
    assert not [n for n in os.listdir(out) if n.startswith('.')]  # no temporary folder left


def test_export_from_the_extracted_folder_gives_the_arrays_as_pngs(fake_cifar, tmp_path):
    folder, expected = fake_cifar
    out = tmp_path / 'cifar10'
    r = run_tool([TOOL, str(folder), '--out', str(out)])
    assert r.returncode == 0, r.stdout
    _check_export(out, expected)
    counts = np.bincount(expected['test'][1], minlength=10)
    assert f'wrote {out}/test: 4 images, ' + ', '.join(f'{n} {c}' for n, c in zip(CLASSES, counts)) in r.stdout


def test_export_from_the_tar_gz_without_extracting_it(fake_cifar, tmp_path):
    folder, expected = fake_cifar
    archive = tmp_path / 'cifar-10-python.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(folder, arcname='cifar-10-batches-py')
    out = tmp_path / 'out'
    r = run_tool([TOOL, str(archive), '--out', str(out), '--splits', 'train'])
    assert r.returncode == 0, r.stdout
    assert sorted(os.listdir(out)) == ['train']
    _check_export(out, {'train': expected['train']})
    assert not (tmp_path / 'out' / 'cifar-10-batches-py').exists()


def _tool_module():
    spec = importlib.util.spec_from_file_location('export_cifar10', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_batches_are_read_through_the_restricted_unpickler(fake_cifar, tmp_path):
    """A batch whose pickle imports os.system is refused before anything runs or is written; a
    plain pickle.load would have run it."""
    folder, _ = fake_cifar
    marker = tmp_path / 'ran'

    class Evil:

        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    with open(folder / 'data_batch_3', 'wb') as f:
        pickle.dump({'data': Evil()}, f, protocol=2)
    out = tmp_path / 'out'
    r = run_tool([TOOL, str(folder), '--out', str(out)])
    assert r.returncode == 2
    assert r.stdout.strip().splitlines() == [
        f'export_cifar10: error: {folder}/data_batch_3: refused to load: its pickle imports posix.system, '
        'which is not CIFAR data (numpy arrays, lists, strings, numbers)'
    ]
    assert not marker.exists() and not out.exists()
    mod = _tool_module()
    with pytest.raises(mod.CifarInputError, match='refused'):
        mod.read_cifar10(str(folder), ['train'])
    assert mod.read_cifar10(str(folder), ['test'])[0]['test'][0].shape == (4, 32, 32, 3)


@pytest.mark.parametrize('case, message', [
    ('no-source', 'no such file or folder'),
    ('not-cifar-folder', 'no batches.meta in this folder or in cifar-10-batches-py/ under it'),
    ('missing-batch', 'missing test_batch: expected CIFAR-10\'s python version'),
    ('not-a-tar', 'not a tar archive'),
    ('wrong-shape', '"data" is a uint8 array of shape (3, 1024), expected a uint8 array of shape (N, 3072)'),
    ('bad-label', 'labels outside 0..9 (found 0..10'),
    ('not-a-pickle', 'not a readable pickle'),
])
def test_bad_input_is_one_line_and_exit_code_2_and_nothing_is_written(case, message, fake_cifar, tmp_path):
    folder, _ = fake_cifar
    source = folder
    if case == 'no-source':
        source = tmp_path / 'nowhere'
    elif case == 'not-cifar-folder':
        source = tmp_path / 'empty'
        source.mkdir()
    elif case == 'missing-batch':
        os.remove(folder / 'test_batch')
    elif case == 'not-a-tar':
        source = tmp_path / 'cifar-10-python.tar.gz'
        source.write_bytes(b'not an archive')
    elif case == 'wrong-shape':
        _write_py2(folder / 'data_batch_2', {'data': np.zeros((3, 1024), np.uint8), 'labels': [0, 1, 2]})
    elif case == 'bad-label':
        _write_py2(folder / 'test_batch', {'data': np.zeros((4, 3072), np.uint8), 'labels': [0, 10, 2, 3]})
    elif case == 'not-a-pickle':
        (folder / 'batches.meta').write_bytes(b'\x80\x02}(U')
    out = tmp_path / 'out'
    r = run_tool([TOOL, str(source), '--out', str(out)])
    assert r.returncode == 2, r.stdout
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('export_cifar10: error: ') and message in lines[0], lines
    assert not out.exists()


def test_an_existing_export_is_kept_unless_overwrite(fake_cifar, tmp_path):
    folder, expected = fake_cifar
    out = tmp_path / 'cifar10'
    (out / 'train' / 'stale').mkdir(parents=True)
    r = run_tool([TOOL, str(folder), '--out', str(out)])
    assert r.returncode == 2 and 'already exist' in r.stdout and '--overwrite' in r.stdout
    assert os.listdir(out / 'train') == ['stale'] and not (out / 'test').exists()
    r = run_tool([TOOL, str(folder), '--out', str(out), '--overwrite'])
    assert r.returncode == 0, r.stdout
    _check_export(out, expected)  # 'stale' is gone


def test_a_failure_while_writing_leaves_no_split_and_no_temporary_folder(fake_cifar, tmp_path, monkeypatch):
    """The splits are renamed into place only after all are written: a failure in the second
    split leaves neither, and no hidden temporary folder."""
    folder, _ = fake_cifar
    mod = _tool_module()
    data, names = mod.read_cifar10(str(folder), ['train', 'test'])
    real, calls = mod._write_split, []

    def failing(dst, images, labels, names):
        calls.append(dst)
        if len(calls) == 2:
            real(dst, images[:1], labels[:1], names)
            raise OSError('disk full')
        real(dst, images, labels, names)

    monkeypatch.setattr(mod, '_write_split', failing)
    out = tmp_path / 'out'
    with pytest.raises(OSError, match='disk full'):
        mod.export(data, names, str(out))
    assert len(calls) == 2 and os.listdir(out) == []


def test_every_option_has_help_and_a_default():
    r = run_tool([TOOL, '--help'])
    assert r.returncode == 0
    text = ' '.join(r.stdout.split())
    for option, default in (('--out', 'default: data/cifar10'), ('--splits', 'default: train test'),
                            ('--overwrite', 'default: refuse and exit 2')):
        assert option in text and default in text, option

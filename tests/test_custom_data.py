"""Your own data (issue #18 item 1): a dataset the project does not generate, drawn here (shapes
of 4 classes, jpg images, nested unlabelled folders, a second domain), trains 3 iterations
through each CPU template in configs/custom/ with mmseg's train.py and evaluates."""
import os

import numpy as np
import pytest
from conftest import ROOT, run_tool, skip_without_mmseg
from PIL import Image

from segssl.runs import mmengine_scalars

skip_without_mmseg()
CUSTOM = os.path.join(ROOT, 'configs', 'custom')
CLASSES = ['background', 'box', 'disc', 'bar']


def draw(path_img, path_label, rng, tint):
    h, w = int(rng.integers(80, 120)), int(rng.integers(100, 160))
    label = np.zeros((h, w), np.uint8)
    yy, xx = np.mgrid[:h, :w]
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    label[y0:y0 + h // 3, x0:x0 + w // 3] = 1  # box
    cy, cx, r = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4), h // 6
    label[(yy - cy)**2 + (xx - cx)**2 < r * r] = 2  # disc
    label[int(rng.integers(0, h - 6)):, :][:5, :] = 3  # bar
    label[0, :4] = 255  # ignored
    colours = np.array([[40, 40, 40], [200, 30, 30], [30, 200, 30], [30, 30, 200]]) + tint
    img = np.clip(colours[np.minimum(label, 3)] + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    os.makedirs(os.path.dirname(path_img), exist_ok=True)
    Image.fromarray(img).save(path_img, quality=92)
    if path_label:
        os.makedirs(os.path.dirname(path_label), exist_ok=True)
        Image.fromarray(label).save(path_label)


@pytest.fixture(scope='module')
def mydata(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('mydata'))
    rng = np.random.default_rng(5)
    for split, n in (('train', 8), ('val', 3)):
        for i in range(n):
            draw(f'{root}/images/{split}/site{i % 2}/img_{i:03d}.jpg',
                 f'{root}/labels/{split}/site{i % 2}/img_{i:03d}.png', rng, 0)
    for i in range(6):
        draw(f'{root}/unlabelled/day{i % 3}/cam/{i:03d}.jpg', None, rng, 0)
        draw(f'{root}/source/images/{i:03d}.png', f'{root}/source/labels/{i:03d}.png', rng, 40)
    with open(f'{root}/classes.txt', 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    return root


SHORT = [
    'train_cfg.max_iters=3', 'default_hooks.checkpoint.interval=3', 'default_hooks.logger.interval=1',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False'
]
VAL = ['train_cfg.val_interval=3', 'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
TEMPLATES = {
    'supervised_deeplabv2_r18-d8_custom-128x128.py': SHORT + VAL +
    ['param_scheduler.0.end=3', 'train_dataloader.batch_size=2'],
    'classmix_deeplabv2_r18-d8_custom-128x128.py': SHORT + VAL +
    ['param_scheduler.0.end=3', 'train_dataloader.batch_size=2'],
    'dacs_deeplabv2_r18-d8_custom-128x128.py': SHORT + VAL + ['param_scheduler.0.end=3'],
    'pixpro_r18-d16_custom.py': SHORT + [
        'train_dataloader.batch_size=4', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end=3', 'param_scheduler.1.T_max=2'
    ],
}


def scalars(work):
    return mmengine_scalars(work)


@pytest.mark.parametrize('name', sorted(TEMPLATES))
def test_template_trains_three_iterations_and_evaluates(name, mydata, tmp_path):
    work = str(tmp_path / 'w')
    r = run_tool(['tools/train.py', os.path.join(CUSTOM, name), '--work-dir', work, '--cfg-options'] + TEMPLATES[name],
                 env={'SEGSSL_DATA_ROOT': mydata}, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    records = scalars(work)
    losses = [x['loss'] for x in records if 'loss' in x]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert os.path.isfile(os.path.join(work, 'iter_3.pth'))
    if 'pixpro' not in name:
        val = [x for x in records if 'mIoU' in x]
        assert len(val) == 1 and 0 <= val[0]['mIoU'] <= 100


def test_classes_and_num_classes_follow_classes_txt(mydata, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmseg.registry import DATASETS
    monkeypatch.setenv('SEGSSL_DATA_ROOT', mydata)
    init_default_scope('mmseg')
    for name in sorted(os.listdir(CUSTOM)):
        cfg = Config.fromfile(os.path.join(CUSTOM, name))
        if 'pixpro' in name:
            assert cfg.train_dataloader.dataset.data_prefix == dict(img_path='unlabelled')
            continue
        seg = cfg.model.get('segmentor', cfg.model)
        assert seg.decode_head.num_classes == 4, name
        val = DATASETS.build(cfg.val_dataloader.dataset)
        assert val.metainfo['classes'] == tuple(CLASSES) and len(val) == 3
        assert val[0]['data_samples'].img_path.endswith('.jpg')
    # the DACS source domain reads source/, the target images/train without labels
    cfg = Config.fromfile(os.path.join(CUSTOM, 'dacs_deeplabv2_r18-d8_custom-128x128.py'))
    source = DATASETS.build(cfg.train_dataloader.dataset.labelled)
    target = DATASETS.build(cfg.train_dataloader.dataset.unlabelled)
    assert len(source) == 6 and len(target) == 8 and 'seg_map_path' not in target.get_data_info(0)


def test_label_splits_of_the_layout_are_read_by_the_templates(mydata, tmp_path, monkeypatch):
    r = run_tool(['tools/make_label_splits.py', mydata, '--dataset', 'custom'])
    assert r.returncode == 0, r.stdout
    labelled = open(os.path.join(mydata, 'splits', '1-2', 'labelled.txt')).read().split()
    assert len(labelled) == 4 and all(i.startswith('site') for i in labelled)  # ceil(8 / 2), ids = relative stems
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmseg.registry import DATASETS
    monkeypatch.setenv('SEGSSL_DATA_ROOT', mydata)
    monkeypatch.setenv('SEGSSL_SPLIT', '1-2')
    init_default_scope('mmseg')
    cfg = Config.fromfile(os.path.join(CUSTOM, 'classmix_deeplabv2_r18-d8_custom-128x128.py'))
    ds = DATASETS.build(cfg.train_dataloader.dataset.labelled)
    assert sorted(
        os.path.relpath(ds.get_data_info(i)['img_path'], os.path.join(mydata, 'images', 'train'))[:-4]
        for i in range(len(ds))) == sorted(labelled)


def test_a_missing_classes_txt_is_one_line(tmp_path):
    from segssl.mmseg.datasets.folder import read_classes
    with pytest.raises(FileNotFoundError, match=r'classes.txt not found: your own data needs classes.txt'):
        read_classes(str(tmp_path))
    (tmp_path / 'classes.txt').write_text('a\nb\na\n')
    with pytest.raises(ValueError, match=r"class names \['a'\] appear more than once"):
        read_classes(str(tmp_path))


def test_a_template_without_its_data_is_one_line(tmp_path):
    r = run_tool([
        'tools/train.py',
        os.path.join(CUSTOM, 'classmix_deeplabv2_r18-d8_custom-128x128.py'), '--work-dir',
        str(tmp_path / 'w')
    ], env={'SEGSSL_DATA_ROOT': str(tmp_path / 'nowhere')})
    assert r.returncode == 2 and 'Traceback' not in r.stdout
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith('train.py: error: config ') and 'classes.txt not found' in last
    assert not (tmp_path / 'w').exists()


def test_a_users_config_inherits_segssl_configs_by_scope(mydata, tmp_path, monkeypatch):
    """`_base_ = ['segssl::...']` in a config outside the repository (issue #18 item 3): it parses
    to what the template gives by path, its dicts carry the segssl scope, the scope builds the
    same modules, and mmseg's train.py trains it from another folder."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import segssl.mmseg  # noqa: F401  (registers the scope)
    # isort: split
    from segssl.mmseg.config_scope import configs_dir
    # isort: split
    from mmseg.registry import MODELS
    assert os.path.samefile(configs_dir(), os.path.join(ROOT, 'configs'))
    name = 'supervised_deeplabv2_r18-d8_custom-128x128.py'
    mine = tmp_path / 'elsewhere' / 'my_config.py'
    mine.parent.mkdir()
    mine.write_text(f"_base_ = ['segssl::custom/{name}']\n"
                    "optim_wrapper = dict(optimizer=dict(lr=0.0123))\n")
    monkeypatch.setenv('SEGSSL_DATA_ROOT', mydata)
    cfg, ref = Config.fromfile(str(mine)), Config.fromfile(os.path.join(CUSTOM, name))
    assert cfg.optim_wrapper.optimizer.lr == 0.0123 != ref.optim_wrapper.optimizer.lr
    assert cfg.model._scope_ == 'segssl' and cfg.train_dataloader.dataset._scope_ == 'segssl'
    strip = lambda d: {k: strip(v) for k, v in d.items() if k != '_scope_'} if isinstance(d, dict) else d  # noqa: E731
    assert strip(cfg.model.to_dict()) == ref.model.to_dict()
    init_default_scope('mmseg')
    import torch
    torch.manual_seed(0)
    a = MODELS.build(cfg.model)
    torch.manual_seed(0)
    b = MODELS.build(ref.model)
    assert [k for k in a.state_dict()] == [k for k in b.state_dict()]
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))

    work = str(tmp_path / 'w')
    r = run_tool([os.path.join(ROOT, 'tools', 'train.py'),
                  str(mine), '--work-dir', work, '--cfg-options'] + TEMPLATES[name], cwd=str(mine.parent),
                 env={'SEGSSL_DATA_ROOT': mydata}, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    losses = [x['loss'] for x in scalars(work) if 'loss' in x]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert [x['lr'] for x in scalars(work) if 'lr' in x][0] == pytest.approx(0.0123)  # the user's lr


def test_an_unknown_segssl_config_is_named(tmp_path, monkeypatch):
    from mmengine.config import Config

    import segssl.mmseg  # noqa: F401
    mine = tmp_path / 'my_config.py'
    mine.write_text("_base_ = ['segssl::custom/no_such_template.py']\n")
    with pytest.raises(FileNotFoundError, match='no_such_template.py'):
        Config.fromfile(str(mine))


def test_a_missing_backbone_through_a_segssl_base_names_its_variable(mydata, tmp_path):
    mine = tmp_path / 'my_config.py'
    mine.write_text("_base_ = ['segssl::custom/supervised_deeplabv2_r18-d8_custom-128x128.py']\n")
    r = run_tool(
        ['tools/train.py', str(mine), '--work-dir', str(tmp_path / 'w')], env={
            'SEGSSL_DATA_ROOT': mydata,
            'SEGSSL_BACKBONE': str(tmp_path / 'no_r18.pth')
        })
    assert r.returncode == 2 and 'Traceback' not in r.stdout
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith(f'train.py: error: checkpoint {tmp_path}/no_r18.pth (model.backbone.init_cfg.checkpoint, '
                           'set by SEGSSL_BACKBONE) does not exist'), last


@pytest.mark.parametrize('name', [
    'supervised_deeplabv2_r18-d8_custom-128x128.py', 'classmix_deeplabv2_r18-d8_custom-128x128.py',
    'dacs_deeplabv2_r18-d8_custom-128x128.py'
])
def test_segssl_backbone_loads_a_converted_backbone(name, mydata, tmp_path, monkeypatch):
    """SEGSSL_BACKBONE=r18.pth (the README's second step) parses and the backbone starts from it."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmseg.registry import MODELS
    monkeypatch.setenv('SEGSSL_DATA_ROOT', mydata)
    init_default_scope('mmseg')
    cfg = Config.fromfile(os.path.join(CUSTOM, name))
    seg = cfg.model.get('segmentor', cfg.model)
    assert seg.backbone.init_cfg is None  # unset: random init
    torch.manual_seed(1)
    weights = MODELS.build(seg.backbone).state_dict()
    torch.save({'state_dict': weights}, tmp_path / 'r18_mmseg.pth')
    monkeypatch.setenv('SEGSSL_BACKBONE', str(tmp_path / 'r18_mmseg.pth'))
    cfg = Config.fromfile(os.path.join(CUSTOM, name))
    seg = cfg.model.get('segmentor', cfg.model)
    assert seg.backbone.init_cfg == dict(type='Pretrained', checkpoint=str(tmp_path / 'r18_mmseg.pth'))
    torch.manual_seed(2)
    model = MODELS.build(cfg.model)
    model.init_weights()
    nets = [model.student, model.teacher] if hasattr(model, 'student') else [model]  # ClassMix/DACS: both
    for net in nets:
        got = net.backbone.state_dict()
        assert all(torch.equal(got[k], v) for k, v in weights.items() if not k.endswith('num_batches_tracked'))

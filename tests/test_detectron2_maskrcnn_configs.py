"""The Mask R-CNN thesis's detectron2 configs against the report (batch 8, lr 0.03, 100k iterations with steps at
40k/80k, the 50k/32k short schedule, gamma 0.1), the norm and input conventions of each
initialisation, the SyncBN fallback and the MODEL.WEIGHTS / SEGSSL.INIT check. One subprocess
loads every config (detectron2 is imported once)."""
import glob
import json
import os
import textwrap

import pytest
from conftest import ROOT, run_tool

pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
D2 = os.path.join(ROOT, 'configs', 'detectron2')
TORCHVISION_MEAN = [123.675, 116.28, 103.53]
TORCHVISION_STD = [58.395, 57.12, 57.375]
NORMS = {  # init -> (RESNETS.NORM, FPN.NORM, FREEZE_AT): one protocol for the three rows (issue 20)
    'ssl': ('SyncBN', 'SyncBN', 0),
    'scratch': ('SyncBN', 'SyncBN', 0),
    'imagenet': ('SyncBN', 'SyncBN', 0)
}


@pytest.fixture(scope='module')
def loaded(tmp_path_factory):
    """{config file name: selected values}, plus the results of the fallback/check probes."""
    tmp = tmp_path_factory.mktemp('cfg')
    script = tmp / 'probe.py'
    script.write_text(
        textwrap.dedent(f'''
        import glob, json, os
        import segssl.detectron2
        from detectron2.config import get_cfg
        from segssl.detectron2 import add_segssl_config
        from segssl.detectron2.config import check_init, merge_config_file, resolve_sync_bn

        def load(path):
            cfg = get_cfg(); add_segssl_config(cfg); merge_config_file(cfg, path); return cfg

        out = {{}}
        for path in sorted(glob.glob(os.path.join({D2!r}, '*.yaml'))):
            c = load(path)
            out[os.path.basename(path)] = dict(
                init=c.SEGSSL.INIT, weights=c.MODEL.WEIGHTS, norm=c.MODEL.RESNETS.NORM,
                fpn_norm=c.MODEL.FPN.NORM, freeze_at=c.MODEL.BACKBONE.FREEZE_AT,
                depth=c.MODEL.RESNETS.DEPTH, res2=c.MODEL.RESNETS.RES2_OUT_CHANNELS,
                stride_in_1x1=c.MODEL.RESNETS.STRIDE_IN_1X1, fmt=c.INPUT.FORMAT,
                mean=list(c.MODEL.PIXEL_MEAN), std=list(c.MODEL.PIXEL_STD), mask_on=c.MODEL.MASK_ON,
                batch=c.SOLVER.IMS_PER_BATCH, lr=c.SOLVER.BASE_LR, max_iter=c.SOLVER.MAX_ITER,
                steps=list(c.SOLVER.STEPS), gamma=c.SOLVER.GAMMA, warmup=c.SOLVER.WARMUP_ITERS,
                eval_period=c.TEST.EVAL_PERIOD,
                train=list(c.DATASETS.TRAIN), test=list(c.DATASETS.TEST),
                subset=[c.SEGSSL.COCO_SUBSET.DIR, c.SEGSSL.COCO_SUBSET.NAME], out=c.OUTPUT_DIR)
        probes = {{}}
        ssl = os.path.join({D2!r}, 'mask_rcnn_R_50_FPN_ssl_coco-subset_100k.yaml')
        for world, device in ((1, 'cpu'), (1, 'cuda'), (2, 'cpu'), (8, 'cuda')):
            c = load(ssl); c.MODEL.DEVICE = device; c.MODEL.ROI_MASK_HEAD.NORM = 'SyncBN'
            changed = resolve_sync_bn(c, world)
            probes[f'{{world}}-{{device}}'] = [changed, c.MODEL.RESNETS.NORM, c.MODEL.FPN.NORM,
                                              c.MODEL.ROI_BOX_HEAD.NORM, c.MODEL.ROI_MASK_HEAD.NORM]
        c = load(ssl); c.SEGSSL.SYNC_BN_FALLBACK = False
        probes['off'] = [resolve_sync_bn(c, 1), c.MODEL.RESNETS.NORM]
        errors = {{}}
        for name, opts in [('ssl-missing', ['MODEL.WEIGHTS', '/nonexistent/ssl.pkl']),
                           ('ssl-empty', ['MODEL.WEIGHTS', '']),
                           ('scratch-weights', ['SEGSSL.INIT', 'scratch']),
                           ('bad-init', ['SEGSSL.INIT', 'byol'])]:
            c = load(ssl); c.merge_from_list(opts)
            try:
                check_init(c)
            except (ValueError, FileNotFoundError) as e:
                errors[name] = str(e)
        c = load(ssl); c.MODEL.WEIGHTS = '/nonexistent/ssl.pkl'; check_init(c, resume=True)
        bad = os.path.join({str(tmp)!r}, 'bad.yaml')
        open(bad, 'w').write('_BASE_: "model_zoo://COCO-InstanceSegmentation/nope.yaml"\\n')
        try:
            load(bad)
        except ValueError as e:
            errors['zoo'] = str(e)
        print('JSON' + json.dumps(dict(configs=out, probes=probes, errors=errors)))
    '''))
    r = run_tool([str(script)], timeout=300)
    assert r.returncode == 0, r.stdout[-4000:]
    return json.loads(r.stdout.split('JSON', 1)[1])


def seed_rows():
    return [(init, sched) for init in ('ssl', 'imagenet', 'scratch') for sched in ('100k', '50k')]


@pytest.mark.parametrize('init,sched', seed_rows())
def test_maskrcnn_config_matches_the_seed(loaded, init, sched):
    c = loaded['configs'][f'mask_rcnn_R_50_FPN_{init}_coco-subset_{sched}.yaml']
    assert (c['batch'], c['lr'], c['gamma']) == (8, 0.03, 0.1)
    assert c['warmup'] == 1000  # detectron2's default, well before the first step
    assert (c['max_iter'], c['steps']) == ((100000, [40000, 80000]) if sched == '100k' else (50000, [32000]))
    assert c['init'] == init and (c['norm'], c['fpn_norm'], c['freeze_at']) == NORMS[init]
    assert (c['weights'] == '') == (init == 'scratch')
    assert (c['depth'], c['res2'], c['stride_in_1x1'], c['mask_on']) == (50, 256, False, True)
    assert c['fmt'] == 'RGB' and c['mean'] == TORCHVISION_MEAN and c['std'] == TORCHVISION_STD
    assert c['train'] == ['coco2017_subset_train'] and c['test'] == ['coco2017_subset_val']
    assert c['subset'] == ['datasets/coco2017_subset', 'coco2017_subset']
    assert 0 < c['eval_period'] <= c['max_iter'] and c['out'].endswith(f'{init}_coco-subset_{sched}')


@pytest.mark.parametrize('name', [
    'mask_rcnn_R_50_FPN_synthetic_ssl.yaml', 'mask_rcnn_R_50_FPN_synthetic_imagenet.yaml',
    'mask_rcnn_R_50_FPN_synthetic_scratch.yaml', 'mask_rcnn_R_18_FPN_synthetic_ssl.yaml',
    'mask_rcnn_R_18_FPN_synthetic_scratch.yaml'
])
def test_synthetic_configs_keep_the_seeds_schedule_shape(loaded, name):
    c = loaded['configs'][name]
    init = name.split('_')[-1][:-5]
    assert c['init'] == init and (c['norm'], c['fpn_norm'], c['freeze_at']) == NORMS[init]
    assert [s / c['max_iter'] for s in c['steps']] == [0.4, 0.8] and c['gamma'] == 0.1
    assert c['warmup'] < c['steps'][0]  # the warm-up ends before the first lr step
    assert c['train'] == ['segssl_synthetic_coco_train'] and c['fmt'] == 'RGB'
    assert c['mean'] == TORCHVISION_MEAN and c['std'] == TORCHVISION_STD
    assert (c['depth'], c['res2']) == ((18, 64) if '_R_18_' in name else (50, 256))


def test_every_config_file_is_covered(loaded):
    # 13 + detectron2's FrozenBN ImageNet recipe for 100k and 50k (tests/test_pixpro_maskrcnn_simclr_protocol.py)
    assert len(loaded['configs']) == len(glob.glob(os.path.join(D2, '*.yaml'))) == 15


def test_sync_bn_fallback(loaded):
    p = loaded['probes']
    keys = [['MODEL.RESNETS.NORM', 'SyncBN', 'BN'], ['MODEL.FPN.NORM', 'SyncBN', 'BN'],
            ['MODEL.ROI_MASK_HEAD.NORM', 'SyncBN', 'BN']]
    assert p['1-cpu'] == [keys, 'BN', 'BN', '', 'BN'] and p['1-cuda'] == p['1-cpu']
    naive = [[k, 'SyncBN', 'naiveSyncBN'] for k, _, _ in keys]
    assert p['2-cpu'] == [naive, 'naiveSyncBN', 'naiveSyncBN', '', 'naiveSyncBN']
    assert p['8-cuda'] == [[], 'SyncBN', 'SyncBN', '', 'SyncBN']  # real SyncBN on GPUs
    assert p['off'] == [[], 'SyncBN']


def test_init_and_weights_errors_name_the_keys(loaded):
    e = loaded['errors']
    assert "MODEL.WEIGHTS='/nonexistent/ssl.pkl' does not exist" in e['ssl-missing']
    assert 'convert_checkpoint.py' in e['ssl-missing']
    assert 'SEGSSL.INIT=ssl needs MODEL.WEIGHTS' in e['ssl-empty']
    assert 'SEGSSL.INIT=scratch but MODEL.WEIGHTS=' in e['scratch-weights']
    assert "SEGSSL.INIT='byol'" in e['bad-init']
    assert "nope.yaml" in e['zoo'] and 'model zoo' in e['zoo']

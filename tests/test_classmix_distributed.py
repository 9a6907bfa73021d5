"""ClassMix with 2 processes x batch b against 1 process x batch 2b (CPU, gloo, SegsslRunner)."""
import os

import pytest
import torch
from conftest import ROOT, load_ckpt, skip_without_mmseg
from dist_testing import run_ranks, train_from_cfg

skip_without_mmseg()
CLASSMIX = os.path.join(ROOT, 'configs', 'semi', 'classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py')


def _classmix_cfg(data_root, splits, work_dir, record_dir, batch_size, launcher, iters=3):
    """The synthetic ClassMix config shrunk to 32x64 images (deterministic Resize, no crop / flip,
    strong_aug None), the config's ``sync_bn='torch'`` (SyncBN, used by distributed runs only), two
    settings chosen so that 2 x b and 1 x 2b compute the same global loss (see the test):
    ``mix.proportion=1.0`` and ``weight.scheme='constant'``."""
    from mmengine.config import Config
    cfg = Config.fromfile(CLASSMIX)
    size = (32, 64)
    resize = dict(type='Resize', scale=(size[1], size[0]), keep_ratio=False)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'launcher': launcher,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters + 1,
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.dataset.labelled.ann_file': f'{splits}/1-2/labelled.txt',
        'train_dataloader.dataset.labelled.data_root': data_root,
        'train_dataloader.dataset.labelled.pipeline': [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'), resize,
            dict(type='PackSegInputs')
        ],
        'train_dataloader.dataset.unlabelled.ann_file': f'{splits}/1-2/unlabelled.txt',
        'train_dataloader.dataset.unlabelled.data_root': data_root,
        'train_dataloader.dataset.unlabelled.pipeline': [
            dict(type='LoadImageFromFile'), resize, dict(type='PackSegInputs')
        ],
        'model.segmentor.data_preprocessor.size': size,
        'model.mix': dict(type='classmix', proportion=1.0),
        'model.weight': dict(scheme='constant', base=1.0),
        'model.strong_aug': None,
        'param_scheduler': [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=iters, by_epoch=False)],
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': iters,
        'custom_hooks': [dict(type='RecordRankHook', out_dir=record_dir)],
        'log_level': 'WARNING'
    })
    cfg.custom_imports = dict(imports=['segssl.mmseg', 'dist_testing'], allow_failed_imports=False)
    return cfg


def test_classmix_two_processes_match_one_process_with_twice_the_batch(synthetic_root, tmp_path, monkeypatch):
    """2 ranks x batch 2 against 1 rank x batch 4 for 3 iterations, SyncBN.

    What must hold whatever the mixing: DDP averages the ranks' gradients and SyncBN normalises
    with the global batch's statistics (and updates every rank's running statistics with them),
    so the students, and the teachers (EMA of the students' parameters AND BN buffers), are bit
    for bit the same on both ranks, and the supervised loss (a mean over pixels) averaged over
    the ranks is the 4-image batch's.

    Why the unsupervised term can only match in this setup: ClassMix pairs image b with image
    b+1 mod B of the SAME process's batch, and each rank draws its masks from its own generator
    (seed + rank); with 2 x 2 the pairs are (0,1),(1,0),(2,3),(3,2) and each rank draws from its
    own stream, with 1 x 4 they are (0,1),(1,2),(2,3),(3,0) from one stream,
    so the mixed images differ by construction. Likewise the report's threshold-proportional weight is the confident
    fraction of each process's own batch. Here ``proportion=1.0`` pastes every predicted class
    (M = 1 everywhere: x' = x_b, y^' = y^_b, whichever the partner and the draw) and the weight
    is constant 1, so L_u is the teacher-pseudo-label cross entropy on unmixed images, a mean
    over the global batch: the whole loss curve and the final weights must then match 1 x 4 up
    to float32 summation order. (With proportion 0.5 only the cross-rank identity still holds.)
    A third run, 2 x 2 with plain per-rank BN, shows why the ClassMix configs set sync_bn.
    """
    from segssl.data.splits import list_train_ids, write_splits
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    data_root = os.path.join(synthetic_root, 'cityscapes')
    splits = str(tmp_path / 'splits')
    write_splits(splits, 'cityscapes', list_train_ids('cityscapes', data_root), seed=0)
    one, two, plain = tmp_path / 'one', tmp_path / 'two', tmp_path / 'plain'
    train_from_cfg(_classmix_cfg(data_root, splits, str(one / 'work'), str(one), 4, 'none'))
    cfg = _classmix_cfg(data_root, splits, str(plain / 'work'), str(plain), 2, 'pytorch')
    assert cfg.sync_bn == 'torch'  # what the ClassMix configs set
    cfg.sync_bn = None
    assert run_ranks(train_from_cfg, 2, cfg) == [0, 0]
    assert run_ranks(train_from_cfg, 2, _classmix_cfg(data_root, splits, str(two / 'work'), str(two), 2,
                                                      'pytorch')) == [0, 0]
    ref = torch.load(one / 'rank0.pt')
    r0, r1 = (torch.load(two / f'rank{r}.pt') for r in range(2))
    assert len(r0['log']) == len(r1['log']) == len(ref['log']) == 3
    assert r0['log'][0]['sup.decode.loss_ce'] != r1['log'][0]['sup.decode.loss_ce']  # different images
    assert [rec['unsup.teacher_alpha'] for rec in ref['log']] == [0.0, 0.0, 0.5]
    for rec in r0['log'] + r1['log'] + ref['log']:
        assert rec['unsup.weight'] == 1.0 and rec['unsup.loss_mix'] > 0
    # the loss curve, its terms: mean over the ranks == the 4-image batch's, up to float32 order
    for key in ('loss', 'sup.decode.loss_ce', 'unsup.loss_mix'):
        mean_curve = [(a[key] + b[key]) / 2 for a, b in zip(r0['log'], r1['log'])]
        assert mean_curve == pytest.approx([rec[key] for rec in ref['log']], rel=1e-5, abs=1e-6), key
    # students, teachers (parameters and BN buffers), the step counter: bit-identical on both ranks
    # (not '_extra_state', the mask generator's state: each rank drew one permutation per image of
    # as many classes as the teacher predicted on it, so the ranks' generators advanced differently)
    assert r0['state'].keys() == r1['state'].keys() == ref['state'].keys()
    tensors = set(r0['state']) - {'_extra_state'}
    assert {k.split('.')[0] for k in tensors} == {'student', 'teacher', 'iteration'}
    assert any(k.startswith('teacher.') and k.endswith('running_var') for k in tensors)
    for k in tensors:
        assert torch.equal(r0['state'][k], r1['state'][k]), k
    # ... and equal to the 1 x 4 run's within float32 reordering
    for k in tensors:
        v = ref['state'][k]
        if v.is_floating_point():
            torch.testing.assert_close(r0['state'][k], v, rtol=1e-4, atol=2e-5, msg=k)
        else:
            assert torch.equal(r0['state'][k], v), k
    # without SyncBN the ranks' students keep their own BN running statistics and the EMA copies
    # them into the teachers: teacher parameters agree, teacher BN statistics do not (hence the
    # configs' sync_bn='torch')
    p0, p1 = (torch.load(plain / f'rank{r}.pt')['state'] for r in range(2))
    differ = {k for k in tensors if not torch.equal(p0[k], p1[k])}
    assert differ and all(k.endswith(('running_mean', 'running_var')) for k in differ)
    assert any(k.startswith('teacher.') for k in differ)
    # every rank's random state is in the checkpoint rank 0 wrote (issue 17, item 8): rank 1's
    # mask generator (seeded seed + 1) drew its own stream, and it is there to be resumed
    saved = load_ckpt(two / 'work' / 'iter_3.pth')['segssl_rng_state']
    assert len(saved['other_ranks']) == 1
    g0, g1 = saved['generators'][''], saved['other_ranks'][0]['generators']['']
    assert torch.equal(g0, r0['state']['_extra_state']) and torch.equal(g1, r1['state']['_extra_state'])
    assert not torch.equal(g0, g1)

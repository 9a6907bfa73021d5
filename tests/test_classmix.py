"""ClassMix (the ClassMix/DACS thesis): the paired dataset, and one training step of ClassMixSegmentor against a
reference computed here step by step (the weighted unsupervised loss itself, pure PyTorch, is
tested in test_core_mixing.py, so it runs without mmseg)."""
import copy
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import load_ckpt, skip_without_mmseg

from segssl.runs import mmengine_scalars

skip_without_mmseg()

# ---- the model ---------------------------------------------------------------------------------
NUM_CLASSES = 4


def tiny_segmentor(num_classes=NUM_CLASSES, size=(16, 24)):
    norm = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                                                      std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                                                      seg_pad_val=255, size=size),
        backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, out_indices=(3, ),
                      strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), norm_cfg=norm),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=0, channels=8, num_convs=1, concat_input=False,
                         dropout_ratio=0.0, num_classes=num_classes, norm_cfg=norm, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                          loss_weight=1.0)), train_cfg=dict(), test_cfg=dict(mode='whole'))


def build(size=(16, 24), **kwargs):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import ConfigDict
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(type='ClassMixSegmentor', segmentor=tiny_segmentor(size=size), **kwargs))
    model.init_weights()
    return model


def samples(labels=None, n=2, h=16, w=24, padding=None):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    out = []
    for b in range(n):
        s = SegDataSample(
            metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), padding_size=padding or [0, 0, 0, 0]))
        if labels is not None:
            s.gt_sem_seg = PixelData(data=labels[b][None])
        out.append(s)
    return out


def batch(seed=0, n=2, h=16, w=24, padding=None):
    g = torch.Generator().manual_seed(seed)
    x_l, x_u = torch.randn(n, 3, h, w, generator=g), torch.randn(n, 3, h, w, generator=g)
    y_l = torch.randint(0, NUM_CLASSES, (n, h, w), generator=g)
    return dict(inputs=x_l, data_samples=samples(y_l, n, h, w)), dict(inputs=x_u,
                                                                      data_samples=samples(None, n, h, w, padding))


def test_one_step_matches_a_reference_computation():
    from segssl.core import class_mix_masks
    from segssl.mmseg.classmix import ClassMixSegmentor
    model = build(weight=dict(scheme='threshold_proportion', tau=0.1, base=1.0))  # tau low: weight > 0
    lab, unl = batch()
    state = model.generator.get_state()
    teacher, student = copy.deepcopy(model.teacher), copy.deepcopy(model.student)
    losses = model.loss(lab, unl)
    # reference: teacher probabilities, argmax, share above tau, ClassMix masks from the same
    # generator state, image b pasted on b+1 (B = 2: 0 <- 1, 1 <- 0), student CE weighted
    with torch.no_grad():
        probs = torch.softmax(ClassMixSegmentor.logits(teacher, unl['inputs']), 1)
    pseudo = probs.argmax(1)
    share = (probs.max(1).values > 0.1).float().mean()
    g = torch.Generator()
    g.set_state(state)
    masks, chosen = class_mix_masks(pseudo, generator=g, num_classes=NUM_CLASSES)
    assert chosen.sum(1).tolist() == [-(-len(pseudo[b].unique()) // 2) for b in range(2)]
    m = masks[:, None]
    x_mix = torch.where(m, unl['inputs'], unl['inputs'][[1, 0]])
    y_mix = torch.where(masks, pseudo, pseudo[[1, 0]])
    logits = ClassMixSegmentor.logits(student, x_mix)
    ce = F.cross_entropy(logits, y_mix, reduction='none')
    assert torch.allclose(losses['unsup.loss_mix'], (share * ce).mean(), atol=1e-6)
    assert torch.allclose(losses['unsup.weight'], share) and torch.allclose(losses['unsup.confident'], share)
    sup = student.loss(lab['inputs'], lab['data_samples'])
    assert torch.allclose(losses['sup.decode.loss_ce'], sup['decode.loss_ce'], atol=1e-6)
    assert losses['unsup.teacher_alpha'] == 0 and model.iteration_count == 1 and int(model.iteration) == 1


def test_teacher_is_the_warm_up_ema_of_the_student_and_stays_in_eval_mode():
    from mmengine.optim import OptimWrapper

    from segssl.mmseg.data_preprocessor import PairedSegDataPreProcessor
    model = build(weight=dict(scheme='constant', base=1.0))
    model.data_preprocessor = PairedSegDataPreProcessor(size=(16, 24))  # the batch is already normalised
    ow = OptimWrapper(torch.optim.SGD(model.student.parameters(), lr=0.1))
    model.train()
    assert not model.teacher.training and model.student.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    snapshots = []  # student after 1, 2 steps
    for k in range(3):
        lab, unl = batch(seed=k)
        log = model.train_step(dict(labelled=lab, unlabelled=unl), ow)
        assert all(torch.isfinite(v) for v in log.values())
        snapshots.append({n: t.detach().clone() for n, t in model.student.state_dict().items()})
    # forwards k = 1, 2 applied alpha_0 = 0 (teacher = s_1), then alpha_1 = 1/2: t = (s_1 + s_2) / 2
    t = model.teacher.state_dict()
    for name, value in snapshots[0].items():
        if value.is_floating_point():
            assert torch.allclose(t[name], (snapshots[0][name] + snapshots[1][name]) / 2, atol=1e-6), name
    assert log['unsup.teacher_alpha'] == pytest.approx(0.5)


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(soft_targets=True),
    dict(unsup_loss='squared_error'),
    dict(mix=dict(type='cutmix', area=0.5)),
    dict(mix=dict(type='cowmix')),
    dict(strong_aug=dict(jitter_p=1.0, blur_p=1.0))
])
def test_all_ignore_or_one_class_pseudo_labels_give_a_finite_loss(kwargs):
    model = build(weight=dict(scheme='constant', base=1.0), **kwargs)
    # all padding: every pseudo-label is ignore, the unsupervised loss is exactly 0
    lab, unl = batch(padding=[0, 24, 0, 0])
    losses = model.loss(lab, unl)
    assert all(torch.isfinite(v) for v in losses.values()) and losses['unsup.loss_mix'] == 0
    assert losses['unsup.weight'] == 0 and losses['unsup.confident'] == 0
    # a teacher that predicts class 2 everywhere: ClassMix picks {2}, the mask covers everything
    model.iteration_count = 0  # (no EMA step would overwrite the teacher)
    head = model.teacher.decode_head.conv_seg
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor([0.0, 0.0, 20.0, 0.0]))
    lab, unl = batch(seed=1)
    losses = model.loss(lab, unl)
    assert all(torch.isfinite(v) for v in losses.values()) and losses['unsup.loss_mix'] > 0
    assert losses['unsup.confident'] == 1


def test_mix_batch_pastes_the_chosen_classes_and_subclasses_can_override_it():
    from mmengine.config import ConfigDict

    from segssl.core import MixedBatch, class_mix_masks
    from segssl.mmseg.classmix import ClassMixSegmentor
    model = build()
    pseudo = torch.tensor([[[0, 1], [2, 2]], [[3, 3], [3, 3]]])
    x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    w = torch.tensor([[[1.0, 1.0], [1.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]]])
    state = model.generator.get_state()
    mixed, targets, weights, _ = model.mix_batch(x, pseudo, None, w, {})
    g = torch.Generator()
    g.set_state(state)
    masks, chosen = class_mix_masks(pseudo, generator=g, num_classes=NUM_CLASSES)
    assert chosen[0].sum() == 2 and chosen[1].tolist() == [False, False, False, True] and masks[1].all()
    for b in range(2):  # ceil(3/2); one class: all
        for i in range(2):
            for j in range(2):
                src = b if chosen[b, pseudo[b, i, j]] else 1 - b
                assert torch.equal(mixed[b, :, i, j], x[src, :, i, j])
                assert targets[b, i, j] == pseudo[src, i, j] and weights[b, i, j] == w[src, i, j]

    class PasteLabelled(ClassMixSegmentor):  # the DACS shape of override

        def mix_batch(self, inputs, pseudo_labels, probs, weights, labelled):
            m = torch.ones_like(pseudo_labels, dtype=torch.bool)
            return MixedBatch(labelled['inputs'], torch.where(m, labelled['labels'], pseudo_labels),
                              torch.ones_like(weights), m)

    sub = PasteLabelled(segmentor=ConfigDict(tiny_segmentor()))
    sub.init_weights()
    lab, unl = batch()
    losses = sub.loss(lab, unl)
    labels = torch.stack([s.gt_sem_seg.data[0] for s in lab['data_samples']])
    ref = F.cross_entropy(ClassMixSegmentor.logits(sub.student, lab['inputs']), labels)
    assert torch.allclose(losses['unsup.loss_mix'], ref, atol=1e-5)


def test_eval_delegates_to_student_or_teacher_and_checkpoint_restores_the_teacher():
    model = build()
    lab, _ = batch()
    model.eval()
    with torch.no_grad():
        model.teacher.decode_head.conv_seg.bias.add_(1.0)  # make them differ
        a = model(lab['inputs'], lab['data_samples'], mode='tensor')
        assert torch.equal(a, model.student(lab['inputs'], lab['data_samples'], mode='tensor'))
        model.eval_model = 'teacher'
        b = model(lab['inputs'], lab['data_samples'], mode='tensor')
        assert torch.equal(b, model.teacher(lab['inputs'], lab['data_samples'],
                                            mode='tensor')) and not torch.equal(a, b)
    model.iteration_count = 7
    model.generator.manual_seed(123)
    state = model.state_dict()
    assert {'iteration', '_extra_state'} <= set(state) and all(torch.is_tensor(v) for v in state.values()) and any(
        k.startswith('teacher.') for k in state)
    assert int(state['iteration']) == 7  # the buffer mirrors the host count
    fresh = build()
    fresh.load_state_dict(state)
    assert fresh.iteration_count == 7 and int(fresh.iteration) == 7
    assert torch.equal(fresh.teacher.decode_head.conv_seg.bias, model.teacher.decode_head.conv_seg.bias)
    assert torch.equal(torch.rand(3, generator=fresh.generator),
                       torch.rand(3, generator=torch.Generator().manual_seed(123)))
    with pytest.raises(ValueError, match='mix type'):
        build(mix=dict(type='mixup'))
    with pytest.raises(ValueError, match='labelled and an unlabelled'):
        model(lab['inputs'], lab['data_samples'], mode='loss')


def host_reads_of_two_steps(model, lab, unl):
    """The host reads (see test_mix_no_host_sync) of two loss() calls (the second with its EMA
    step), leaving out the student's own mmseg loss (mmseg's code, not segssl's)."""
    from test_mix_no_host_sync import HostSyncRecorder
    rec, student_loss = HostSyncRecorder(), model.student.loss

    def mmseg_loss(*args, **kwargs):
        with rec.paused():
            return student_loss(*args, **kwargs)

    model.student.loss = mmseg_loss
    try:
        with rec:
            for _ in range(2):
                losses = model.loss(lab, unl)
    finally:
        del model.student.loss
    assert all(torch.isfinite(v) for v in losses.values())
    return rec.syncs


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(mix=dict(type='cutmix')),
    dict(mix=dict(type='cowmix')),
    dict(soft_targets=True, strong_aug=dict(jitter_p=0.5, blur_p=0.5))
])
def test_the_step_reads_nothing_back_from_the_device(kwargs):
    """Issue 17 item 15: teacher, pseudo-labels, weights, masks, mixing, strong augmentation, the
    teacher's EMA and the unsupervised loss read no value back (the step counter is a host int)."""
    model = build(**kwargs)
    assert host_reads_of_two_steps(model, *batch(seed=4)) == []
    assert model.iteration_count == 2 and int(model.iteration) == 2


def test_generator_follows_the_model_and_a_foreign_state_reseeds_with_a_warning():
    model = build(seed=5)
    assert model.generator_on('cpu') is model.generator and model.generator.device.type == 'cpu'
    model.generator.manual_seed(7)
    model.to('cpu')  # no move: the stream goes on
    assert torch.equal(torch.rand(3, generator=model.generator),
                       torch.rand(3, generator=torch.Generator().manual_seed(7)))
    state = model.state_dict()
    assert state['_extra_state'].dtype == torch.uint8 and state['_extra_state'].device.type == 'cpu'
    # a CUDA generator's state is 16 bytes (seed, offset): a CPU generator cannot take it
    state['_extra_state'] = torch.zeros(16, dtype=torch.uint8)
    with pytest.warns(UserWarning, match='mask generator state does not fit this cpu generator .*reseeded'):
        model.load_state_dict(state)
    assert torch.equal(torch.rand(3, generator=model.generator),
                       torch.rand(3, generator=torch.Generator().manual_seed(5)))


def test_strong_augmentation_round_trips_the_normalisation():
    model = build(strong_aug=dict(jitter_p=0.0, blur_p=0.0))
    x = torch.rand(2, 3, 8, 8) * 255
    normalised = (x.flip(1) - model.data_preprocessor.mean) / model.data_preprocessor.std  # BGR file -> RGB
    assert torch.allclose(model.data_preprocessor.to_rgb01(normalised), x.flip(1) / 255, atol=1e-6)
    assert torch.allclose(model.augment(normalised), normalised, atol=1e-5)


# ---- the paired dataset --------------------------------------------------------------------------
def paired_cfg(root, labelled_ids, unlabelled_ids, tmp_path, seed=0):
    for name, ids in (('lab', labelled_ids), ('unl', unlabelled_ids)):
        (tmp_path / f'{name}.txt').write_text(''.join(i + '\n' for i in ids))
    common = dict(type='CityscapesDataset', data_root=os.path.join(root, 'cityscapes'),
                  data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'))
    return dict(
        type='PairedDataset', seed=seed, labelled=dict(
            common, ann_file=str(tmp_path / 'lab.txt'),
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='LoadAnnotations'),
                      dict(type='PackSegInputs')]),
        unlabelled=dict(common, ann_file=str(tmp_path / 'unl.txt'),
                        pipeline=[dict(type='LoadImageFromFile'),
                                  dict(type='PackSegInputs')]))


def test_paired_dataset_visits_every_pair_once_and_collates_into_two_batches(synthetic_root, tmp_path):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from segssl.data.splits import list_train_ids
    init_default_scope('mmseg')
    ids = list_train_ids('cityscapes', os.path.join(synthetic_root, 'cityscapes'))
    ds = DATASETS.build(paired_cfg(synthetic_root, ids[:2], ids[2:], tmp_path))
    assert len(ds) == 2 * 4 and ds.metainfo['classes'][0] == 'road'
    pairs = [ds.pair_indices(i) for i in range(len(ds))]
    assert sorted(pairs) == [(l, u) for l in range(2) for u in range(4)]  # a bijection
    assert all(pairs[i][1] != pairs[i + 1][1] or pairs[i][0] != pairs[i + 1][0] for i in range(len(ds) - 1))
    again = DATASETS.build(paired_cfg(synthetic_root, ids[:2], ids[2:], tmp_path))
    assert [again.pair_indices(i) for i in range(len(ds))] == pairs  # deterministic
    item = ds[5]
    l, u = ds.pair_indices(5)
    assert item['labelled']['data_samples'].img_path.endswith(ids[l] + '_leftImg8bit.png')
    assert item['unlabelled']['data_samples'].img_path.endswith(ids[2 + u] + '_leftImg8bit.png')
    assert 'gt_sem_seg' in item['labelled']['data_samples'] and 'gt_sem_seg' not in item['unlabelled']['data_samples']
    model = build(size=(64, 128))
    data = model.data_preprocessor(pseudo_collate([ds[0], ds[1]]), True)
    assert data['labelled']['inputs'].shape == data['unlabelled']['inputs'].shape == (2, 3, 64, 128)
    with pytest.raises(IndexError):
        ds.pair_indices(8)


def test_paired_dataset_rejects_splits_that_do_not_match_the_data(synthetic_root, tmp_path):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from segssl.data.splits import list_train_ids
    init_default_scope('mmseg')
    ids = list_train_ids('cityscapes', os.path.join(synthetic_root, 'cityscapes'))
    with pytest.raises(
            ValueError, match=r"labelled set CityscapesDataset\(ann_file='.*lab.txt'\): 1 of 3 samples "
            r"name a img_path that does not exist.*does not match this dataset"):
        DATASETS.build(paired_cfg(synthetic_root, ids[:2] + ['aachen/aachen_000000_000019'], ids[2:], tmp_path))
    with pytest.raises(ValueError, match='2 images are in both'):
        DATASETS.build(paired_cfg(synthetic_root, ids[:3], ids[1:], tmp_path))
    with pytest.raises(ValueError, match='no samples'):
        DATASETS.build(paired_cfg(synthetic_root, ids, [], tmp_path))


# ---- through mmseg's train.py ---------------------------------------------------------------------
def test_two_iterations_through_train_py_then_resume_restores_the_teacher(synthetic_root, tmp_path):
    """The synthetic twin config for 2 iterations (evaluated with IoUMetric), then --resume for a
    third: its teacher must be the EMA of the RESTORED teacher, 1/2 t_2 + 1/2 s_2 (alpha_1 = 1/2)."""
    from conftest import ROOT, run_tool

    from segssl.data.splits import list_train_ids, write_splits
    root = os.path.join(synthetic_root, 'cityscapes')
    write_splits(str(tmp_path / 'splits'), 'cityscapes', list_train_ids('cityscapes', root), seed=0)
    config = 'configs/semi/classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py'
    work = tmp_path / 'work'
    common = [
        f'train_dataloader.dataset.labelled.ann_file={tmp_path}/splits/1-2/labelled.txt',
        f'train_dataloader.dataset.unlabelled.ann_file={tmp_path}/splits/1-2/unlabelled.txt',
        'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1', 'param_scheduler.0.end=3',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=3', 'model.weight.tau=0.05'
    ]  # a weight above 0 from the first step
    r = run_tool([
        'tools/train.py', config, '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2'
    ] + common, env={'SEGSSL_DATA_ROOT': synthetic_root})
    assert r.returncode == 0, r.stdout[-4000:]
    records = mmengine_scalars(str(work))
    steps = [rec for rec in records if 'unsup.loss_mix' in rec]
    assert len(steps) == 2 and all(np.isfinite(rec['loss']) and np.isfinite(rec['sup.decode.loss_ce']) for rec in steps)
    assert all(rec['loss'] == pytest.approx(rec['sup.decode.loss_ce'] + rec['unsup.loss_mix'], rel=1e-4)
               for rec in steps)
    assert all(0 < rec['unsup.weight'] <= 1 and rec['unsup.confident'] == pytest.approx(rec['unsup.weight'], rel=1e-4)
               for rec in steps)
    assert [rec['unsup.teacher_alpha'] for rec in steps] == [0.0, 0.0]  # iterations 0 and 1
    metrics = [rec for rec in records if 'mIoU' in rec]
    assert len(metrics) == 1 and 0 <= metrics[0]['mIoU'] <= 100
    # resume in this process with mmengine's Runner (what train.py --resume does), for a third iteration
    from mmengine.config import Config
    from mmengine.runner import Runner
    os.environ['SEGSSL_DATA_ROOT'] = synthetic_root
    try:
        cfg = Config.fromfile(os.path.join(ROOT, config))
    finally:
        del os.environ['SEGSSL_DATA_ROOT']
    cfg.merge_from_dict(dict(kv.split('=', 1) for kv in common[:2]))
    cfg.merge_from_dict({
        'train_dataloader.batch_size': 2,
        'param_scheduler.0.end': 3,
        'train_cfg.max_iters': 3,
        'train_cfg.val_interval': 3,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'model.weight.tau': 0.05
    })
    cfg.work_dir, cfg.resume, cfg.load_from = str(work), True, None
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3
    before = load_ckpt(work / 'iter_2.pth')['state_dict']
    after = load_ckpt(work / 'iter_3.pth')['state_dict']
    assert int(before['iteration']) == 2 and int(after['iteration']) == 3
    teacher = [k for k in before if k.startswith('teacher.') and before[k].is_floating_point()]
    assert len(teacher) > 50
    for key in teacher:
        want = 0.5 * before[key] + 0.5 * before['student.' + key[len('teacher.'):]]
        assert torch.allclose(after[key], want, atol=1e-6), key

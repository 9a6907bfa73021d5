"""DACSSegmentor (the ClassMix/DACS thesis, 3.2): one InterMix step against a reference computed here, IntraMix
and distribution-aligned IntraMix through ClassMix's mixing, and the options' errors."""
import json

import pytest
import torch
import torch.nn.functional as F
from conftest import skip_without_mmseg

skip_without_mmseg()
from test_classmix import NUM_CLASSES, batch, tiny_segmentor  # noqa: E402  (ClassMix's fixtures)


def build(**kwargs):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import ConfigDict
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(type='DACSSegmentor', segmentor=tiny_segmentor(), **kwargs))
    model.init_weights()
    return model


@pytest.mark.parametrize('augment', [False, True])
def test_one_dacs_step_matches_a_reference_computation(augment):
    from segssl.core import class_mix_masks, strong_augment
    from segssl.mmseg.classmix import ClassMixSegmentor
    from segssl.mmseg.dacs import DACS_STRONG_AUG
    kwargs = dict(strong_aug=dict(DACS_STRONG_AUG, jitter_p=1.0, blur_p=1.0)) if augment else dict(strong_aug=None)
    model = build(weight=dict(scheme='threshold_proportion', tau=0.3, base=1.0), **kwargs)
    src, tgt = batch(seed=3)
    src_labels = torch.stack([s.gt_sem_seg.data[0] for s in src['data_samples']])
    src_labels[0, :4] = 255  # some ignored source pixels
    for b, s in enumerate(src['data_samples']):
        s.gt_sem_seg.data = src_labels[b][None]
    state = model.generator.get_state()
    teacher, student = model.teacher, model.student
    with torch.no_grad():
        probs = torch.softmax(ClassMixSegmentor.logits(teacher, tgt['inputs']), 1)
    tau = float(probs.max(1).values.median())  # a random teacher: half its pixels above tau
    model.weight_cfg['tau'] = tau
    losses = model.loss(src, tgt)
    pseudo = probs.argmax(1)
    share = (probs.max(1).values > tau).float().mean()
    assert 0 < share < 1
    g = torch.Generator()
    g.set_state(state)
    masks, chosen = class_mix_masks(src_labels, generator=g, num_classes=NUM_CLASSES)  # from the SOURCE labels
    for b in range(2):
        present = [c for c in src_labels[b].unique().tolist() if c != 255]
        picked = torch.nonzero(chosen[b]).flatten().tolist()
        assert len(picked) == -(-len(present) // 2) and set(picked) <= set(present)
    x = torch.where(masks[:, None], src['inputs'], tgt['inputs'])  # source b onto target b
    if augment:
        dp = model.data_preprocessor
        x = dp.from_rgb01(
            strong_augment(dp.to_rgb01(x).clamp(0, 1), generator=g, **dict(DACS_STRONG_AUG, jitter_p=1.0,
                                                                           blur_p=1.0))[0])
    y = torch.where(masks, src_labels, pseudo)
    w = torch.where(masks, torch.ones_like(pseudo, dtype=torch.float), share.expand_as(pseudo))
    with torch.no_grad():
        ce = F.cross_entropy(ClassMixSegmentor.logits(student, x), y, reduction='none')
    assert torch.allclose(losses['unsup.loss_mix'], (w * ce).mean(), atol=1e-5)
    assert torch.allclose(losses['unsup.weight'], w.mean())
    sup = student.loss(src['inputs'], src['data_samples'])  # supervised CE on the source
    assert torch.allclose(losses['sup.decode.loss_ce'], sup['decode.loss_ce'], atol=1e-6)


def test_intra_modes_mix_within_the_target_and_align_the_teacher(tmp_path):
    from segssl.core import DistributionAlignment, class_mix_masks, confidence_weights
    pseudo_raw = torch.tensor([[[0, 1], [2, 2]], [[3, 3], [1, 3]]])
    probs = F.one_hot(pseudo_raw, NUM_CLASSES).permute(0, 3, 1, 2).float() * 0.55 + 0.15  # max 0.7
    x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    w = torch.full((2, 2, 2), 0.25)
    lab = dict(inputs=-x, labels=torch.zeros(2, 2, 2, dtype=torch.long))
    model = build(mode='intra')
    state = model.generator.get_state()
    mixed, targets, weights, _ = model.mix_batch(x, pseudo_raw, probs, w, lab)
    g = torch.Generator()
    g.set_state(state)
    masks, _ = class_mix_masks(pseudo_raw, generator=g, num_classes=NUM_CLASSES)
    assert torch.equal(mixed, torch.where(masks[:, None], x, x[[1, 0]]))  # target only, b <- b+1
    assert torch.equal(targets, torch.where(masks, pseudo_raw, pseudo_raw[[1, 0]]))
    # aligned: prior strongly on class 0 turns every pixel's argmax to 0 (0.15 * 0.97 / p~ ...)
    prior = [0.97, 0.01, 0.01, 0.01]
    (tmp_path / 'prior.json').write_text(json.dumps(dict(class_frequencies=prior)))
    model = build(mode='intra_aligned', alignment=dict(prior=str(tmp_path / 'prior.json'), momentum=0.5),
                  weight=dict(scheme='threshold_proportion', tau=0.5, base=1.0))
    model.iteration_count = 1
    ref = DistributionAlignment(prior, momentum=0.5)
    aligned = ref(probs)
    state = model.generator.get_state()
    mixed, targets, weights, _ = model.mix_batch(x, pseudo_raw, probs, w, lab)
    assert torch.allclose(model.alignment.running, ref.running)
    g.set_state(state)
    masks, _ = class_mix_masks(aligned.argmax(1), generator=g, num_classes=NUM_CLASSES)
    assert torch.equal(targets, torch.where(masks, aligned.argmax(1), aligned.argmax(1)[[1, 0]]))
    assert (aligned.argmax(1) == 0).sum() > (pseudo_raw == 0).sum()
    lam = confidence_weights(aligned, tau=0.5)
    assert torch.allclose(weights, torch.where(masks, lam, lam[[1, 0]]))


@pytest.mark.parametrize('mode', ['inter', 'intra_aligned'])
def test_the_dacs_step_reads_nothing_back_from_the_device(mode):
    """Issue 17 item 15: InterMix from the source labels on their device, the alignment's update,
    the DACS jitter + blur: no host read outside the student's own mmseg loss."""
    from test_classmix import host_reads_of_two_steps
    alignment = dict(prior=[0.4, 0.3, 0.2, 0.1], momentum=0.9) if mode == 'intra_aligned' else None
    model = build(mode=mode, alignment=alignment)
    assert host_reads_of_two_steps(model, *batch(seed=5)) == []


def test_dacs_options_are_checked():
    with pytest.raises(ValueError, match="mode='mixup'"):
        build(mode='mixup')
    with pytest.raises(ValueError, match='needs alignment'):
        build(mode='intra_aligned')
    with pytest.raises(ValueError, match='prior has 3 classes, the decode head 4'):
        build(mode='intra_aligned', alignment=dict(prior=[0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="cannot read 'no_such.json'"):
        build(mode='intra_aligned', alignment=dict(prior='no_such.json'))
    with pytest.raises(ValueError, match='soft_targets'):
        build(soft_targets=True)

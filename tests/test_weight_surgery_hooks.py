"""Acceptance of the ERFNet thesis's weight-surgery hooks through a real mmengine Runner (mmseg ERFNet
and ResNet-18 segmentors, tiny inputs): after each option exactly the intended tensors differ
from the source checkpoint; pruned weights stay zero through Adam steps; a frozen encoder does
not move during the frozen stage and does after."""
import pytest
import torch
from conftest import randomise_state, skip_without_mmseg
from mmengine.hooks import Hook

skip_without_mmseg()
import segssl.mmseg  # noqa: E402,F401
from segssl.core.weight_surgery import filter_energy, layer_numbering, names_in_layers, parameter_counts  # noqa: E402

H, W = 32, 64


def random_backbone_state(kind, seed):
    """A backbone state dict with random weights and BN statistics (a 'pretrained' file)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    net = MODELS.build(dict(type='ERFNet') if kind == 'erfnet' else dict(type='ResNet', depth=18))
    return randomise_state(net.state_dict(), batches_tracked=5)


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp('surgery')
    out = {}
    for name, kind, seed in (('rotation', 'erfnet', 1), ('otsu', 'erfnet', 2), ('r18', 'resnet', 3)):
        sd = random_backbone_state(kind, seed)
        torch.save({'state_dict': sd}, d / f'{name}.pth')
        out[name] = (sd, str(d / f'{name}.pth'))
    return out


def model_cfg(path, kind='erfnet'):
    backbone = (dict(type='ERFNet', dropout_ratio=0.0) if kind == 'erfnet' else dict(
        type='ResNet', depth=18, style='pytorch', out_indices=(3, )))
    backbone['init_cfg'] = dict(type='Pretrained', checkpoint=path)
    head = (dict(type='ERFNetOutputHead', in_channels=16, num_classes=4) if kind == 'erfnet' else dict(
        type='FCNHead', in_channels=512, channels=8, num_convs=1, num_classes=4, in_index=0))
    return dict(type='EncoderDecoder', backbone=backbone, decode_head=head,
                data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1],
                                       size=(H, W)), train_cfg=dict(), test_cfg=dict(mode='whole'))


def loader(n=8):
    from mmengine.dataset import pseudo_collate
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    items = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(H, W), pad_shape=(H, W), ori_shape=(H, W)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 4, (1, H, W), generator=g))
        items.append(dict(inputs=torch.rand(3, H, W, generator=g) * 255, data_samples=s))
    return torch.utils.data.DataLoader(items, batch_size=2, collate_fn=pseudo_collate)


class Recorder(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.states = []

    def before_train(self, runner):
        self.states.append({k: v.clone() for k, v in runner.model.state_dict().items()})

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.states.append({k: v.clone() for k, v in runner.model.state_dict().items()})


def run(tmp_path, path, hooks, iters=0, kind='erfnet', default_hooks=None):
    from mmengine.runner import Runner
    rec = Recorder()
    runner = Runner(model=model_cfg(path, kind), work_dir=str(tmp_path / 'work'), train_dataloader=loader(),
                    train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters),
                    optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2, weight_decay=1e-4)),
                    default_hooks=dict(checkpoint=None,
                                       **(default_hooks
                                          or {})), custom_hooks=list(hooks) + [rec], randomness=dict(seed=0),
                    default_scope='mmseg', experiment_name=f'{tmp_path.name}_{len(hooks)}_{iters}_{kind}')
    runner.train()
    return runner, rec


def changed(state, source):
    """Backbone tensors of ``state`` that differ from the source checkpoint."""
    return sorted(k for k, v in source.items() if not torch.equal(state['backbone.' + k], v))


def layer_names(source, layers):
    return sorted(n for n in names_in_layers(layer_numbering(source, 'erfnet'), layers))


@pytest.mark.parametrize('layers', [(8, 16), (13, 16)])
def test_reinit_changes_exactly_the_layers(layers, ckpts, tmp_path):
    from segssl.mmseg import ReinitLayersHook
    src, path = ckpts['rotation']
    hook = ReinitLayersHook(layers=layers)
    _, rec = run(tmp_path, path, [hook])
    assert changed(rec.states[0], src) == layer_names(src, layers)
    assert sorted(k[9:] for k in hook.touched) == layer_names(src, layers)
    assert torch.all(rec.states[0]['backbone.encoder.15.convs_layers.8.running_var'] == 1)


@pytest.mark.parametrize('affine', [False, True])
def test_bn_reset_changes_only_bn(affine, ckpts, tmp_path):
    from segssl.mmseg import ResetNormStatsHook
    src, path = ckpts['rotation']
    _, rec = run(tmp_path, path, [ResetNormStatsHook(layers=(1, 16), affine=affine)])
    bn = {k.rsplit('.', 1)[0] for k in src if k.endswith('running_mean') and k.startswith('encoder.')}
    leaves = ('running_mean', 'running_var', 'num_batches_tracked') + (('weight', 'bias') if affine else ())
    assert changed(rec.states[0],
                   src) == sorted(k for k in src if k.rsplit('.', 1)[0] in bn and k.rsplit('.', 1)[1] in leaves)


def test_splice_takes_layers_13_16_from_the_other_checkpoint(ckpts, tmp_path):
    from segssl.mmseg import SpliceLayersHook
    src, path = ckpts['rotation']
    other, other_path = ckpts['otsu']
    _, rec = run(tmp_path, path, [SpliceLayersHook(checkpoint=other_path, layers=(13, 16))])
    differ = [k for k in layer_names(src, (13, 16)) if not torch.equal(src[k], other[k])]
    assert changed(rec.states[0], src) == differ and len(differ) == 4 * 16  # both counts are 5
    assert all(torch.equal(rec.states[0]['backbone.' + k], other[k]) for k in layer_names(src, (13, 16)))


@pytest.mark.parametrize('donor', [None, 'otsu'])
def test_filter_energy_refill(donor, ckpts, tmp_path):
    from segssl.mmseg import FilterEnergyReinitHook
    src, path = ckpts['rotation']
    hook = FilterEnergyReinitHook(keep_ratio=0.75, layers=(1, 16), donor_checkpoint=ckpts[donor][1] if donor else None)
    _, rec = run(tmp_path, path, [hook])
    state = rec.states[0]
    convs = sorted(k for k in src if k.startswith('encoder.') and src[k].dim() == 4)
    assert changed(state, src) == sorted(convs + [k[:-6] + 'bias' for k in convs])
    for k in convs:
        w0, w1 = src[k], state['backbone.' + k]
        n_keep = round(0.75 * w0.shape[0])
        top = torch.sort(filter_energy(w0), descending=True, stable=True).indices
        assert torch.equal(w1[top[:n_keep]], w0[top[:n_keep]])  # kept bit-exact
        replaced = set(range(w0.shape[0])) - set(top[:n_keep].tolist())
        assert replaced == set(hook.replaced['backbone.' + k].tolist())
        if donor:
            d = ckpts[donor][0][k]
            best = torch.sort(filter_energy(d), descending=True, stable=True).indices[:len(replaced)]
            assert sorted(map(tuple, w1[list(replaced)].flatten(1).tolist())) == \
                sorted(map(tuple, d[best].flatten(1).tolist()))


def test_pruned_weights_stay_zero_through_adam_steps(ckpts, tmp_path):
    from segssl.mmseg import MagnitudePruneHook
    src, path = ckpts['rotation']
    hook = MagnitudePruneHook(ratio=0.5, layers=(1, 16))
    runner, rec = run(tmp_path, path, [hook], iters=3)
    weights = sorted(k for k in src if k.startswith('encoder.') and src[k].dim() >= 2)
    assert changed(rec.states[0], src) == weights
    pruned = 0
    for k in weights:
        n = round(0.5 * src[k].numel())
        mask = hook.masks['backbone.' + k]
        assert int((~mask).sum()) == n
        # the pruned ones are the smallest |w| of the source: none kept is smaller than one pruned
        assert src[k].abs()[~mask].max() <= src[k].abs()[mask].min()
        for state in rec.states:  # before training and after steps 1-3
            assert state['backbone.' + k][~mask].abs().max() == 0
        pruned += n
    final = rec.states[-1]
    assert not torch.equal(final['backbone.encoder.3.convs_layers.0.weight'],
                           rec.states[0]['backbone.encoder.3.convs_layers.0.weight'])  # it trains
    params = dict(runner.model.named_parameters())
    total = sum(p.numel() for p in params.values())
    nonzero = sum(int(torch.count_nonzero(final[k])) for k in params)
    assert nonzero == total - pruned == hook.nonzero
    assert runner.message_hub.get_scalar('train/nonzero_params').current() == nonzero


@pytest.mark.parametrize(
    'count_interval, log_interval, counted_at',
    [
        (None, 2, [1, 3]),  # the LoggerHook's interval: before the iterations it logs after
        (3, 10, [2, 3]),  # every 3 inner iterations; 3 is also the loader's epoch end (4 batches)
    ])
def test_nonzero_count_is_taken_only_for_logged_iterations(count_interval, log_interval, counted_at, ckpts, tmp_path,
                                                           monkeypatch):
    """count_nonzero over the model (a host sync) runs in before_train, after_train and before the
    iterations after which the LoggerHook logs; the masks are moved to the device once."""
    from segssl.mmseg import MagnitudePruneHook
    from segssl.mmseg import weight_surgery_hooks as wsh
    where, calls = ['before_train'], []

    def counting(named):
        calls.append(where[0])
        return parameter_counts(named)

    monkeypatch.setattr(wsh, 'parameter_counts', counting)
    hook = MagnitudePruneHook(ratio=0.5, layers=(1, 16), count_interval=count_interval)
    inner = hook.before_train_iter

    def labelled(runner, batch_idx, data_batch=None):
        where[0] = batch_idx
        inner(runner, batch_idx, data_batch)
        where[0] = 'after_train'  # no count in after_train_iter

    hook.before_train_iter = labelled
    reapply = hook.after_train_iter

    def without_moves(*args, **kwargs):

        def moved(*a, **k):
            raise AssertionError('a mask was moved in after_train_iter')

        with monkeypatch.context() as m:
            m.setattr(torch.Tensor, 'to', moved)
            reapply(*args, **kwargs)

    hook.after_train_iter = without_moves
    runner, rec = run(tmp_path, ckpts['rotation'][1], [hook], iters=5,
                      default_hooks=dict(logger=dict(type='LoggerHook', interval=log_interval)))
    assert calls == ['before_train', *counted_at, 'after_train']
    names = [k for k, _ in runner.model.named_parameters()]

    def nonzero(state):
        return sum(int(torch.count_nonzero(state[k])) for k in names)

    # before iteration b the weights are those after iteration b - 1 (rec.states[b]); the count can
    # change: zero-initialised weights outside the mask (the head's 4 biases) leave 0 in the first step
    expected = [nonzero(rec.states[0])] + [nonzero(rec.states[b]) for b in counted_at] + [nonzero(rec.states[-1])]
    values = runner.message_hub.get_scalar('train/nonzero_params').data[0]
    assert list(values) == expected and hook.nonzero == expected[-1] and expected[0] < expected[-1]
    final = rec.states[-1]
    for k in hook.masks:  # the mask still holds
        assert final[k][~hook.masks[k]].abs().max() == 0
    with pytest.raises(ValueError, match='count_interval=0'):
        MagnitudePruneHook(count_interval=0)


def test_staged_fine_tuning_freezes_then_trains(ckpts, tmp_path):
    from segssl.mmseg import StagedFineTuneHook
    _, path = ckpts['rotation']
    hook = StagedFineTuneHook(frozen=2, by_epoch=False)
    _, rec = run(tmp_path, path, [hook], iters=4)
    s = rec.states  # before training, after iterations 1..4
    enc = [k for k in s[0] if k.startswith('backbone.encoder.')]
    dec = [k for k in s[0] if k.startswith('backbone.decoder.') and k.endswith('weight')]
    for i in (1, 2):  # frozen: weights and BN statistics bit-identical (Adam, weight decay)
        assert all(torch.equal(s[i][k], s[0][k]) for k in enc)
        assert all(not torch.equal(s[i][k], s[i - 1][k]) for k in dec)
    moved = [k for k in enc if k.endswith('weight') and not torch.equal(s[3][k], s[2][k])]
    assert len(moved) == len([k for k in enc if k.endswith('weight')])  # all move once unfrozen
    stats = [k for k in enc if k.endswith('running_mean')]
    assert all(not torch.equal(s[4][k], s[3][k]) for k in stats)  # BN statistics update again
    assert not hook.is_frozen


def test_resnet_reinit_by_block(ckpts, tmp_path):
    from segssl.mmseg import ReinitLayersHook
    src, path = ckpts['r18']
    _, rec = run(tmp_path, path, [ReinitLayersHook(layers=(8, 9))], kind='resnet')
    assert changed(rec.states[0], src) == sorted(k for k in src if k.startswith('layer4.'))


def test_init_hooks_keep_resumed_weights():
    """A resumed run (iteration > 0) keeps its trained weights: the init hooks do nothing."""
    import logging
    from types import SimpleNamespace

    from segssl.mmseg import FilterEnergyReinitHook, ReinitLayersHook, ResetNormStatsHook
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(model_cfg(None))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    runner = SimpleNamespace(iter=7, model=model, logger=logging.getLogger('resume-test'))
    for hook in (ReinitLayersHook(layers=(1, 16)), ResetNormStatsHook(), FilterEnergyReinitHook()):
        hook.before_train(runner)
        assert hook.touched == []
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    runner.iter = 0
    ReinitLayersHook(layers=(1, 16)).before_train(runner)
    assert not torch.equal(model.state_dict()['backbone.encoder.0.conv.weight'],
                           before['backbone.encoder.0.conv.weight'])


def test_checkpoints_in_erfnet_pytorch_layout_are_read_under_the_model_names(ckpts, tmp_path):
    from segssl.convert.erfnet import original_erfnet_name
    from segssl.mmseg.weight_surgery_hooks import load_aligned_state
    src, _ = ckpts['otsu']
    torch.save(
        {
            'state_dict': {
                'module.' + original_erfnet_name(k): v
                for k, v in src.items() if not k.endswith('num_batches_tracked')
            }
        }, tmp_path / 'orig.pth')
    names = ['backbone.' + k for k in src] + ['decode_head.conv_seg.weight']
    got = load_aligned_state(str(tmp_path / 'orig.pth'), names)
    expected = [n for n in names if n.startswith('backbone.') and not n.endswith('num_batches_tracked')]
    assert sorted(got) == sorted(expected)
    assert all(torch.equal(got['backbone.' + k], v) for k, v in src.items() if 'backbone.' + k in got)

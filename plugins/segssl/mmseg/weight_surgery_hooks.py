"""The ERFNet thesis's transfer manager as mmengine hooks: re-initialise layers, reset BatchNorm layers,
splice layers from another checkpoint, filter-energy re-initialisation, magnitude pruning with
a fixed mask, and staged fine-tuning (encoder frozen first). The maths is in
:mod:`segssl.core.weight_surgery`; these hooks only pick the tensors and log what they changed.

Why hooks and not an ``init_cfg`` type: mmengine applies ``init_cfg`` inside
``model.init_weights()`` module by module, *before* ``load_from`` and before resuming, and an
initialiser sees one module, no second checkpoint and no logger of the run. The report's
operations act on the weights as loaded (pretrained encoder + decoder), may need a second
checkpoint (splice, energy refill from a donor), must be logged, and pruning must act again
after every optimizer step. ``Hook.before_train`` runs after ``init_weights``, ``load_from``
and resuming (mmengine ``Runner.train``), and ``after_train_iter`` after each optimizer step;
so: hooks, used from a config as

    custom_hooks = [dict(type='ReinitLayersHook', layers=(13, 16))]

Layers are the report's indices (:func:`segssl.core.weight_surgery.layer_numbering`: ERFNet
encoder 1-16, decoder 17-22, head 23; ResNet stem 1, then one per residual block). A run that
resumes (``runner.iter > 0``) keeps its trained weights: the init hooks then do nothing.
"""
import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segssl.core.weight_surgery import (filter_energy_refill_, layer_numbering, magnitude_prune_mask, names_in_layers,
                                        norm_layer_names, parameter_counts, reinit_, splice_)

from .runner_model import runner_model


def load_aligned_state(path, model_names):
    """Tensors of the checkpoint ``path`` under the model's own names.

    Accepts an mmengine/mmseg checkpoint (``state_dict``, keys with or without ``backbone.``,
    ``module.``) or an erfnet_pytorch checkpoint (read by :func:`segssl.convert.erfnet.read_erfnet`).
    Returns ``{model name: tensor}`` for every model name found. The file is read as data
    (:func:`segssl.io.load_checkpoint_file`): a pickle that would run code is refused."""
    from segssl.io import load_checkpoint_file
    obj = load_checkpoint_file(path)
    sd = obj.get('state_dict', obj) if isinstance(obj, dict) else None
    if not isinstance(sd, dict):
        raise ValueError(f'{path}: not a checkpoint dict (found {type(obj).__name__})')
    sd = {k[7:] if k.startswith('module.') else k: v for k, v in sd.items() if torch.is_tensor(v)}
    if any(k.startswith(('encoder.initial_block.', 'encoder.layers.')) for k in sd):
        from segssl.convert.erfnet import read_erfnet
        parts = read_erfnet(path)
        sd = dict(parts['encoder'], **parts['decoder'])
    out = {}
    for n in model_names:
        for cand in (n, n[len('backbone.'):] if n.startswith('backbone.') else None):
            if cand is not None and cand in sd:
                out[n] = sd[cand]
                break
    return out


class _SurgeryHook(Hook):
    """Common part: the model's tensors of ``layers`` (seed indices, inclusive; None = all),
    optionally only those whose name starts with ``prefix``."""
    priority = 'VERY_HIGH'  # before any other before_train hook looks at the weights

    def __init__(self, layers=None, arch='auto', prefix=''):
        self.layers = None if layers is None else tuple(layers)
        self.arch, self.prefix = arch, prefix
        self.touched = []

    def _selected(self, model):
        state = model.state_dict(keep_vars=True)
        names = names_in_layers(layer_numbering(state, self.arch), self.layers, self.prefix)
        return {n: state[n].data for n in names}

    def _resumed(self, runner):
        if runner.iter > 0:
            runner.logger.info(f'{type(self).__name__}: resumed at iteration {runner.iter}, '
                               f'weights kept as loaded')
            return True
        return False

    def _log(self, runner, what, names):
        self.touched = list(names)
        shown = ', '.join(self.touched[:12]) + (' ...' if len(self.touched) > 12 else '')
        runner.logger.info(f'{type(self).__name__}: {what}: {len(self.touched)} tensors in '
                           f'layers {self.layers or "all"}: {shown}')


@HOOKS.register_module()
class ReinitLayersHook(_SurgeryHook):
    """Kaiming re-initialisation of every tensor of layers ``first..last`` (seed Table 5.1:
    ``(8, 16)`` and ``(13, 16)``, "randomly initializes all the layers of the encoder after
    layer 12"). Conv weights ~ N(0, 2 / fan_in), biases 0, BN scale 1 / shift 0, statistics
    reset. ``seed`` fixes the draw."""

    def __init__(self, layers=(13, 16), seed=0, **kwargs):
        super().__init__(layers, **kwargs)
        self.seed = seed

    def before_train(self, runner):
        if self._resumed(runner):
            return
        g = torch.Generator().manual_seed(self.seed)
        self._log(runner, 'Kaiming re-initialised', reinit_(self._selected(runner_model(runner)), g))


@HOOKS.register_module()
class ResetNormStatsHook(_SurgeryHook):
    """Reset the BatchNorm layers in ``layers`` (None: the whole model) after loading: running
    statistics to mean 0, var 1, count 0 and, with ``affine`` (default), the scale to 1 and the
    shift to 0, i.e. PyTorch's fresh ``BatchNorm2d``. The ERFNet thesis Section 5.1 (line ~349): "when we
    reset the batchnorm parameters after pre-training the performance does not decrease": its
    parameters are the scale and shift, so ``affine=True`` is the default; ``affine=False``
    resets the running statistics only."""

    def __init__(self, layers=None, affine=True, **kwargs):
        super().__init__(layers, **kwargs)
        self.affine = affine

    def before_train(self, runner):
        if self._resumed(runner):
            return
        sel = self._selected(runner_model(runner))
        names = norm_layer_names(sel, self.affine)
        self._log(runner, 'BN reset' + (' (with affine)' if self.affine else ''), reinit_({n: sel[n] for n in names}))


@HOOKS.register_module()
class SpliceLayersHook(_SurgeryHook):
    """Layers ``first..last`` from ``checkpoint``, the rest as loaded (by the backbone's
    ``init_cfg``): seed Table 5.7's "rotation layers 1-12 + Otsu layers 13-16" is the rotation
    encoder as ``init_cfg`` and ``SpliceLayersHook(checkpoint=OTSU, layers=(13, 16))``."""

    def __init__(self, checkpoint, layers=(13, 16), **kwargs):
        super().__init__(layers, **kwargs)
        self.checkpoint = checkpoint

    def before_train(self, runner):
        if self._resumed(runner):
            return
        sel = self._selected(runner_model(runner))
        src = load_aligned_state(self.checkpoint, sel)
        self._log(runner, f'spliced from {self.checkpoint}', splice_(sel, src, list(sel), self.checkpoint))


def _conv_weights(model, selected):
    """``{weight name: (module, out_dim)}`` of the convolutions among ``selected`` names."""
    out = {}
    for mname, m in model.named_modules():
        if isinstance(m, torch.nn.modules.conv._ConvNd) and mname + '.weight' in selected:
            out[mname + '.weight'] = (m, 1 if m.transposed else 0)
    return out


@HOOKS.register_module()
class FilterEnergyReinitHook(_SurgeryHook):
    """Per conv layer, keep the ``keep_ratio`` (x) output filters of highest L1 energy and
    refill the others with Kaiming filters (``donor_checkpoint=None``) or with the
    highest-energy filters of ``donor_checkpoint`` (seed Table 5.7: 0.75 + 0.25 Kaiming, 0.9 +
    0.1 ImageNet). Conv weights and their biases change; BN and other tensors do not."""

    def __init__(self, keep_ratio=0.75, layers=(1, 16), donor_checkpoint=None, seed=0, **kwargs):
        super().__init__(layers, **kwargs)
        self.keep_ratio, self.donor_checkpoint, self.seed = keep_ratio, donor_checkpoint, seed
        self.replaced = {}

    def before_train(self, runner):
        if self._resumed(runner):
            return
        model = runner_model(runner)
        sel = self._selected(model)
        convs = _conv_weights(model, sel)
        donor = {}
        if self.donor_checkpoint:
            wanted = list(convs) + [n[:-6] + 'bias' for n in convs]
            donor = load_aligned_state(self.donor_checkpoint, wanted)
            missing = [n for n in convs if n not in donor]
            if missing:
                raise KeyError(f'{self.donor_checkpoint} lacks conv weights {missing[:5]}')
        g = torch.Generator().manual_seed(self.seed)
        touched = []
        for name, (m, out_dim) in convs.items():
            bias = m.bias.data if m.bias is not None else None
            _, rep = filter_energy_refill_(m.weight.data, self.keep_ratio, bias, out_dim, donor.get(name),
                                           donor.get(name[:-6] + 'bias'), g)
            self.replaced[name] = rep
            if len(rep):
                touched += [name] + ([name[:-6] + 'bias'] if bias is not None else [])
        n_rep = sum(len(r) for r in self.replaced.values())
        self._log(
            runner, f'energy re-init keep {self.keep_ratio}, {n_rep} filters refilled from '
            f'{self.donor_checkpoint or "Kaiming"}', touched)


@HOOKS.register_module()
class MagnitudePruneHook(_SurgeryHook):
    """Zero the ``ratio`` smallest-magnitude weights of every conv/linear weight (dims >= 2)
    in ``layers``, per layer, after loading, and keep them zero through fine-tuning: the fixed
    mask is re-applied after every optimizer step (``after_train_iter``). Seed Table 5.7
    "lotto" 0.5 / 0.25 and Table 5.8's 80 % pruned ERFNet.

    Logs the non-zero parameter count (whole model) and puts it in the message hub as
    ``train/nonzero_params``: in ``before_train``, in ``after_train``, and before each iteration
    after which mmengine's ``LoggerHook`` logs (every ``interval`` inner iterations and at the end
    of an epoch, its rule; ``count_interval=n`` sets n instead of the logger's interval). Counting
    is a ``count_nonzero`` over the whole model read back to the host (it waits for the GPU), so
    it is not recomputed on iterations nobody logs. (The pruned weights are 0 after every step; the
    count still moves where another weight leaves or hits exactly 0, e.g. a zero-initialised bias
    in its first step, and is exact whenever it is taken.) The value a log line shows is
    the count after the previous iteration's mask, as when it was counted every iteration
    (``LoggerHook``, priority BELOW_NORMAL, logs before this hook re-applies the mask). The masks
    are moved to the parameters' device once, in ``before_train``."""
    priority = 'LOW'  # re-applied before CheckpointHook (VERY_LOW) saves the weights

    def __init__(self, ratio=0.5, layers=(1, 16), count_interval=None, **kwargs):
        super().__init__(layers, **kwargs)
        if count_interval is not None and (isinstance(count_interval, bool) or not isinstance(count_interval, int)
                                           or count_interval <= 0):
            raise ValueError(f'MagnitudePruneHook: count_interval={count_interval!r}: expected an int > 0 or None')
        self.ratio, self.count_interval = ratio, count_interval
        self.masks = {}
        self._masked = []  # (parameter, mask on its device)
        self._count_every = None  # inner iterations between counts (None: before/after train only)

    def before_train(self, runner):
        from mmengine.hooks import LoggerHook
        model = runner_model(runner)
        params = dict(model.named_parameters())
        # on resume the pruned weights are the zeros, so recomputing the mask finds them again
        self.masks = {
            n: magnitude_prune_mask(t, self.ratio).to(params[n].device)
            for n, t in self._selected(model).items() if n in params and t.dim() >= 2
        }
        self._masked = [(params[n], m) for n, m in self.masks.items()]
        loggers = [h.interval for h in runner.hooks if isinstance(h, LoggerHook)]
        self._count_every = self.count_interval or (min(loggers) if loggers else None)
        self._apply(model)
        pruned = sum(int((~m).sum()) for m in self.masks.values())
        self._log(runner, f'pruned {pruned} weights ({self.ratio:.0%} per layer)', list(self.masks))
        self._report(runner, model)

    @torch.no_grad()
    def _apply(self, model=None):
        """Re-apply the masks (``model`` is unused: the parameters were taken in before_train)."""
        for k, (p, m) in enumerate(self._masked):
            if m.device != p.device:  # the model moved after before_train: move once more
                m = m.to(p.device)
                self._masked[k] = (p, m)
            p.data.mul_(m)

    def _report(self, runner, model):
        total, nonzero = parameter_counts(model.named_parameters())
        self.nonzero = nonzero
        runner.message_hub.update_scalar('train/nonzero_params', nonzero)
        runner.logger.info(f'MagnitudePruneHook: {nonzero:,} of {total:,} parameters non-zero')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        n = self._count_every
        if n and (self.every_n_inner_iters(batch_idx, n) or self.end_of_epoch(runner.train_dataloader, batch_idx)):
            self.nonzero = parameter_counts(runner_model(runner).named_parameters())[1]
            runner.message_hub.update_scalar('train/nonzero_params', self.nonzero)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._apply()

    def after_train(self, runner):
        self._report(runner, runner_model(runner))


@HOOKS.register_module()
class StagedFineTuneHook(Hook):
    """Freeze the encoder for the first ``frozen`` epochs (``by_epoch``) or iterations, then
    train everything (seed Table 5.4: encoder frozen 40 epochs, then all layers 150).

    Frozen: every parameter whose name starts with one of ``frozen_prefixes`` gets
    ``requires_grad=False`` and ``grad=None``, so the optimizer skips it entirely (PyTorch's
    Adam/SGD skip parameters without a gradient: no weight decay, no momentum step). With
    ``freeze_norm_stats`` their BatchNorm layers are also kept in eval mode (running statistics
    do not move). ERFNet's encoder: ``'backbone.encoder.'``; a ResNet backbone: ``'backbone.'``.
    Distributed runs: DDP is built before this hook freezes anything, so the config must set
    ``model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)``
    (parameters without a gradient during the frozen stage; segssl's staged configs do), else DDP
    stops at the second iteration; the hook checks it before training starts. Single-process
    runs need nothing."""
    priority = 'VERY_HIGH'

    def __init__(self, frozen=40, by_epoch=True, frozen_prefixes=('backbone.encoder.', ), freeze_norm_stats=True):
        self.frozen, self.by_epoch = frozen, by_epoch
        self.frozen_prefixes = tuple(frozen_prefixes)
        self.freeze_norm_stats = freeze_norm_stats
        self.is_frozen = None

    def before_train(self, runner):
        ddp = torch.nn.parallel.DistributedDataParallel
        if isinstance(runner.model, ddp) and not runner.model.find_unused_parameters:
            raise ValueError('StagedFineTuneHook: the model is wrapped in DistributedDataParallel with '
                             'find_unused_parameters=False, but the frozen parameters get no gradient; set '
                             "model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)")

    def _set(self, runner, frozen):
        model = runner_model(runner)
        names = [n for n, _ in model.named_parameters() if n.startswith(self.frozen_prefixes)]
        if not names:
            raise ValueError(f'StagedFineTuneHook: no parameter starts with {self.frozen_prefixes}')
        for n, p in model.named_parameters():
            if n.startswith(self.frozen_prefixes):
                p.requires_grad_(not frozen)
                if frozen:
                    p.grad = None
        if not frozen and model.training:
            # mmengine's loops call model.train() per iteration / epoch; a custom loop may not
            for n, m in self._frozen_norms(model):
                m.train()
        if self.is_frozen != frozen:
            unit = 'epoch' if self.by_epoch else 'iteration'
            runner.logger.info(f'StagedFineTuneHook: {"froze" if frozen else "unfroze"} '
                               f'{len(names)} tensors {self.frozen_prefixes} at {unit} '
                               f'{runner.epoch if self.by_epoch else runner.iter}')
        self.is_frozen = frozen

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        step = runner.epoch if self.by_epoch else runner.iter
        frozen = step < self.frozen
        if frozen != self.is_frozen:
            self._set(runner, frozen)
        if frozen and self.freeze_norm_stats:
            for _, m in self._frozen_norms(runner_model(runner)):
                m.eval()

    def _frozen_norms(self, model):
        return [(n, m) for n, m in model.named_modules()
                if (n + '.').startswith(self.frozen_prefixes) and isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]

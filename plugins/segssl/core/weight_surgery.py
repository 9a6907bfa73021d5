"""Weight surgery on transferred networks (the ERFNet thesis, 001_06df34aad1e5772c.txt, Sections 5.1-5.4):
the report's layer numbering, Kaiming re-initialisation of layers, BatchNorm statistics reset,
layer splicing between checkpoints, filter-energy re-initialisation and magnitude pruning.

Everything here acts on ``{name: Tensor}`` mappings in a model's ``state_dict()`` naming
(parameters and buffers), in place, and returns the names it changed; no mm* import.

Layer numbering (:func:`layer_numbering`):

* **ERFNet** (mmseg's ``ERFNet`` naming, optionally under ``backbone.``; seed Table 3.1):
  ``encoder.i.*`` -> layer ``i + 1`` (1-16: downsampler 1, 2, non-bt-1D 3-7, downsampler 8,
  dilated non-bt-1D 9-16); ``decoder.j.*`` -> ``17 + j`` (17-22: upsampler 17, non-bt-1D 18-19,
  upsampler 20, non-bt-1D 21-22); the decode/auxiliary head (``decode_head.*``,
  ``auxiliary_head.*``) -> 23, the report's last layer (its transposed conv to C classes).
* **ResNet** (mmseg / torchvision naming): the stem (``conv1``, ``bn1``, or ``stem.*``) -> 1, then
  every residual block in order, ``layer1.0`` -> 2, ``layer1.1`` -> 3, ... (ResNet-18: blocks
  2-9, ResNet-50: 2-17); the heads -> one index after the last block.

Every tensor of the model gets exactly one index; a name of neither layout raises.
"""
import math
import re
from collections import OrderedDict

import torch

_HEADS = ('decode_head.', 'auxiliary_head.')
_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


def _strip(name):
    return name[len('backbone.'):] if name.startswith('backbone.') else name


def detect_arch(names):
    """``'erfnet'`` if the names hold ``encoder.N.*``, ``'resnet'`` if ``layerS.B.*``."""
    stripped = [_strip(n) for n in names]
    if any(re.match(r'^(encoder|decoder)\.\d+\.', n) for n in stripped):
        return 'erfnet'
    if any(re.match(r'^layer\d+\.\d+\.', n) for n in stripped):
        return 'resnet'
    raise ValueError(f'cannot number layers: neither ERFNet (encoder.N.*) nor ResNet '
                     f'(layerS.B.*) names among {sorted(names)[:6]}')


def layer_numbering(names, arch='auto'):
    """The report's layer index of every tensor name.

    Args:
        names (iterable[str]): ``state_dict()`` keys of a model, a backbone or a checkpoint.
        arch (str): ``'erfnet'``, ``'resnet'`` or ``'auto'`` (:func:`detect_arch`).

    Returns:
        OrderedDict: ``name -> layer index`` (1-based), in the order of ``names``.

    Raises:
        ValueError: a name that belongs to no layer of ``arch``.
    """
    names = list(names)
    arch = detect_arch(names) if arch == 'auto' else arch
    out = OrderedDict()
    if arch == 'erfnet':
        enc = [int(m.group(1)) for n in names for m in [re.match(r'^encoder\.(\d+)\.', _strip(n))] if m]
        n_enc = max(enc) + 1 if enc else 16
        dec = [int(m.group(1)) for n in names for m in [re.match(r'^decoder\.(\d+)\.', _strip(n))] if m]
        last = n_enc + (max(dec) + 1 if dec else 6) + 1
        for n in names:
            m = re.match(r'^(encoder|decoder)\.(\d+)\.', _strip(n))
            if m:
                out[n] = int(m.group(2)) + (1 if m.group(1) == 'encoder' else n_enc + 1)
            elif n.startswith(_HEADS):
                out[n] = last
            else:
                raise ValueError(f'tensor {n!r} is in no ERFNet layer (expected '
                                 f'[backbone.]encoder.N.*, [backbone.]decoder.N.* or a head)')
        return out
    if arch != 'resnet':
        raise ValueError(f"arch must be 'erfnet', 'resnet' or 'auto', not {arch!r}")
    blocks = sorted({(int(m.group(1)), int(m.group(2)))
                     for n in names
                     for m in [re.match(r'^layer(\d+)\.(\d+)\.', _strip(n))] if m})
    position = {b: i + 2 for i, b in enumerate(blocks)}
    for n in names:
        s = _strip(n)
        m = re.match(r'^layer(\d+)\.(\d+)\.', s)
        if n.startswith(_HEADS):
            out[n] = len(blocks) + 2
        elif m:
            out[n] = position[(int(m.group(1)), int(m.group(2)))]
        elif re.match(r'^(conv1|bn1|stem)\.', s):
            out[n] = 1
        else:
            raise ValueError(f'tensor {n!r} is in no ResNet layer (expected the stem '
                             f'conv1/bn1/stem.*, layerS.B.* or a head)')
    return out


def layer_prefixes(names, arch='auto'):
    """``{layer index: [module prefixes]}``: the distinct module paths (name minus the tensor
    name) of each layer, sorted, e.g. ``{1: ['backbone.encoder.0.bn', 'backbone.encoder.0.conv']}``."""
    groups = {}
    for n, i in layer_numbering(names, arch).items():
        groups.setdefault(i, set()).add(n.rsplit('.', 1)[0])
    return {i: sorted(p) for i, p in sorted(groups.items())}


def names_in_layers(numbering, layers=None, prefix=''):
    """Names whose layer index lies in ``layers = (first, last)`` (inclusive; None: all) and
    that start with ``prefix``, in numbering order."""
    lo, hi = (-math.inf, math.inf) if layers is None else layers
    if lo > hi:
        raise ValueError(f'layers must be (first, last) with first <= last, got {layers}')
    return [n for n, i in numbering.items() if lo <= i <= hi and n.startswith(prefix)]


@torch.no_grad()
def kaiming_(weight, generator=None):
    """He et al.'s normal init, std = sqrt(2 / fan_in), fan_in = ``weight[0].numel()``
    (in-channels x kernel size for a conv weight ``(C_out, C_in, kh, kw)``), in place."""
    std = math.sqrt(2.0 / max(1, weight[0].numel()))
    weight.copy_(torch.randn(weight.shape, generator=generator, dtype=weight.dtype) * std)
    return weight


@torch.no_grad()
def reinit_(tensors, generator=None):
    """Kaiming re-initialisation of the given tensors, in place: weights with >= 2 dims ->
    :func:`kaiming_`; 1-dim weights (norm scale) -> 1; biases -> 0; BN running mean -> 0,
    running var -> 1, num_batches_tracked -> 0. Returns the names changed."""
    for n, t in tensors.items():
        leaf = n.rsplit('.', 1)[-1]
        if leaf == 'weight' and t.dim() >= 2:
            kaiming_(t, generator)
        elif leaf in ('weight', 'running_var'):
            t.fill_(1)
        elif leaf in ('bias', 'running_mean', 'num_batches_tracked'):
            t.zero_()
        else:
            raise ValueError(f'reinit_: do not know how to initialise {n!r}')
    return list(tensors)


def norm_layer_names(names, affine=False):
    """Names of normalisation statistics (``running_mean/var``, ``num_batches_tracked``) and,
    with ``affine``, the ``weight``/``bias`` of the same modules."""
    names = list(names)
    modules = {n.rsplit('.', 1)[0] for n in names if n.endswith('.running_mean')}
    return [
        n for n in names
        if n.rsplit('.', 1)[0] in modules and (n.endswith(_STATS) or (affine and n.endswith(('.weight', '.bias'))))
    ]


def splice_(dst, src, names, source='the source checkpoint'):
    """Copy ``src[name]`` into ``dst[name]`` for each name, in place; clear error on a missing
    name or a shape mismatch (``source`` names the file in the message)."""
    missing = [n for n in names if n not in src]
    if missing:
        raise KeyError(f'{source} lacks {len(missing)} tensor(s) to splice, e.g. {missing[:5]}')
    wrong = [f'{n} {tuple(src[n].shape)} vs {tuple(dst[n].shape)}' for n in names if src[n].shape != dst[n].shape]
    if wrong:
        raise ValueError(f'{source}: shape mismatch for {wrong[:5]}')
    with torch.no_grad():
        for n in names:
            dst[n].copy_(src[n].to(dst[n].dtype))
    return list(names)


def filter_energy(weight, out_dim=0):
    """Energy of each output filter: the L1 norm ``E_o = sum |W[o]|`` over all other dims.
    ``weight``: ``(C_out, C_in, kh, kw)`` (``out_dim=0``) or a transposed conv's
    ``(C_in, C_out, kh, kw)`` (``out_dim=1``). Returns ``(C_out,)``."""
    w = weight.detach().movedim(out_dim, 0)
    return w.abs().reshape(w.shape[0], -1).sum(1)


def _rank(energy):
    """Filter indices by decreasing energy (ties: lower index first)."""
    return torch.sort(energy, descending=True, stable=True).indices


@torch.no_grad()
def filter_energy_refill_(weight, keep_ratio, bias=None, out_dim=0, donor_weight=None, donor_bias=None, generator=None):
    """Keep the top ``keep_ratio`` (the report's x) of output filters by energy and refill the
    rest, in place.

    Kept: the ``round(x * C_out)`` highest-energy filters (:func:`filter_energy`). The others
    (the "replaced" slots) are refilled with a fresh Kaiming filter (bias 0) when
    ``donor_weight`` is None, else with the donor's highest-energy filters (and their bias):
    the donor's best goes into the replaced slot of lowest energy, and so on.

    Returns:
        tuple[LongTensor, LongTensor]: (kept, replaced) output-filter indices.
    """
    if not 0.0 <= keep_ratio <= 1.0:
        raise ValueError(f'keep_ratio must be in [0, 1], got {keep_ratio}')
    n = weight.shape[out_dim]
    order = _rank(filter_energy(weight, out_dim))
    n_keep = int(round(keep_ratio * n))
    kept, replaced = order[:n_keep], order[n_keep:].flip(0)  # replaced: lowest energy first
    w = weight.movedim(out_dim, 0)  # a view: writes go to weight
    if donor_weight is None:
        fresh = kaiming_(torch.empty_like(w), generator)
        w[replaced] = fresh[replaced]
        if bias is not None:
            bias[replaced] = 0
    else:
        if donor_weight.shape != weight.shape:
            raise ValueError(f'donor filter shape {tuple(donor_weight.shape)} != '
                             f'{tuple(weight.shape)}')
        # the donor is read on the CPU; the weights may live on a GPU
        donor_weight = donor_weight.to(device=w.device)
        best = _rank(filter_energy(donor_weight, out_dim))[:len(replaced)]
        w[replaced] = donor_weight.movedim(out_dim, 0)[best].to(w.dtype)
        if bias is not None:
            bias[replaced] = 0 if donor_bias is None else donor_bias.to(bias.device)[best].to(bias.dtype)
    return kept, replaced


def magnitude_prune_mask(weight, ratio):
    """Mask of a per-layer magnitude pruning: False at the ``round(ratio * numel)`` weights of
    smallest ``|w|`` (ties: lower flat index pruned first), True elsewhere. Same shape."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f'pruning ratio must be in [0, 1], got {ratio}')
    flat = weight.detach().abs().flatten()
    n_prune = int(round(ratio * flat.numel()))
    mask = torch.ones_like(flat, dtype=torch.bool)
    mask[torch.sort(flat, stable=True).indices[:n_prune]] = False
    return mask.view_as(weight)


def parameter_counts(named_tensors):
    """``(total, nonzero)`` element counts over ``(name, tensor)`` pairs."""
    total = nonzero = 0
    for _, t in named_tensors:
        total += t.numel()
        nonzero += int(torch.count_nonzero(t.detach()))
    return total, nonzero

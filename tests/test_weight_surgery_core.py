"""The ERFNet thesis's weight surgery maths (segssl.core.weight_surgery) and ENet class weights
(segssl.core.class_weights), against hand counts and brute-force references."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

from segssl.convert.erfnet import expected_erfnet_shapes
from segssl.core.class_weights import class_pixel_counts, enet_class_weights
from segssl.core.weight_surgery import (filter_energy, filter_energy_refill_, layer_numbering, layer_prefixes,
                                        magnitude_prune_mask, names_in_layers, norm_layer_names, parameter_counts,
                                        reinit_, splice_)


def erfnet_names():
    return ['backbone.' + k
            for k in expected_erfnet_shapes()] + ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']


def test_erfnet_numbering_covers_every_tensor_once_as_table_3_1():
    names = erfnet_names()
    num = layer_numbering(names)
    assert list(num) == names  # every tensor exactly once
    counts = Counter(num.values())
    assert sorted(counts) == list(range(1, 24))  # layers 1..23, none empty
    # downsampler / upsampler blocks: conv w+b, bn w+b+mean+var+count = 7; non-bt-1D: 4 convs
    # (w+b) + 2 BN (5 each) = 18; the head: 2
    down_up = {1, 2, 8, 17, 20}
    assert all(counts[i] == (7 if i in down_up else 2 if i == 23 else 18) for i in counts)
    assert num['backbone.encoder.0.conv.weight'] == 1 and num['backbone.encoder.15.convs_layers.8.running_var'] == 16
    assert num['backbone.decoder.0.conv.weight'] == 17 and num['backbone.decoder.5.convs_layers.0.bias'] == 22
    # backbone-only names (a converted file) number the same way
    assert layer_numbering(list(expected_erfnet_shapes()))['encoder.7.conv.weight'] == 8
    prefixes = layer_prefixes(names)
    assert prefixes[8] == ['backbone.encoder.7.bn', 'backbone.encoder.7.conv']
    assert prefixes[23] == ['decode_head.conv_seg']
    assert sum(len(p) for p in prefixes.values()) == len({n.rsplit('.', 1)[0] for n in names})


def test_resnet18_numbering_stem_then_blocks_in_order():
    import torchvision
    names = ['backbone.' + k for k in torchvision.models.resnet18().state_dict() if not k.startswith('fc.')]
    names += ['decode_head.conv_seg.weight']
    num = layer_numbering(names)
    assert list(num) == names
    assert num['backbone.conv1.weight'] == 1 and num['backbone.bn1.running_mean'] == 1
    order = [(s, b) for s in (1, 2, 3, 4) for b in (0, 1)]
    for i, (s, b) in enumerate(order):
        assert {num[n] for n in names if n.startswith(f'backbone.layer{s}.{b}.')} == {i + 2}
    assert num['decode_head.conv_seg.weight'] == 10
    # each block: 2 convs + 2 BN (5 tensors), plus the downsample conv + BN in 3 blocks
    c = Counter(num.values())
    assert [c[i] for i in range(2, 10)] == [12, 12, 18, 12, 18, 12, 18, 12] and c[1] == 6


def test_numbering_rejects_unknown_names():
    with pytest.raises(ValueError, match="'backbone.neck.x' is in no ERFNet layer"):
        layer_numbering(['backbone.encoder.0.conv.weight', 'backbone.neck.x'])
    with pytest.raises(ValueError, match='neither ERFNet'):
        layer_numbering(['foo.weight'])
    with pytest.raises(ValueError, match='first <= last'):
        names_in_layers(layer_numbering(erfnet_names()), (16, 13))


def test_reinit_and_norm_reset_values():
    torch.manual_seed(0)
    t = {
        'a.conv.weight': torch.randn(64, 32, 3, 3),
        'a.conv.bias': torch.randn(64),
        'a.bn.weight': torch.randn(64),
        'a.bn.bias': torch.randn(64),
        'a.bn.running_mean': torch.randn(64),
        'a.bn.running_var': torch.rand(64) + 2,
        'a.bn.num_batches_tracked': torch.tensor(7)
    }
    assert norm_layer_names(t) == ['a.bn.running_mean', 'a.bn.running_var', 'a.bn.num_batches_tracked']
    assert norm_layer_names(t, affine=True)[:2] == ['a.bn.weight', 'a.bn.bias']
    reinit_(t, torch.Generator().manual_seed(1))
    std = math.sqrt(2 / (32 * 9))  # Kaiming: N(0, 2 / fan_in)
    assert abs(t['a.conv.weight'].std().item() / std - 1) < 0.03
    assert abs(t['a.conv.weight'].mean().item()) < 0.1 * std
    assert t['a.conv.bias'].abs().max() == 0 and torch.all(t['a.bn.weight'] == 1)
    assert torch.all(t['a.bn.running_var'] == 1) and t['a.bn.running_mean'].abs().max() == 0
    assert t['a.bn.num_batches_tracked'] == 0


def test_splice_copies_and_names_errors():
    dst = {'x': torch.zeros(2, 3), 'y': torch.zeros(4)}
    src = {'x': torch.ones(2, 3), 'y': torch.ones(5)}
    assert splice_(dst, src, ['x']) == ['x'] and torch.all(dst['x'] == 1) and torch.all(dst['y'] == 0)
    with pytest.raises(ValueError, match=r'other.pth: shape mismatch for \[\'y \(5,\) vs \(4,\)'):
        splice_(dst, src, ['y'], 'other.pth')
    with pytest.raises(KeyError, match="other.pth lacks 1 tensor"):
        splice_(dst, {}, ['x'], 'other.pth')


def test_filter_energy_keep_top_and_refill():
    torch.manual_seed(0)
    w = torch.randn(8, 3, 3, 3)
    energy = torch.tensor([sum(abs(float(v)) for v in w[o].flatten()) for o in range(8)])
    assert torch.allclose(filter_energy(w), energy)
    # transposed conv layout (C_in, C_out, k, k): energy over dims 0, 2, 3
    wt = torch.randn(3, 8, 2, 2)
    assert torch.allclose(filter_energy(wt, out_dim=1), wt.abs().sum((0, 2, 3)))
    rank = sorted(range(8), key=lambda o: -energy[o].item())
    # Kaiming refill: the 6 = round(0.75 * 8) strongest stay bit-identical, 2 replaced, bias 0
    w1, b1 = w.clone(), torch.randn(8)
    kept, rep = filter_energy_refill_(w1, 0.75, b1, generator=torch.Generator().manual_seed(0))
    assert kept.tolist() == rank[:6] and sorted(rep.tolist()) == sorted(rank[6:])
    assert torch.equal(w1[kept], w[kept]) and not torch.equal(w1[rep], w[rep])
    assert b1[rep].abs().max() == 0
    # donor refill: the donor's best filter goes to the weakest slot, its second to the next
    donor, donor_b = torch.randn(8, 3, 3, 3), torch.randn(8)
    d_rank = sorted(range(8), key=lambda o: -donor[o].abs().sum().item())
    w2, b2 = w.clone(), torch.randn(8)
    filter_energy_refill_(w2, 0.75, b2, donor_weight=donor, donor_bias=donor_b)
    assert torch.equal(w2[rank[7]], donor[d_rank[0]]) and torch.equal(w2[rank[6]], donor[d_rank[1]])
    assert b2[rank[7]] == donor_b[d_rank[0]]
    # transposed layout writes the (C_in, C_out, ...) slices
    wt2 = wt.clone()
    _, rep = filter_energy_refill_(wt2, 0.5, out_dim=1, donor_weight=torch.zeros_like(wt))
    assert wt2[:, rep].abs().max() == 0 and len(rep) == 4
    with pytest.raises(ValueError, match='keep_ratio'):
        filter_energy_refill_(w.clone(), 1.5)


def test_magnitude_prune_mask_brute_force():
    torch.manual_seed(0)
    w = torch.randn(16, 4, 3, 1)
    for ratio in (0.0, 0.25, 0.5, 0.8, 1.0):
        mask = magnitude_prune_mask(w, ratio)
        n = round(ratio * w.numel())
        smallest = sorted(range(w.numel()), key=lambda i: abs(w.flatten()[i].item()))[:n]
        ref = torch.ones(w.numel(), dtype=torch.bool)
        ref[smallest] = False
        assert torch.equal(mask.flatten(), ref) and int((~mask).sum()) == n
    ties = torch.tensor([1.0, 0.0, 0.0, 0.0, 2.0])
    assert magnitude_prune_mask(ties, 0.4).tolist() == [True, False, False, True, True]
    assert parameter_counts([('a', torch.tensor([0.0, 1.0, 0.0])), ('b', torch.ones(2, 2))]) == (7, 5)


def test_enet_class_weights_on_hand_made_labels():
    labels = [np.array([[0, 0, 1], [255, 2, 0]]), np.array([[1, 255], [0, 0]])]
    counts = class_pixel_counts(labels, num_classes=4)
    assert counts.tolist() == [5, 2, 1, 0]  # 255 excluded, class 3 absent
    w = enet_class_weights(counts)
    expected = [1 / math.log(1.02 + p) for p in (5 / 8, 2 / 8, 1 / 8, 0)]
    assert np.allclose(w, expected, rtol=0, atol=1e-12)
    assert abs(w[3] - 50.4983) < 1e-3 and abs(enet_class_weights([1, 0])[0] - 1.4214) < 1e-3
    with pytest.raises(ValueError, match=r'label map 1: values \[7\] outside 0..3'):
        class_pixel_counts([np.zeros((2, 2)), np.array([7, 255])], 4)
    with pytest.raises(ValueError, match='no labelled pixel'):
        enet_class_weights(class_pixel_counts([np.full((2, 2), 255)], 4))

"""The PixPro mmengine model: loss wiring, gradients, momentum update, checkpoint layout."""
import math

import pytest
import torch
from conftest import skip_without_mmseg

skip_without_mmseg()


def tiny_pixpro(**kw):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = dict(
        type='PixPro', backbone=dict(type='ResNet', depth=18, style='pytorch', out_indices=(3, ), strides=(1, 2, 2, 1),
                                     dilations=(1, 1, 1, 2)),
        projector=dict(in_channels=512, hidden_channels=64, out_channels=32), head=dict(type='local_ppm', frame=3))
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def fake_batch(n=2, size=64, affine=False):
    from mmengine.structures import BaseDataElement
    torch.manual_seed(0)
    inputs = [torch.randint(0, 255, (4, 3, size, size), dtype=torch.uint8) for _ in range(n)]
    samples = []
    for i in range(n):
        warp = torch.tensor([[[1., 0, 0], [0, 1, 0]]] * 2)
        if affine:
            a = math.radians(30)
            warp[0] = torch.tensor([[math.cos(a), -math.sin(a), 20.], [math.sin(a), math.cos(a), -10.]])
        samples.append(
            BaseDataElement(
                metainfo=dict(view_boxes=torch.tensor([[0., 0., 100., 100.], [20. + i, 10., 120., 110.]]),
                              view_flips=torch.tensor([False, bool(i % 2)]), view_warps=warp, view_size=(size, size))))
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('affine', [False, True])
def test_loss_matches_the_core_loss_and_gradients_reach_only_the_online_branch(affine):
    from segssl.core import pixel_consistency_loss
    model = tiny_pixpro().train()
    data = model.data_preprocessor(fake_batch(affine=affine), training=True)
    x = data['inputs']
    assert x.shape == (2, 4, 3, 64, 64) and abs(x.mean().item()) < 1.0
    losses = model(**data, mode='loss')
    loss = losses['loss']
    assert torch.isfinite(loss) and -2 <= loss.item() <= 2
    loss.backward()
    assert all(p.grad is None for p in model.target_backbone.parameters())
    assert all(p.grad is None for p in model.target_projector.parameters())
    assert model.online_backbone.conv1.weight.grad.abs().sum() > 0
    # the same number from the parts, in eval mode so BN does not move between the two passes
    model.eval()
    with torch.no_grad():
        y1, y2 = model._online(x[:, 0]), model._online(x[:, 1])
        t1, t2 = model._target(x[:, 2]), model._target(x[:, 3])
        l1, l2 = model._lattices(data['data_samples'], y1.shape[-2], y1.shape[-1], y1.device)
        assert l1.height == 4 and l1.width == 4  # 64 px at output stride 16
        assert l1.origin.device == y1.device and l1.matrix.dtype == torch.float64
        ref = pixel_consistency_loss(y1, t2, y2, t1, l1, l2, dense=True)
        assert torch.allclose(model(**data, mode='loss')['loss'], ref, atol=1e-6)


def test_target_starts_as_copy_and_follows_the_ema_formula():
    model = tiny_pixpro(momentum_bn=dict(stat_momentum=0.9))
    from segssl.core import MomentumBatchNorm2d
    assert isinstance(model.target_backbone.bn1, MomentumBatchNorm2d)
    for (n, p), (_, q) in zip(model.online_backbone.named_parameters(), model.target_backbone.named_parameters()):
        assert torch.equal(p, q), n
    with torch.no_grad():
        for p in model.online_backbone.parameters():
            p.add_(1.0)
    before = {n: p.clone() for n, p in model.target_backbone.named_parameters()}
    model.momentum_update(0.99)
    for n, p in model.target_backbone.named_parameters():
        online = dict(model.online_backbone.named_parameters())[n]
        assert torch.allclose(p, 0.99 * before[n] + 0.01 * online), n


def test_checkpoint_converts_to_the_online_encoder_only(tmp_path):
    from segssl.convert.bridge import convert
    model = tiny_pixpro()
    with torch.no_grad():
        for p in model.target_backbone.parameters():
            p.mul_(-1)  # make target differ from online
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, tmp_path / 'iter_1.pth')
    convert(str(tmp_path / 'iter_1.pth'), str(tmp_path / 'tv.pth'), 'torchvision')
    tv = torch.load(tmp_path / 'tv.pth')
    tv = tv.get('state_dict', tv)
    online = model.online_backbone.state_dict()
    assert set(tv) == {k for k in online if not k.endswith('num_batches_tracked')} or set(tv) == set(online)
    assert all(torch.equal(tv[k], online[k]) for k in tv)


def test_bad_head_type_is_named():
    with pytest.raises(ValueError, match="head type='attention'"):
        tiny_pixpro(head=dict(type='attention'))


def test_batch_affine_warps_one_view_and_records_the_inverse():
    """Inputs whose channels 0/1 hold each pixel centre's (x, y): after the per-batch affine,
    warped pixel (c, r) must hold the view coordinate that the recorded inverse warp gives."""
    model = tiny_pixpro(batch_affine=dict(view=0))
    data = fake_batch(n=2, size=64)
    H = W = 64
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing='ij')
    inputs = torch.zeros(2, 4, 3, H, W)
    inputs[:, :, 0], inputs[:, :, 1] = xs, ys
    params = dict(angle=20.0, translate=(5.0, -3.0), shear=(8.0, 0.0))
    out = model.apply_batch_affine(inputs, data['data_samples'], params)
    assert torch.equal(out[:, 1], inputs[:, 1]) and torch.equal(out[:, 3], inputs[:, 3])  # view 2 untouched
    for n, sample in enumerate(data['data_samples']):
        w = torch.as_tensor(sample.view_warps[0], dtype=torch.float64)
        pred_x = w[0, 0] * xs + w[0, 1] * ys + w[0, 2]
        pred_y = w[1, 0] * xs + w[1, 1] * ys + w[1, 2]
        inside = (pred_x > 1) & (pred_x < W - 1) & (pred_y > 1) & (pred_y < H - 1)
        assert inside.sum() > 0.5 * H * W
        for copy in (0, 2):  # online and target copy
            assert (out[n, copy, 0][inside] - pred_x[inside]).abs().max() < 1e-3
            assert (out[n, copy, 1][inside] - pred_y[inside]).abs().max() < 1e-3
    # in training, forward draws its own affine and the loss stays finite
    model.train()
    batch = model.data_preprocessor(fake_batch(n=2, size=64), training=True)
    assert torch.isfinite(model(**batch, mode='loss')['loss'])
    with pytest.raises(ValueError, match='batch_affine view=2'):
        tiny_pixpro(batch_affine=dict(view=2))

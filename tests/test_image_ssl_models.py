"""BYOL, SimCLR and the video anchor model (mmengine models): each loss equals the core formula
applied to the model's own branches, the target is the EMA of the online branch, the MLPs have
the configured shapes, and bad inputs are refused clearly."""
import pytest
import torch
from conftest import skip_without_mmseg

skip_without_mmseg()

R18 = dict(type='ResNet', depth=18, style='pytorch', out_indices=(3, ))


def build(cfg):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_byol_loss_target_and_momentum():
    from segssl.core import byol_loss
    model = build(
        dict(type='BYOL', backbone=R18, projector=dict(in_channels=512, hidden_channels=64, out_channels=16),
             predictor=dict(hidden_channels=32, batch_norm=False)))
    proj, pred = model.online_projector, model.predictor
    assert [type(m).__name__ for m in proj] == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    assert [type(m).__name__ for m in pred] == ['Linear', 'ReLU', 'Linear']
    assert (proj[0].in_features, proj[0].out_features, proj[3].out_features) == (512, 64, 16)
    assert (pred[0].in_features, pred[0].out_features, pred[2].out_features) == (16, 32, 16)
    # the target starts equal to the online branch (weights and BN statistics) and has no grads
    on, tg = model.online_backbone.state_dict(), model.target_backbone.state_dict()
    assert all(torch.equal(on[k], tg[k]) for k in on)
    assert not any(p.requires_grad for p in model.target_backbone.parameters())
    x = torch.randn(3, 4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    model.train()
    torch.manual_seed(2)
    loss = model(x, mode='loss')['loss']
    p1, p2 = model.online(x[:, 0]), model.online(x[:, 1])
    z1, z2 = model.target(x[:, 2]), model.target(x[:, 3])
    assert float(loss) == pytest.approx(float(byol_loss(p1, z2) + byol_loss(p2, z1)), abs=1e-5)
    loss.backward()
    assert model.online_backbone.conv1.weight.grad is not None
    assert model.target_backbone.conv1.weight.grad is None
    # xi <- tau xi + (1 - tau) theta
    with torch.no_grad():
        for p in model.online_projector.parameters():
            p.add_(1.0)
    before = model.target_projector[0].weight.clone()
    online = model.online_projector[0].weight.clone()
    model.momentum_update(0.996)
    assert torch.allclose(model.target_projector[0].weight, 0.996 * before + 0.004 * online, atol=1e-6)
    with pytest.raises(ValueError, match=r'\(N, V >= 4'):
        model(x[:, :2])
    with pytest.raises(ValueError, match="mode='predict'"):
        model(x, mode='predict')


def test_simclr_loss_is_nt_xent_of_its_projections():
    from segssl.core import nt_xent_loss
    model = build(
        dict(type='SimCLR', backbone=dict(R18, type='ResNet3x3Stem'), projector=dict(in_channels=512, out_channels=32),
             temperature=0.5))
    assert [type(m).__name__ for m in model.projector] == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    assert model.projector[0].out_features == 512
    x = torch.randn(4, 4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    model.train()
    loss = model(x)['loss']
    z = model.embed(torch.cat([x[:, 0], x[:, 1]]))
    assert float(loss) == pytest.approx(float(nt_xent_loss(z[:4], z[4:], 0.5)), abs=1e-5)
    assert model(x, mode='tensor')[-1].shape == (4, 512, 2, 2)  # 3x3 stem: stride 8 at stage 4


def test_video_anchor_model_weights_frames():
    from segssl.core import nt_xent_loss
    model = build(
        dict(type='VideoAnchorSimCLR', backbone=R18, num_frames=3,
             projector=dict(in_channels=512, hidden_channels=64, out_channels=16), frame_weights=[0.2, 0.5, 1.0]))
    assert model.data_preprocessor.num_views == 4
    x = torch.randn(4, 4, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    model.train()
    loss = model(x)['loss']
    z = model.embed(x.flatten(0, 1)).view(4, 4, -1)
    ref = sum(w * nt_xent_loss(z[:, 0], z[:, i + 1], 0.5) for i, w in enumerate([0.2, 0.5, 1.0]))
    assert float(loss) == pytest.approx(float(ref), abs=1e-5)
    with pytest.raises(ValueError, match=r'anchor \+ num_frames'):
        model(x[:, :3])

"""The Mask R-CNN thesis (BYOL) and the SimCLR report (SimCLR) pretraining configs carry the reports' values, and
the SimCLR report's schedule (Adam, 10 warm-up epochs, cosine restarts every 50 epochs, 300 epochs)
built by mmengine gives the learning rates of its formula."""
import math
import os

import pytest
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain')


def load(name):
    from mmengine.config import Config
    return Config.fromfile(os.path.join(PRETRAIN, name))


def test_byol_configs_follow_seed_002():
    base, final = load('byol_r50-h4096_1xb64_coco2014-224.py'), load('byol_r50-h2048_1xb64_coco2014-224.py')
    for cfg, hidden, iters in ((base, 4096, 250000), (final, 2048, 350000)):
        m = cfg.model
        assert m.type == 'BYOL' and m.backbone.depth == 50 and m.symmetric
        assert (m.projector.in_channels, m.projector.hidden_channels, m.projector.out_channels) == (2048, hidden, 256)
        assert m.predictor.hidden_channels == hidden and m.projector.batch_norm and m.predictor.batch_norm
        assert cfg.custom_hooks == [dict(type='MomentumUpdateHook', base_momentum=0.996, final_momentum=1.0)]
        dl = cfg.train_dataloader
        assert dl.batch_size == 64 and dl.dataset.type == 'UnlabelledImageFolder'
        assert dl.dataset.data_prefix.img_path == 'train2014'
        crop, color = dl.dataset.pipeline[1], dl.dataset.pipeline[2]
        assert (crop.size, crop.scale) == (224, (0.08, 1.0))
        assert (color.blur_kernel_size, color.blur_sigma, color.grayscale_prob) == (23, (0.1, 2.0), 0.2)
        ow = cfg.optim_wrapper
        assert ow.clip_grad == dict(max_norm=0.1, norm_type=2) and ow.optimizer.weight_decay == 1e-4
        assert cfg.train_cfg.max_iters == iters and cfg.param_scheduler[1].end == iters


def test_simclr_configs_follow_seed_003():
    rows = {
        'simclr_r34-3x3stem_1xb256_cifar10-32px.py': (32, 0.0),
        'simclr_r34-3x3stem_1xb256_inat-animals-64px.py': (64, 0.5),
        'simclr_r34-3x3stem_1xb256_animal-kingdom-frames-64px.py': (64, 0.5)
    }
    for name, (size, blur) in rows.items():
        cfg = load(name)
        m = cfg.model
        assert (m.type, m.backbone.type, m.backbone.depth, m.temperature) == ('SimCLR', 'ResNet3x3Stem', 34, 0.5)
        assert m.projector.batch_norm
        pipe = cfg.train_dataloader.dataset.pipeline
        assert pipe[1].size == size and pipe[2].blur_prob == blur, name  # blur off at 32 px
        assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.train_cfg.max_epochs == 300
    video = load('simclr-video-anchor_r34-3x3stem_1xb256_animal-kingdom-64px.py')
    assert video.model.type == 'VideoAnchorSimCLR' and video.model.num_frames == 3
    assert video.model.data_preprocessor.num_views == 4
    assert video.train_dataloader.dataset.type == 'FrameFolderDataset'
    assert video.train_dataloader.dataset.min_frames == 4


def test_simclr_schedule_is_warmup_then_cosine_restarts_every_50_epochs():
    import torch
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = load('simclr_r34-3x3stem_1xb256_cifar10-32px.py')
    lr = cfg.optim_wrapper.optimizer.lr
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    epoch_length = 2
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        assert s.pop('convert_to_iter_based') and s['by_epoch']
        cls = PARAM_SCHEDULERS.get(s.pop('type'))
        schedulers.append(cls.build_iter_from_epoch(opt, **s, epoch_length=epoch_length))
    got = []
    for _ in range(300 * epoch_length):
        got.append(opt.param_groups[0]['lr'])
        opt.step()
        for s in schedulers:
            s.step()
    W = 10 * epoch_length
    for i in range(W):  # LinearLR: lr (s + (1 - s) i / (W - 1)), s = 0.01
        assert got[i] == pytest.approx(lr * (0.01 + 0.99 * i / (W - 1)), rel=1e-6)
    for i in range(W, 300 * epoch_length):  # SGDR, T = 50 epochs, last cycle cut at 40
        t = (i - W) % (50 * epoch_length)
        assert got[i] == pytest.approx(lr * (1 + math.cos(math.pi * t / (50 * epoch_length))) / 2, rel=1e-6,
                                       abs=1e-12), i
    restarts = [i for i in range(W + 1, len(got)) if got[i] > got[i - 1] + 1e-9]
    assert restarts == [W + k * 50 * epoch_length for k in range(1, 6)]


def test_seed_models_build_with_the_seed_shapes():
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    simclr = MODELS.build(load('simclr-video-anchor_r34-3x3stem_1xb256_animal-kingdom-64px.py').model)
    assert type(simclr.online_backbone).__name__ == 'ResNet3x3Stem'
    assert [len(getattr(simclr.online_backbone, f'layer{i}')) for i in range(1, 5)] == [3, 4, 6, 3]
    assert simclr.online_backbone.conv1.weight.shape == (64, 3, 3, 3)
    assert (simclr.projector[0].in_features, simclr.projector[3].out_features) == (512, 128)
    assert simclr.frame_weights.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    byol = MODELS.build(load('byol_r50-h2048_1xb64_coco2014-224.py').model)
    assert byol.online_projector[0].weight.shape == (2048, 2048) and byol.predictor[0].weight.shape == (2048, 256)
    assert byol.online_projector[3].weight.shape == (256, 2048)
    assert byol.online_backbone.conv1.weight.shape == (64, 3, 7, 7)


@pytest.mark.parametrize('name', [
    'byol_r50-h4096_1xb64_coco2014-224.py', 'byol_r18_synthetic-64px.py', 'simclr_r34-3x3stem_1xb256_cifar10-32px.py',
    'simclr_r18-3x3stem_synthetic-32px.py', 'simclr-video-anchor_r18-3x3stem_synthetic-32px.py'
])
def test_image_ssl_configs_synchronise_the_mlp_batch_norm(name):
    """Issue 17, item 9: the projector/predictor BatchNorm1d layers are SyncBN in multi-process
    runs (mmengine's sync_bn; segssl's runner makes it work on CPUs too)."""
    assert load(name).sync_bn == 'torch'

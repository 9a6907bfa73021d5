"""Each pretraining config is one row of the PixPro thesis's Tables 4.1-4.3: check what distinguishes it,
build its model, and run its pipeline on a generated image."""
import os

import numpy as np
import pytest
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()
PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain')
D16 = (1, 1, 1, 2)
ERASE = dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), fill='black')
# the PixPro thesis's protocol, the values every row shares; the rows below say what each varies
PROTOCOL = dict(
    depth=50,
    tau=0.7,
    projector_hidden_channels=4096,
    hook='MomentumUpdateHook',
    optimizer='LARS',
    constructor='LARSOptimWrapperConstructor',
    weight_decay=4e-4,
    gpus=3,
    final_gpus=4,  # the ablations ran on 3 GPUs, the final run on 4
    batch_affine=dict(view=0, degrees=45, translate=(100, 100), shear=(10, 0)),  # per-batch affine rows
    pipeline_start=['LoadImageFromFile', 'TwoViewCrop', 'ViewColorAugment'],
    pipeline_end='PackPixelViews',
    views_shape=(4, 3, 224, 224),  # online v1, v2 and target v1, v2 at 224x224
    head_classes={
        'ppm': 'PixelPropagation',
        'local_ppm': 'LocalPixelPropagation',
        'self_attention': 'SelfAttentionPropagation'
    })
# file: (head type, frame, Momentum BN, conv5 dilations, global batch, lr, epochs, extra transform or None)
ROWS = {
    'pixpro_r50_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30, None),
    'pixpro_r50_rotation30_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                     dict(type='AffineView', mode='fixed', degrees=30, translate=(0, 0),
                                                          shear=(0, 0))),
    'pixpro_r50_affine-fixed_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                       dict(type='AffineView', mode='fixed', degrees=30,
                                                            translate=(10, 10), shear=(10, 10))),
    'pixpro_r50_affine-random_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30, None),
    'pixpro_r50_erase-black_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30, ERASE),
    'pixpro_r50_erase-black-p0.5_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                           dict(ERASE, p=0.5)),
    'pixpro_r50_erase-gauss_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                      dict(ERASE, fill='gaussian')),
    'pixpro_r50_patch-erase-black_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                            dict(type='OnlineRandomPatchedErasing', num_patches=50,
                                                                 patch_size=10, fill='black')),
    'pixpro_r50_patch-erase-gauss_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                            dict(type='OnlineRandomPatchedErasing', num_patches=50,
                                                                 patch_size=10, fill='gaussian')),
    'pixpro_r50-d16_localppm7-mbn_3xb16-30ep_imagenet.py': ('local_ppm', 7, True, D16, 48, 0.1875, 30, None),
    'pixpro_r50-d16_localppm5-mbn_3xb21-30ep_imagenet.py': ('local_ppm', 5, True, D16, 64, 0.25, 30, None),
    'pixpro_r50-d16_localppm5-mbn_3xb16-30ep_imagenet.py': ('local_ppm', 5, True, D16, 48, 0.1875, 30, None),
    'pixpro_r50_affine-fixed_erase-black_3xb21-30ep_imagenet.py': ('ppm', None, False, (1, 1, 1, 1), 64, 0.25, 30,
                                                                   ERASE),
    'pixpro_r50_selfattn_3xb21-30ep_imagenet.py': ('self_attention', None, False, (1, 1, 1, 1), 64, 0.25, 30, None),
    'pixpro_r50_mbn_3xb21-30ep_imagenet.py': ('ppm', None, True, (1, 1, 1, 1), 64, 0.25, 30, None),
    'pixpro_r50-d16_final_4xb16-100ep_imagenet.py': ('local_ppm', 5, True, D16, 64, 0.25, 100, ERASE),
}


def test_every_imagenet_pretrain_config_is_a_listed_row():
    on_disk = {f for f in os.listdir(PRETRAIN) if f.endswith('_imagenet.py')}
    assert on_disk == set(ROWS)


@pytest.mark.parametrize('name', sorted(ROWS))
def test_config_matches_its_seed_row(name, tmp_path):
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS, TRANSFORMS
    head, frame, mbn, dilations, batch, lr, epochs, extra = ROWS[name]
    cfg = Config.fromfile(os.path.join(PRETRAIN, name))
    m = cfg.model
    assert m.head.type == head and m.head.get('frame') == frame
    assert (m.momentum_bn is not None) == mbn and tuple(m.backbone.get('dilations', (1, 1, 1, 1))) == dilations
    assert m.backbone.depth == PROTOCOL['depth'] and m.tau == PROTOCOL['tau']
    assert m.projector.hidden_channels == PROTOCOL['projector_hidden_channels']
    # batch is the row's global batch; the config's per-GPU batch is its launch shape's: the
    # ablations ran on 3 GPUs (64 -> 3 x 21, the nearest; 48 -> 3 x 16), the final run on 4
    gpus = PROTOCOL['final_gpus'] if 'final' in name else PROTOCOL['gpus']
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=batch)
    assert cfg.train_dataloader.batch_size == batch // gpus
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == PROTOCOL['optimizer'] and optimizer.lr == pytest.approx(lr)
    assert cfg.optim_wrapper.constructor == PROTOCOL['constructor']
    assert optimizer.weight_decay == PROTOCOL['weight_decay']
    assert cfg.train_cfg.max_epochs == epochs and cfg.param_scheduler[-1].end == epochs
    assert cfg.custom_hooks[0].type == PROTOCOL['hook']
    per_batch_affine = name.startswith(('pixpro_r50_affine-random', 'pixpro_r50-d16_final'))
    assert (m.get('batch_affine') == PROTOCOL['batch_affine']) == per_batch_affine
    pipeline = cfg.train_dataloader.dataset.pipeline
    types = [t['type'] for t in pipeline]
    start = PROTOCOL['pipeline_start']
    assert types[:len(start)] == start and types[-1] == PROTOCOL['pipeline_end']
    extras = pipeline[len(start):-1]
    if extra is None:
        assert extras == []
    else:
        assert any(all(t.get(k) == v for k, v in extra.items()) for t in extras), extras
    # the config builds and its pipeline runs
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == PROTOCOL['head_classes'][head]
    img = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    from PIL import Image
    Image.fromarray(img).save(tmp_path / 'x.png')
    results = dict(img_path=str(tmp_path / 'x.png'))
    for t in pipeline:
        results = TRANSFORMS.build(t)(results)
    assert tuple(results['inputs'].shape) == PROTOCOL['views_shape']

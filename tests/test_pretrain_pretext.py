"""The ERFNet thesis's pretext tasks end to end through mmseg's own train script on tiny synthetic data:
the loss falls (mean of the first vs the last iterations), and each checkpoint's ERFNet weights
load into the ERFNet fine-tuning config (encoder-only tasks: every encoder tensor; Otsu /
colorization: encoder and decoder), also through the ERFNet bridge (rotation encoder + Otsu
decoder, the report's best pairing)."""
import os
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, load_ckpt, skip_without_mmseg

from segssl.runs import mmengine_scalars, scalars_files

skip_without_mmseg()
FINETUNE = os.path.join(ROOT, 'configs', 'finetune', 'erfnet_fcn_pretext-init_synthetic-128x256.py')
WINDOW = 6
# task: (iterations, extra --cfg-options). Test-sized settings: small crops, batches and heads,
# the dense tasks at lr 2e-3. The tile tasks see one image (on varied images their loss stays
# near chance for more steps than a test can afford; on one image a wrong label/tile pairing would
# still not be learnable), the jigsaw with 4 permutations, the relative patch without tile jitter.
ONE_IMAGE = 'train_dataloader.dataset.max_images=1'
RUNS = {
    'rotation': (24, ['train_dataloader.dataset.pipeline.1.crop_size=(32,32)']),
    'otsu': (20, [
        'train_dataloader.dataset.pipeline.2.crop_size=(32,64)', 'model.data_preprocessor.size=(32,64)',
        'optim_wrapper.optimizer.lr=2e-3'
    ]),
    'colorization': (20, [
        'train_dataloader.dataset.pipeline.1.crop_size=(32,64)', 'model.data_preprocessor.size=(32,64)',
        'optim_wrapper.optimizer.lr=2e-3'
    ]),
    'relative-patch': (30, [
        ONE_IMAGE, 'model.hidden_channels=256', 'train_dataloader.batch_size=16',
        'train_dataloader.dataset.pipeline.4.tile_pipeline=[]'
    ]),
    'jigsaw': (30, [
        ONE_IMAGE, 'model.num_classes=4', 'model.hidden_channels=256',
        'train_dataloader.dataset.pipeline.4.num_permutations=4'
    ]),
}
_DONE = {}


def pretrain(task, synthetic_root, tmp_path_factory):
    """Train ``task``'s synthetic config once per session with mmseg's own tools/train.py (run in
    this process, as tools/train.py does, to save an interpreter start per task); return
    (per-iteration losses, checkpoint path)."""
    if task not in _DONE:
        from segssl.mmseg.tools import run_mmseg_tool
        iters, extra = RUNS[task]
        work = tmp_path_factory.mktemp(task)
        argv, env = sys.argv[:], os.environ.get('SEGSSL_DATA_ROOT')
        os.environ['SEGSSL_DATA_ROOT'] = synthetic_root
        try:
            code = run_mmseg_tool('train.py', [
                os.path.join(ROOT, 'configs', 'pretrain', f'erfnet_{task}_synthetic.py'), '--work-dir',
                str(work), '--cfg-options', f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={iters}',
                f'default_hooks.checkpoint.interval={iters}', 'default_hooks.logger.interval=1',
                'log_processor.window_size=1', f'visualizer.name=pretext_{task}'
            ] + extra)  # one visualizer (and its log dir) per run
        finally:
            sys.argv = argv
            if env is None:
                del os.environ['SEGSSL_DATA_ROOT']
            else:
                os.environ['SEGSSL_DATA_ROOT'] = env
        assert code == 0
        (scalars, ) = scalars_files(str(work))
        losses = [rec['loss'] for rec in mmengine_scalars(str(work)) if 'loss' in rec]
        assert len(losses) == iters and np.isfinite(losses).all()
        _DONE[task] = (losses, str(work / f'iter_{iters}.pth'))
    return _DONE[task]


def finetune_model(checkpoint, prefix='backbone.'):
    """The ERFNet fine-tuning config's segmentor with its backbone initialised from ``checkpoint``."""
    import segssl.mmseg  # noqa: F401
    # isort: split
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    os.environ['SEGSSL_BACKBONE'] = checkpoint
    try:
        cfg = Config.fromfile(FINETUNE)
    finally:
        del os.environ['SEGSSL_BACKBONE']
    assert cfg.model.backbone.init_cfg.checkpoint == checkpoint
    cfg.model.backbone.init_cfg.prefix = prefix
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.mark.parametrize('task', list(RUNS))
def test_pretext_loss_falls_and_backbone_loads(task, synthetic_root, tmp_path_factory):
    losses, ckpt = pretrain(task, synthetic_root, tmp_path_factory)
    first, last = np.mean(losses[:WINDOW]), np.mean(losses[-WINDOW:])
    assert last < 0.95 * first, (task, losses)
    state = load_ckpt(ckpt)['state_dict']
    pretrained = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    model = finetune_model(ckpt)
    own = model.backbone.state_dict()
    encoder = [k for k in own if k.startswith('encoder.')]
    decoder = [k for k in own if k.startswith('decoder.')]
    assert encoder and all(k in pretrained for k in encoder)  # no missing encoder key
    for k in encoder:
        assert torch.equal(own[k], pretrained[k]), k
    if task in ('otsu', 'colorization'):  # the decoder trained too
        assert all(torch.equal(own[k], pretrained[k]) for k in decoder)
        assert set(pretrained) == set(own)
    else:  # encoder-only checkpoint
        assert not any(k.startswith('decoder.') for k in pretrained)
        assert all(k.startswith(('backbone.encoder.', 'head.')) for k in state)


def test_bridge_splices_rotation_encoder_with_otsu_decoder(synthetic_root, tmp_path_factory, tmp_path):
    _, rot = pretrain('rotation', synthetic_root, tmp_path_factory)
    _, otsu = pretrain('otsu', synthetic_root, tmp_path_factory)
    from segssl.convert.erfnet import convert_erfnet
    out = tmp_path / 'rotation-enc_otsu-dec.pth'  # what convert_checkpoint.py --arch erfnet does
    convert_erfnet(rot, str(out), 'mmseg', decoder_src=otsu)
    rot_sd = load_ckpt(rot)['state_dict']
    otsu_sd = load_ckpt(otsu)['state_dict']
    own = finetune_model(str(out), prefix=None).backbone.state_dict()
    for k, v in own.items():
        source = rot_sd if k.startswith('encoder.') else otsu_sd
        if not k.endswith('num_batches_tracked'):
            assert torch.equal(v, source['backbone.' + k]), k

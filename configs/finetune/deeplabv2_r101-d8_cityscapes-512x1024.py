# Seed 004's DeepLab-v2 (supervised baseline of ClassMix/DACS) on Cityscapes from a converted
# backbone. SGD lr 2.5e-4 (classifier 10x), momentum 0.9, wd 5e-4, poly 0.9; 512x1024 crops,
# batch 2, 40k iterations.
#   python tools/convert_checkpoint.py CKPT work_dirs/pretrained/r101_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r101_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    'mmseg::_base_/datasets/cityscapes.py',
    '../_base_/segssl_runtime.py',
]
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2, num_workers=2)
max_iters = 40000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=2))

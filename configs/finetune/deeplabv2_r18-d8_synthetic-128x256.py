# Synthetic twin of deeplabv2_r101-d8_cityscapes-512x1024.py, with a ResNet-18 backbone so it
# runs on a CPU. SEGSSL_BACKBONE=<converted r18 mmseg file>; random init:
# --cfg-options model.backbone.init_cfg=None
_base_ = ['./deeplabv2_r101-d8_cityscapes-512x1024.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r18_mmseg.pth}}'
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, norm_cfg=norm_cfg,
                  init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(in_channels=512))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=2,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 200
optim_wrapper = dict(optimizer=dict(lr=0.01))      # CPU-sized run: a larger lr than the seed's 2.5e-4
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
                     checkpoint=dict(interval=max_iters, max_keep_ckpts=1))

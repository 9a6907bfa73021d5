# The PixPro thesis's FCN-16 fine-tuning (MoCo protocol) on Cityscapes from a converted SSL backbone.
# Augmentation exactly as the PixPro thesis 4.1.3 (line ~558): "Random scaling [0.5, 2.0], crop of size
# 768 and random horizontal flipping", nothing else: mmseg's cityscapes_768x768 base also adds
# PhotoMetricDistortion and a RandomCrop with cat_max_ratio 0.75, which this config replaces.
# The scale factor is drawn in [0.5, 2] of the native 2048x1024 frame; validation is at native size.
# SGD lr 0.01, momentum 0.9, wd 1e-4; batch 7 (on N GPUs set train_dataloader.batch_size so that
# N x batch = 7, or scale lr); 100 epochs of 2975 images.
#   python tools/convert_checkpoint.py SSL_CKPT work_dirs/pretrained/r50_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r50_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    '../_base_/models/fcn16_r50-d16.py',
    'mmseg::_base_/datasets/cityscapes_768x768.py',
    '../_base_/segssl_runtime.py',
]

crop_size = (768, 768)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),    # a plain random crop
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),          # native size: a no-op
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=7, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 42500                                  # 100 epochs x ceil(2975 / 7)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4250, max_keep_ckpts=2),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
# Launch shape 1xb7: the PixPro thesis' FCN-16 (MoCo protocol) global batch 7 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=7/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=7)

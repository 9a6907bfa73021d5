# A CPU-sized version of the PixPro thesis's final method on segssl's synthetic set: ResNet-18 with a
# dilated conv5 (7x7 maps at 112 px views), LocalPPM 5x5, Momentum BN in the target, Random
# Erasing (black, p = 1) on the online copy, LARS + warm-up + cosine. Then:
#   python tools/convert_checkpoint.py WORK_DIR/iter_300.pth work_dirs/pretrained/r18_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r18_mmseg.pth python tools/train.py configs/finetune/fcn16_r18-d16_synthetic-128x256.py
_base_ = [
    '../_base_/models/pixpro_r50.py',
    '../_base_/segssl_runtime.py',
]

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
view_size = 112
model = dict(
    backbone=dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),   # dilated conv5
    projector=dict(in_channels=512, hidden_channels=1024, out_channels=128),
    head=dict(_delete_=True, type='local_ppm', frame=5, gamma=2.0),
    momentum_bn=dict(_delete_=True, stat_momentum=0.9))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black'),
    dict(type='PackPixelViews'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='leftImg8bit/train'), pipeline=train_pipeline))
max_iters = 300
warmup_iters = 30
optim_wrapper = dict(type='OptimWrapper', constructor='LARSOptimWrapperConstructor',
                     optimizer=dict(type='LARS', lr=1.0 * 16 / 256, momentum=0.9, weight_decay=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-6, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
randomness = dict(seed=0)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))

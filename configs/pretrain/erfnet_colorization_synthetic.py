# Synthetic twin of erfnet_colorization_1xb20_cityscapes-extra.py: 64 x 128 crops, batch 4,
# 100 iterations.
_base_ = ['./erfnet_colorization_1xb20_cityscapes-extra.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
crop_size = (64, 128)
# The CPU twin starts from a random encoder unless SEGSSL_IMAGENET_ENCODER names one (there is
# no ImageNet ERFNet on a test machine).
imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:scratch}}'
encoder_init = (None if imagenet_encoder == 'scratch' else
                dict(type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder))
model = dict(data_preprocessor=dict(size=crop_size), backbone=dict(init_cfg=encoder_init))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='ColorizationPretext', ab_scale=128.0),   # (a*, b*) / 128: targets in ~[-1, 1]
    dict(type='PackColorizationInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, data_prefix=dict(img_path='leftImg8bit/train'),
                 pipeline=train_pipeline))
max_iters = 100          # the ERFNet thesis's Adam 5e-4 + poly 0.9, CPU-sized: 100 iterations
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters,
                        by_epoch=False)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
# the CPU twin states its own batch (one process); the real-data parent holds the report's
auto_scale_lr = dict(enable=False, base_batch_size=4)

# Synthetic twin of erfnet_rotation-waug_1xb128_cityscapes-extra.py: the same network, head and
# augmentation on segssl's synthetic Cityscapes-layout images (64 x 64 square crops), batch 8,
# 100 iterations. Then the encoder goes to a segmentation config with
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=WORK_DIR/iter_100.pth, prefix='backbone.')
# (configs/finetune/erfnet_fcn_pretext-init_synthetic-128x256.py does that with SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation-waug_1xb128_cityscapes-extra.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
# The CPU twin starts from a random encoder unless SEGSSL_IMAGENET_ENCODER names one (there is
# no ImageNet ERFNet on a test machine).
imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:scratch}}'
encoder_init = (None if imagenet_encoder == 'scratch' else
                dict(type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder))
model = dict(backbone=dict(init_cfg=encoder_init))
crop = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=(crop, crop)),
    dict(type='PhotoMetricDistortion'),
    dict(type='RotationPretext', num_rotations=4),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
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
auto_scale_lr = dict(enable=False, base_batch_size=8)

# Synthetic twin of erfnet_simclr_1xb128_cityscapes-extra.py: the same network, projector, loss and
# augmentation on segssl's synthetic Cityscapes-layout images, 64 x 64 views (blur kernel 7),
# batch 8, 100 iterations. The encoder starts from scratch unless SEGSSL_IMAGENET_ENCODER names
# one. Then: SEGSSL_BACKBONE=WORK_DIR/iter_100.pth python tools/train.py
# configs/finetune/erfnet/erfnet_simclr_synthetic-128x256.py
_base_ = ['./erfnet_simclr_1xb128_cityscapes-extra.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:scratch}}'
encoder_init = (None if imagenet_encoder == 'scratch' else
                dict(type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder))
model = dict(backbone=dict(init_cfg=encoder_init))
view_size = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment', jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8,
         hue=0.2, grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0), blur_kernel_size=7,
         solarize_prob=0.0),
    dict(type='PackPixelViews'),
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

# The Mask R-CNN thesis, BYOL baseline: ResNet-50, projector/predictor hidden width 4096, pretrained on the
# 82,783 COCO train2014 images (labels unused) as an unlabelled image folder, two 224 px views,
# batch 64. The Mask R-CNN thesis: weight decay 1e-4, gradient clip 0.1, "decaying lr", 250k/350k iterations.
# It names no optimiser or lr: BYOL's own (LARS, base lr 0.2 x batch/256, BN and biases excluded,
# cosine decay after a 10-epoch linear warm-up) is the default here. Which run had 250k and which
# 350k iterations is not stated: 250k here, 350k in the final (hidden 2048) config.
# The encoder starts from ImageNet weights, as in the report (002 line ~675): torchvision's supervised
# ResNet-50 converted to mmseg names (../_base_/models/byol_r50.py), by default
#   python tools/convert_checkpoint.py resnet50-0676ba61.pth work_dirs/pretrained/torchvision_r50_mmseg.pth \
#       --from torchvision --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/torchvision_r50_mmseg.pth python tools/train.py THIS_CONFIG
# Random init instead (not the report's): --cfg-options model.backbone.init_cfg=None
# Then convert: tools/convert_checkpoint.py iter_250000.pth r50.pkl --to detectron2
_base_ = [
    '../_base_/models/byol_r50.py',
    '../_base_/segssl_runtime.py',
]

data_root = 'data/coco/'
batch_size = 64
view_size = 224
max_iters = 250000
warmup_iters = 12935          # 10 epochs of 82,783 images at batch 64 (BYOL's warm-up)
model = dict(projector=dict(hidden_channels=4096), predictor=dict(hidden_channels=4096))
# BYOL's augmentations (the Mask R-CNN thesis 3.2.2): crop 8-100 % to 224, flip, jitter p 0.8 (0.4, 0.4, 0.2,
# hue 0.1), grey p 0.2, 23x23 Gaussian blur sigma U(0.1, 2.0) p 1.0 / 0.1, solarize p 0 / 0.2.
# (Grey uses 0.299/0.587/0.114 as torchvision; the report prints 0.2989/0.5870/0.1140.)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment', jitter_prob=0.8, brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, grayscale_prob=0.2, blur_prob=(1.0, 0.1), blur_sigma=(0.1, 2.0),
         blur_kernel_size=23, solarize_prob=(0.0, 0.2)),
    dict(type='PackPixelViews'),
]
train_dataloader = dict(
    batch_size=batch_size, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='train2014'), pipeline=train_pipeline))
optim_wrapper = dict(type='OptimWrapper', constructor='LARSOptimWrapperConstructor',
                     optimizer=dict(type='LARS', lr=0.2 * batch_size / 256, momentum=0.9,
                                    weight_decay=1e-4),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=0.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10000, max_keep_ckpts=3),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
# Launch shape 1xb64: the BYOL report's global batch 64 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=64/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=64)

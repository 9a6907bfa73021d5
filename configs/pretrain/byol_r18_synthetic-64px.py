# A CPU-sized BYOL run on segssl's synthetic set (Cityscapes-look train images as an unlabelled
# folder): ResNet-18, hidden 256 / out 64 MLPs, two 64 px views, LARS + clip 0.1 + warm-up +
# cosine, tau 0.996 -> 1. Random init (the R50 seed configs start from ImageNet weights; there is
# no ImageNet ResNet-18 here). Then:
#   python tools/convert_checkpoint.py WORK_DIR/iter_60.pth work_dirs/pretrained/r18_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r18_mmseg.pth python tools/train.py configs/finetune/fcn16_r18-d16_synthetic-128x256.py
_base_ = ['./byol_r50-h4096_1xb64_coco2014-224.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
batch_size = 16
view_size = 64
max_iters = 60
warmup_iters = 6
model = dict(backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None),
             projector=dict(in_channels=512, hidden_channels=256, out_channels=64),
             predictor=dict(hidden_channels=256))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment', blur_kernel_size=7),
    dict(type='PackPixelViews'),
]
train_dataloader = dict(
    batch_size=batch_size, num_workers=2,
    dataset=dict(data_root=data_root, data_prefix=dict(img_path='leftImg8bit/train'),
                 pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.2 * batch_size / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=0.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
randomness = dict(seed=0)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
# the CPU twin states its own batch (one process); the real-data parent holds the report's
auto_scale_lr = dict(enable=False, base_batch_size=16)

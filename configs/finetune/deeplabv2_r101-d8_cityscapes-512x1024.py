# Seed 004's DeepLab-v2 (supervised baseline of ClassMix/DACS) on Cityscapes, from a converted
# backbone: ResNet-101 (torchvision layout), output stride 8 (dilation 2 and 4 in the last two
# stages), ASPP of four 3x3 convs, rates 6/12/18/24, SUMMED into class logits (DeepLabV2Head).
# SGD lr 2.5e-4 (classifier 10x), momentum 0.9, wd 5e-4, poly 0.9; 512x1024 crops, batch 2,
# 40k iterations.
#   python tools/convert_checkpoint.py CKPT work_dirs/pretrained/r101_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r101_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r101_mmseg.pth}}'
crop_size = (512, 1024)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNet', depth=101, style='pytorch', num_stages=4, out_indices=(3,),
        strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=False,
        norm_cfg=norm_cfg, norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        type='DeepLabV2Head', in_channels=2048, in_index=0, dilations=(6, 12, 18, 24),
        num_classes=19, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

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

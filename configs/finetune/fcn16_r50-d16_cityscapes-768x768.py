# Seed 000's "FCN-16" fine-tuning (MoCo protocol) on Cityscapes, from a converted SSL backbone:
# ResNet-50 (torchvision layout, style='pytorch') with a dilated conv5 (output stride 16), two
# 3x3 256-channel convs with dilation 6 + BN + ReLU, a 1x1 classifier. Random scale 0.5-2,
# 768 crops, flip; SGD lr 0.01, momentum 0.9, wd 1e-4; batch 7 (one GPU x 7 here: with N GPUs
# set train_dataloader.batch_size so that N x batch = 7, or scale lr); 100 epochs of 2975 images.
#
# The backbone comes from the checkpoint bridge:
#   python tools/convert_checkpoint.py SSL_CKPT work_dirs/pretrained/r50_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r50_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    'mmseg::_base_/datasets/cityscapes_768x768.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r50_mmseg.pth}}'
crop_size = (768, 768)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNet', depth=50, style='pytorch', num_stages=4, out_indices=(3,),
        strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),          # dilated conv5: stride 16
        norm_cfg=norm_cfg, norm_eval=False, contract_dilation=False,
        init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        type='FCNHead', in_channels=2048, in_index=0, channels=256, num_convs=2,
        kernel_size=3, dilation=6, concat_input=False, dropout_ratio=0.0, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

train_dataloader = dict(batch_size=7, num_workers=4)
max_iters = 42500                                  # 100 epochs x ceil(2975 / 7)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4250, max_keep_ckpts=2))

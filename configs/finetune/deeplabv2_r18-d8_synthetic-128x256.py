# Synthetic twin of deeplabv2_r101-d8_1xb2_cityscapes-512x1024.py, with a ResNet-18 backbone and 200
# iterations so it runs on a CPU. SEGSSL_BACKBONE=<converted r18 mmseg file>; random init:
# --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r18_mmseg.pth}}'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(in_channels=512))
# CPU-sized run: lr 0.01 instead of the report's 2.5e-4 (classifier still 10x)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))

# Synthetic twin of fcn16_r50-d16_1xb7_cityscapes-768x768.py: the same FCN-16 head and optimiser on
# segssl's synthetic set, with a ResNet-18 backbone and 200 iterations so it runs on a CPU.
#   python tools/convert_checkpoint.py SSL_CKPT work_dirs/pretrained/r18_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r18_mmseg.pth python tools/train.py THIS_CONFIG
# Random initialisation instead: --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/models/fcn16_r50-d16.py',
    '../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r18_mmseg.pth}}'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(in_channels=512, norm_cfg=norm_cfg))
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))

# The FCN-16 synthetic twin with the SimCLR report's 3x3-stem ResNet (ResNet3x3Stem: conv1 3x3 stride 1,
# no max-pool) as the backbone, for encoders pretrained by the SimCLR / video-anchor configs:
# the stem keeps 4x the resolution, so no dilation is needed (output stride 8).
#   python tools/convert_checkpoint.py SSL_CKPT work_dirs/pretrained/r18_3x3_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r18_3x3_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = ['./fcn16_r18-d16_synthetic-128x256.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r18_3x3_mmseg.pth}}'
model = dict(backbone=dict(type='ResNet3x3Stem', strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1),
                           init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)))

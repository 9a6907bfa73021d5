# The ClassMix/DACS thesis's DeepLab-v2: ResNet-101 in torchvision layout, output stride 8 (dilation 2 and 4 in
# the last two stages), ASPP of four 3x3 convs with rates 6/12/18/24 SUMMED into class logits
# (segssl's DeepLabV2Head). Backbone from a converted checkpoint named by SEGSSL_BACKBONE.
_base_ = ['./converted_resnet_encoder_decoder.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r101_mmseg.pth}}'
model = dict(
    backbone=dict(depth=101, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                  init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        type='DeepLabV2Head', in_channels=2048, in_index=0, dilations=(6, 12, 18, 24),
        num_classes=19, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))

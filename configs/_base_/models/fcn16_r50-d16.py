# The PixPro thesis's "FCN-16" (MoCo protocol): ResNet-50 in torchvision layout with a dilated conv5
# (output stride 16), two 3x3 256-channel convs with dilation 6 + BN + ReLU, and a 1x1
# classifier. The backbone is a converted SSL checkpoint (tools/convert_checkpoint.py --to
# mmseg), named by SEGSSL_BACKBONE; random init: model.backbone.init_cfg=None.
_base_ = ['./converted_resnet_encoder_decoder.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r50_mmseg.pth}}'
model = dict(
    backbone=dict(depth=50, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),   # dilated conv5: stride 16
                  init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        type='FCNHead', in_channels=2048, in_index=0, channels=256, num_convs=2,
        kernel_size=3, dilation=6, concat_input=False, dropout_ratio=0.0, num_classes=19,
        norm_cfg={{_base_.norm_cfg}}, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))

# Seed 003's segmentation network: a ResNet-34 encoder at output stride 8 and the two-block
# bilinear decoder (TwoBlockUpsampleHead: conv-BN-ReLU-dropout-up x2, conv-up x4). The seed's
# encoder has a 3x3 stride-1 first layer and no max-pool (output stride 8 without dilation):
# that is backbone=dict(type='ResNet3x3Stem', strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1))
# (issue 4's SimCLR side). Here mmseg's plain ResNet reaches the same output stride with
# dilation (stem /4, strides 1, 2, 1, 1, dilations 1, 1, 2, 4), so the head sees the same size.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
    pretrained=None,
    backbone=dict(type='ResNet', depth=34, in_channels=3, num_stages=4, out_indices=(3,),
                  strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), norm_cfg=norm_cfg,
                  norm_eval=False, style='pytorch', contract_dilation=True, init_cfg=None),
    decode_head=dict(type='TwoBlockUpsampleHead', in_channels=512, in_index=0, channels=256,
                     output_stride=8, first_scale=2, kernel_size=3, seg_kernel_size=1,
                     dropout_ratio=0.1, num_classes=3, norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

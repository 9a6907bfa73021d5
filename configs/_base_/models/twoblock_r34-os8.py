# The SimCLR report's segmentation network: a ResNet-34 encoder at output stride 8 and the two-block
# bilinear decoder (TwoBlockUpsampleHead: conv-BN-ReLU-dropout-up x2, conv-up x4). The report's
# encoder has a 3x3 stride-1 first layer and no max-pool (ResNet3x3Stem, the backbone SimCLR
# pretrains in configs/pretrain/simclr_r34-3x3stem_*.py), so the default strides (1, 2, 2, 2)
# give output stride 8 without dilation.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
    pretrained=None,
    backbone=dict(type='ResNet3x3Stem', depth=34, in_channels=3, num_stages=4, out_indices=(3,),
                  strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1), norm_cfg=norm_cfg,
                  norm_eval=False, style='pytorch', contract_dilation=True, init_cfg=None),
    decode_head=dict(type='TwoBlockUpsampleHead', in_channels=512, in_index=0, channels=256,
                     output_stride=8, first_scale=2, kernel_size=3, seg_kernel_size=1,
                     dropout_ratio=0.1, num_classes=3, norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

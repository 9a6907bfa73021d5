# Seed 004's DeepLab-v2: ResNet-101 in torchvision layout, output stride 8 (dilation 2 and 4 in
# the last two stages), ASPP of four 3x3 convs with rates 6/12/18/24 SUMMED into class logits
# (segssl's DeepLabV2Head). Backbone from a converted checkpoint named by SEGSSL_BACKBONE.
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r101_mmseg.pth}}'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
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

# What every segssl fine-tuning model shares: an mmseg EncoderDecoder whose backbone is a ResNet
# in torchvision layout (style='pytorch', what the checkpoint bridge writes), RGB input with
# torchvision's mean/std, SyncBN (reverted to BN by mmengine in single-process runs), and the
# backbone initialised from a converted file named by SEGSSL_BACKBONE. Head configs inherit it.
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/resnet_mmseg.pth}}'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
    pretrained=None,
    backbone=dict(
        type='ResNet', depth=50, style='pytorch', num_stages=4, out_indices=(3,),
        norm_cfg=norm_cfg, norm_eval=False, contract_dilation=False,
        init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

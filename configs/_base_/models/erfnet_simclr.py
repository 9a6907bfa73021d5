# The ERFNet thesis's SimCLR task (3.2.7, lines ~255-269): each of the 2N augmented views goes through
# ERFNet's encoder (layers 1-16, mmseg's ERFNet with the decoder removed: encoder_only) and "the
# nonlinear projection head described in Section 3.1.2": max-pool of the encoder's
# (N, 128, H/8, W/8) -> Linear 128 -> ReLU -> Linear to "the size of the final feature
# representation" (no BatchNorm). The report does not give that size: 128 (SimCLR's). NT-Xent with
# cosine similarity, tau = 0.5 (3.2.7.1, Eq. 3.5).
# The encoder starts from the ImageNet-classification ERFNet encoder (Section 5.1, line ~347) named
# by SEGSSL_IMAGENET_ENCODER (default below, read by PretrainedERFNetEncoder); =scratch: random.
imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:work_dirs/pretrained/erfnet_imagenet_mmseg.pth}}'
model = dict(
    type='SimCLR',
    backbone=dict(type='ERFNet', in_channels=3, enc_downsample_channels=(16, 64, 128),
                  enc_stage_non_bottlenecks=(5, 8), enc_non_bottleneck_dilations=(2, 4, 8, 16),
                  enc_non_bottleneck_channels=(64, 128), dec_upsample_channels=(64, 16),
                  dec_stages_non_bottleneck=(2, 2), dec_non_bottleneck_channels=(64, 16),
                  dropout_ratio=0.1, norm_cfg=dict(type='BN', requires_grad=True),
                  init_cfg=None if imagenet_encoder == 'scratch' else
                  dict(type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder)),
    encoder_only=True,
    pool='max',
    projector=dict(in_channels=128, hidden_channels=128, out_channels=128, batch_norm=False),
    temperature=0.5,
    data_preprocessor=dict(type='PixelViewsDataPreProcessor'))

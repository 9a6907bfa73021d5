# The ERFNet thesis's encoder-only pretext network: mmseg's ERFNet encoder (layers 1-16; the decoder is
# removed by PretextClassifier) + global max-pool + FC head. Rotation by default (4 classes,
# hidden 128, seed 3.1.2); the jigsaw / relative-patch configs change task, num_tiles, classes
# and hidden width.
# Initialisation: "All of the self-supervised methods are first initialized with an encoder
# pretrained on ImageNet classification" (the ERFNet thesis Section 5.1, line ~347): the encoder comes
# from the ImageNet-classification ERFNet encoder named by SEGSSL_IMAGENET_ENCODER (default
# below; mmseg ERFNet names, a segmentor checkpoint or erfnet_pytorch's encoder.* layout, read by
# PretrainedERFNetEncoder, which loads the encoder only and checks every tensor).
# SEGSSL_IMAGENET_ENCODER=scratch starts from a random encoder instead (Table 5.3's scratch row).
imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:work_dirs/pretrained/erfnet_imagenet_mmseg.pth}}'
model = dict(
    type='PretextClassifier',
    data_preprocessor=dict(type='PretextDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='ERFNet', in_channels=3, enc_downsample_channels=(16, 64, 128),
                  enc_stage_non_bottlenecks=(5, 8), enc_non_bottleneck_dilations=(2, 4, 8, 16),
                  enc_non_bottleneck_channels=(64, 128), dec_upsample_channels=(64, 16),
                  dec_stages_non_bottleneck=(2, 2), dec_non_bottleneck_channels=(64, 16),
                  dropout_ratio=0.1, norm_cfg=dict(type='BN', requires_grad=True),
                  init_cfg=None if imagenet_encoder == 'scratch' else
                  dict(type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder)),
    task='rotation', num_classes=4, hidden_channels=128, feature_channels=128, num_tiles=1)

# The ClassMix/DACS report's start: its DeepLab-v2 exactly as the reference code builds it, from the
# official initialisation (ImageNet + MSCOCO; DeepLab_resnet_pretrained_init-f81d91e8.pth, the file
# the AdvSemiSeg / ClassMix / DACS code downloads), converted once:
#   python tools/convert_checkpoint.py DeepLab_resnet_pretrained_init-f81d91e8.pth \
#       work_dirs/pretrained/deeplabv2_init_mmseg.pth --to mmseg
# These are changes to deeplabv2_r101-d8.py's torchvision-layout network, one per dataset family;
# a config applies one as `model = {{_base_.deeplabv2_start_cityscapes}}` (or inside
# `segmentor=` for ClassMix/DACS). deeplabv2_start.py chooses this file or -torchvision.py.
# - ResNet-101, caffe style (stride in each block's first 1x1 conv), stem max-pool with ceil_mode
#   (segssl's DeepLabV2ResNet), stages 3-4 stride 1 / dilation 2 and 4 (inherited), output stride 8;
# - BN affine parameters frozen, running statistics updated in training (requires_grad=False,
#   norm_eval=False), as in the reference code;
# - input BGR in 0-255 minus a mean, no std division: the ImageNet BGR mean (104.008, 116.669,
#   122.675) for VOC and for DACS (source and target alike: the report keeps the pretraining mean
#   across domains); the Cityscapes mean for ClassMix on Cityscapes (the report, 4.3.1, says why);
# - DeepLabV2Head: logits upsampled with align_corners=True, as the reference code's nn.Upsample
#   (65x129 logits for a 512x1024 input); all four branches summed (sum_first_two=True: the public
#   code's numbers);
# - VOC (21 classes): the classifier starts from the file's 21-class one, as the reference code
#   keeps it for VOC; other class counts start it from N(0, 0.01).
deeplabv2_init_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/deeplabv2_init_mmseg.pth}}'
imagenet_bgr_mean = [104.00698793, 116.66876762, 122.67891434]
# The reference Cityscapes loader's mean, subtracted from the BGR image in this order (the loader
# names it mean_rgb but subtracts it after its RGB -> BGR flip).
cityscapes_mean = [73.15835921, 82.90891754, 72.39239876]
deeplabv2_caffe_preprocessor = dict(mean=imagenet_bgr_mean, std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
deeplabv2_caffe_backbone = dict(
    type='DeepLabV2ResNet', depth=101, style='caffe', maxpool_ceil_mode=True,
    norm_cfg=dict(type='SyncBN', requires_grad=False), norm_eval=False,
    init_cfg=dict(type='Pretrained', checkpoint=deeplabv2_init_checkpoint))
deeplabv2_caffe_head = dict(sum_first_two=False, align_corners=True)

deeplabv2_start = dict(data_preprocessor=deeplabv2_caffe_preprocessor,
                       backbone=deeplabv2_caffe_backbone, decode_head=deeplabv2_caffe_head)
deeplabv2_start_cityscapes = dict(
    data_preprocessor=dict(deeplabv2_caffe_preprocessor, size=(512, 1024), mean=cityscapes_mean),
    backbone=deeplabv2_caffe_backbone, decode_head=deeplabv2_caffe_head)
deeplabv2_start_voc = dict(
    data_preprocessor=dict(deeplabv2_caffe_preprocessor, size=(321, 321)),
    backbone=deeplabv2_caffe_backbone,
    decode_head=dict(deeplabv2_caffe_head, num_classes=21, init_cfg=dict(
        type='Pretrained', checkpoint=deeplabv2_init_checkpoint, prefix='decode_head.')))
deeplabv2_start_uda = dict(data_preprocessor=dict(deeplabv2_caffe_preprocessor, size=(512, 512)),
                           backbone=deeplabv2_caffe_backbone, decode_head=deeplabv2_caffe_head)

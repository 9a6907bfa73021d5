# The ERFNet thesis (3.2.2, Table 5.6 "waug"): ERFNet encoder + classification head predicting the
# rotation (0/90/180/270) of square crops of the Cityscapes extended set (leftImg8bit/train_extra,
# ~19k unlabelled images), batch 128, Adam 5e-4, poly per epoch. Augmentation as the report lists
# it: random cropping / translation (a 512 x 512 crop at a random place of the 512 x 1024
# image), colour jitter, normalisation. The crop side is not in the report: 512 (the image height).
# The encoder starts from the ImageNet-classification ERFNet encoder (the ERFNet thesis ~347: "All of
# the self-supervised methods are first initialized with an encoder pretrained on ImageNet
# classification"): SEGSSL_IMAGENET_ENCODER=FILE (default work_dirs/pretrained/
# erfnet_imagenet_mmseg.pth), or SEGSSL_IMAGENET_ENCODER=scratch for a random encoder. This is
# Table 5.3's ImageNet-initialised row; erfnet_rotation-waug-scratch_1xb128_cityscapes-extra.py the other.
_base_ = [
    '../_base_/models/erfnet_pretext_classifier.py',
    '../_base_/schedules/erfnet_pretext_adam_poly_150ep.py',
    '../_base_/segssl_runtime.py',
]

data_root = '{{$SEGSSL_DATA_ROOT:data}}/cityscapes/'
crop = 512
augment = True        # the report's with / without augmentation rows (rotation-noaug: False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(crop, crop)),
    dict(type='PhotoMetricDistortion'),
    dict(type='RotationPretext', num_rotations=4),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='leftImg8bit/train_extra'), pipeline=train_pipeline))
# Launch shape 1xb128: the ERFNet report's (encoder-only pretext) global batch 128 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=128/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=128)

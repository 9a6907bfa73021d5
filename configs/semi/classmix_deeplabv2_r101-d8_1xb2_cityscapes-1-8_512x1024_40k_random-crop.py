# The ClassMix/DACS thesis, Table 5.1 row "Random crop" (the report's mIoU 62.16): the default ClassMix run at 1/8 of
# Cityscapes (372 labels) with this one change.
_base_ = ['./classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']

# random 512x512 crops of the 512x1024 images, labelled and unlabelled
model = dict(segmentor=dict(data_preprocessor=dict(size=(512, 512))))
train_dataloader = dict(dataset=dict(
    labelled=dict(pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                            dict(type='Resize', scale=(1024, 512), keep_ratio=True),
                            dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=1.0), dict(type='PackSegInputs')]),
    unlabelled=dict(pipeline=[dict(type='LoadImageFromFile'),
                              dict(type='Resize', scale=(1024, 512), keep_ratio=True),
                              dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=1.0), dict(type='PackSegInputs')])))

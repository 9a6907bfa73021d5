# The ERFNet thesis (Table 5.2's decoder "ImageNet Otsu-noaug", best with the rotation encoder: 71.6
# mIoU): Otsu clustering on ImageNet train images without augmentation. The report does not give
# the ImageNet input size: each image is resized to 224 x 224 (ImageNet's usual side).
_base_ = ['./erfnet_otsu-waug_1xb20_cityscapes-extra.py']

data_root = '{{$SEGSSL_DATA_ROOT:data}}/imagenet/'
crop_size = (224, 224)
augment = False
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='OtsuPretext', classes=4),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=dict(img_path='train'),
                                     pipeline=train_pipeline))

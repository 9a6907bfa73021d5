# The ERFNet thesis Table 5.6 (lines ~379-381), rotation trained on ImageNet with augmentation: "Data
# augmentation in the rotation task includes random translation, cropping, and color jittering,
# along with normalization"; the encoder starts from the ImageNet-classification encoder, as every
# pretext task (line ~347). The table's numbers are lost in the report's text; the text: "In both
# cases [Cityscapes and ImageNet] the rotation task performs better with the inclusion of data
# augmentation". The report gives no ImageNet image size: the shorter side resized to 256, then a
# 224 x 224 crop at a random place (ImageNet's usual 256 / 224), colour jitter, the rotation label.
# ImageNet train images read as an image folder (data/imagenet/train/<class>/*.JPEG). Batch 128,
# Adam 5e-4, poly per epoch (encoder-only task). Fine-tune with
# configs/finetune/erfnet/erfnet_rotation_1xb20_cityscapes-512x1024.py (SEGSSL_BACKBONE=this encoder).
_base_ = ['./erfnet_rotation-waug_1xb128_cityscapes-extra.py']

data_root = '{{$SEGSSL_DATA_ROOT:data}}/imagenet/'
crop = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 256), keep_ratio=True),     # shorter side 256
    dict(type='RandomCrop', crop_size=(crop, crop)),
    dict(type='PhotoMetricDistortion'),
    dict(type='RotationPretext', num_rotations=4),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=dict(img_path='train'),
                                     pipeline=train_pipeline))

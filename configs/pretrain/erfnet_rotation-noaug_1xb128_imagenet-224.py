# The ERFNet thesis Table 5.6 (lines ~379-381), rotation trained on ImageNet without augmentation:
# "Without data augmentation the image is just resized and randomly rotated": each image resized
# to 224 x 224 (the report gives no ImageNet size; as erfnet_otsu-noaug_1xb20_imagenet-224.py), then the
# rotation label. The encoder starts from the ImageNet-classification encoder (line ~347). The
# table's numbers are lost in the report's text; the text: the rows with augmentation do better.
# Fine-tune with configs/finetune/erfnet/erfnet_rotation_1xb20_cityscapes-512x1024.py.
_base_ = ['./erfnet_rotation-waug_1xb128_imagenet-224.py']

augment = False
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='RotationPretext', num_rotations=4),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

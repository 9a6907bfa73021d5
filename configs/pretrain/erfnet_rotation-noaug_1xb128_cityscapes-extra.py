# The ERFNet thesis (Table 5.6, rotation without augmentation): "the image is just resized and randomly
# rotated": the 512 x 1024 image resized to 512 x 512, then the rotation label.
_base_ = ['./erfnet_rotation-waug_1xb128_cityscapes-extra.py']

augment = False
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(512, 512), keep_ratio=False),
    dict(type='RotationPretext', num_rotations=4),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# The PixPro thesis, Table 4.1 row "Rotation" (71.71): view 1 rotated by a fixed 30 degrees.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='AffineView', view=0, mode='fixed', degrees=30, translate=(0, 0), shear=(0, 0)),
    dict(type='PackPixelViews'),
]))


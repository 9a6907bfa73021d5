# The PixPro thesis, Table 4.1 row "Affine (fixed)" (71.60): view 1 rotated 30 deg, translated 10 px in x and y, sheared 10 deg in x and y.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='AffineView', view=0, mode='fixed', degrees=30, translate=(10, 10), shear=(10, 10)),
    dict(type='PackPixelViews'),
]))


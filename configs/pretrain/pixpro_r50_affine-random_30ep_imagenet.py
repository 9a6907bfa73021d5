# Seed 000, Table 4.1 row "Affine (rand. init.)" (71.80): rotation +-45 deg, translation +-100 px, x-shear +-10 deg. The seed draws once per batch; this transform draws per sample (core.affine.random_affine_params gives the per-batch draw).
_base_ = ['./pixpro_r50_30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='AffineView', view=0, mode='random', degrees=45, translate=(100, 100), shear=(10, 0)),
    dict(type='PackPixelViews'),
]))


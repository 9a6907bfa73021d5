# Unlabelled ImageNet-1K train images, two 224 crops (scale 0.08-1, flip) with BYOL/PixPro colour
# augmentation per view; erasing/affine are added by the row configs.
data_root = 'data/imagenet/'
view_size = 224
view_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
]
pack = [dict(type='PackPixelViews')]
train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='train'), pipeline=view_pipeline + pack))

# The PixPro thesis, Table 4.1 row "Random Patched Erasing Gaussian" (72.35).
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='OnlineRandomPatchedErasing', p=1.0, num_patches=50, patch_size=10, fill='gaussian'),
    dict(type='PackPixelViews'),
]))


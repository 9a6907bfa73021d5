# The PixPro thesis, Table 4.1 row "Random Erasing Black" (72.56, best): online copies only, area 0.02-0.4, aspect 0.3-1/0.3, p = 1.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black'),
    dict(type='PackPixelViews'),
]))


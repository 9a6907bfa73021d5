# The PixPro thesis, 5.1.3 (line ~733), the extra run after the final model: "only affine transformation with
# fixed hyperparameters and Random Erasing Black", 30 epochs, batch 64 (71.46 mIoU, below both
# single rows: Affine (fixed) 71.60, Random Erasing Black 72.56). PPM head, no Momentum BN.
# View 1 rotated 30 deg, translated 10 px in x and y, sheared 10 deg in x and y (as
# pixpro_r50_affine-fixed_3xb21-30ep_imagenet.py), then the online copies erased (area 0.02-0.4, aspect
# 0.3-1/0.3, black, p = 1; as pixpro_r50_erase-black_3xb21-30ep_imagenet.py). AffineView warps both
# copies of view 1 first; the erasing then cuts upright rectangles from the warped online copies.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='AffineView', view=0, mode='fixed', degrees=30, translate=(10, 10), shear=(10, 10)),
    dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black'),
    dict(type='PackPixelViews'),
]))

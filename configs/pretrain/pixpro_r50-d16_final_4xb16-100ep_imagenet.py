# The PixPro thesis, Table 4.3 "our method" (74.15 +- 0.45): random affine on view 1 + Random Erasing
# Black on the online copies + Momentum BN + LocalPPM 5x5 on the dilated conv5 (14x14 maps);
# 100 epochs, batch 64 (the report: 4 GPUs, ~12 days). The affine is drawn once per batch in the
# model (PixPro.batch_affine), after the erasing of the online copy, so an erased rectangle turns
# with the view.
_base_ = ['./pixpro_r50-d16_localppm5-mbn_3xb21-30ep_imagenet.py']

model = dict(batch_affine=dict(view=0, degrees=45, translate=(100, 100), shear=(10, 0)))
# launch shape 4xb16: the thesis' final run, batch 64 on 4 GPUs
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=224, scale=(0.08, 1.0), flip_prob=0.5),
    dict(type='ViewColorAugment'),
    dict(type='OnlineRandomErasing', p=1.0, scale=(0.02, 0.4), ratio=(0.3, 1 / 0.3), fill='black'),
    dict(type='PackPixelViews'),
]))
max_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=95, eta_min=1e-6, by_epoch=True, begin=5, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)

# Supervised-only baseline of classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py: the same
# student, optimiser, schedule and labelled split (batch 4), without the unlabelled pool.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/synthetic_cityscapes_semi-64x128.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(64, 128)),
    backbone=dict(depth=18, stem_channels=32, base_channels=32, norm_cfg=norm_cfg,  # half-width R18,
                  init_cfg=None),                                 # random init (no weights offline)
    decode_head=dict(in_channels=256))
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset={{_base_.train_dataloader.dataset.labelled}})
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))

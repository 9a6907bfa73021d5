# The ERFNet thesis (3.2.4): relative patch position. Tiles cut as for the jigsaw (so the jigsaw's gap and
# jitter: 64 px tiles at random places in 75 px cells of a 225 px crop) and the same
# augmentation; the centre tile and one of its 8 neighbours go through the shared encoder; the
# 8-way position is predicted. The report gives no head for this task: the jigsaw's
# (concatenation -> FC 4096 -> ReLU -> FC 8).
_base_ = ['./erfnet_jigsaw_1xb128_cityscapes-extra.py']

model = dict(task='relative_patch', num_classes=8, hidden_channels=4096, num_tiles=2)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='Resize', scale=(225, 225), keep_ratio=False),
    dict(type='RelativePatchPretext', cell=75, tile=64,
         tile_pipeline=[dict(type='PhotoMetricDistortion')]),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

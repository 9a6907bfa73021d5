# Cityscapes at 512x1024 as the ERFNet thesis trains and evaluates ERFNet (Table 3.1): whole images
# resized to 1024x512 (no crops), random horizontal flip; evaluation against labels resized
# (nearest) to the same 512x1024. Batch 20 (seed Section 4.2): on N GPUs set
# train_dataloader.batch_size so that N x batch = 20.
_base_ = ['mmseg::_base_/datasets/cityscapes.py']

scale = (1024, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    # ori_shape := img_shape (512, 1024): mmseg 1.2.2 resizes every prediction to ori_shape, which
    # would otherwise be the 1024x2048 photo's while the label is 512x1024 (an IndexError in
    # IoUMetric on real Cityscapes; the synthetic twins are already 512x1024-free)
    dict(type='KeyMapper', mapping=dict(ori_shape='img_shape'), remapping=dict(ori_shape='ori_shape'),
         transforms=[]),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=20, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

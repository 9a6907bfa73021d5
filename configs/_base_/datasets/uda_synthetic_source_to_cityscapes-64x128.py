# CPU twin of uda_gta5_to_cityscapes-512x512.py on segssl's synthetic data: the generator's
# `source/` rendering (flat game-like look, the GTA5 stand-in, with labels) -> its `cityscapes/`
# rendering (textured "real" look, labels used only for validation), both 64x128, random 64x64
# crops of both (the report's square crops, no flips), batch 2 source + 2 target.
#   python tools/make_synthetic_data.py data/synthetic_uda --size 64x128 --num-train 64 --num-val 32
#   SEGSSL_DATA_ROOT=data/synthetic_uda python tools/train.py CONFIG
data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic_uda}}'
crop_size = (64, 64)
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_split = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')
source_dataset = dict(type='CityscapesDataset', data_root=data_root + '/source/',
                      data_prefix=train_split, pipeline=source_pipeline)
target_dataset = dict(type='CityscapesDataset', data_root=data_root + '/cityscapes/',
                      data_prefix=train_split, pipeline=target_pipeline)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='PairedDataset', labelled=source_dataset, unlabelled=target_dataset,
                 disjoint=False))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CityscapesDataset', data_root=data_root + '/cityscapes/',
                 data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

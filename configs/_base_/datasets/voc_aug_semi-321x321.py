# Seed 004's Pascal VOC (aug, 10,582 training images) semi-supervised data (4.1.2): random scale
# 0.5-1.5, random 321x321 crops (padded with 0 / ignored labels by the data preprocessor), random
# horizontal flip, for labelled and unlabelled images alike; batch 10 + 10 (PairedDataset).
# SegmentationClassAug must hold a mask for every training id (the usual release does; mmseg's
# voc_aug converter writes the SBD ones: copy VOC's SegmentationClass pngs in too).
#   python tools/make_label_splits.py data/VOCdevkit/VOC2012 --dataset voc_aug
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

data_root = 'data/VOCdevkit/VOC2012'
crop_size = (321, 321)
data_prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug')
# RandomResize scales into 500*r x 500*r: for VOC's images (long side 500) that is r times their size
labelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
unlabelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    _delete_=True, batch_size=10, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PairedDataset',
        labelled=dict(type='PascalVOCDataset', data_root=data_root, data_prefix=data_prefix,
                      ann_file='splits/1-8/labelled.txt', pipeline=labelled_pipeline),
        unlabelled=dict(type='PascalVOCDataset', data_root=data_root, data_prefix=data_prefix,
                        ann_file='splits/1-8/unlabelled.txt', pipeline=unlabelled_pipeline)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

# Seed 004's Cityscapes semi-supervised data (4.1.2): images resized from 1024x2048 to 512x1024,
# no other augmentation, batch 2 labelled + 2 unlabelled (PairedDataset). The labelled set and the
# unlabelled pool are the split files that tools/make_label_splits.py writes under
# DATA_ROOT/splits/<fraction>/; the fraction configs set the two ann_files.
#   python tools/make_label_splits.py data/cityscapes --dataset cityscapes
_base_ = ['mmseg::_base_/datasets/cityscapes.py']

data_root = 'data/cityscapes/'
data_prefix = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')
labelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='PackSegInputs'),
]
unlabelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),          # after Resize: mIoU at the full label resolution
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PairedDataset',
        labelled=dict(type='CityscapesDataset', data_root=data_root, data_prefix=data_prefix,
                      ann_file='splits/1-8/labelled.txt', pipeline=labelled_pipeline),
        unlabelled=dict(type='CityscapesDataset', data_root=data_root, data_prefix=data_prefix,
                        ann_file='splits/1-8/unlabelled.txt', pipeline=unlabelled_pipeline)))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

# segssl's synthetic Cityscapes-layout set as semi-supervised data, the CPU twin of
# cityscapes_semi-512x1024.py: whole 64x128 images, no augmentation (as the report's Cityscapes
# runs), the labelled set and the unlabelled pool read from the split files that
# tools/make_label_splits.py writes under DATA_ROOT/cityscapes/splits.
#   python tools/make_synthetic_data.py data/synthetic --size 64x128 --num-train 64 --num-val 32
#   python tools/make_label_splits.py data/synthetic/cityscapes --dataset cityscapes
_base_ = ['./synthetic_cityscapes-128x256.py']

data_root = '{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/'
split = '1-8'
labelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
unlabelled_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PairedDataset',
        labelled=dict(type='CityscapesDataset', data_root=data_root,
                      ann_file=f'splits/{split}/labelled.txt',
                      data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                      pipeline=labelled_pipeline),
        unlabelled=dict(type='CityscapesDataset', data_root=data_root,
                        ann_file=f'splits/{split}/unlabelled.txt',
                        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                        pipeline=unlabelled_pipeline)))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

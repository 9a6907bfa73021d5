# The ClassMix/DACS thesis's Pascal VOC (aug, 10,582 training images) semi-supervised data (4.1.2): random scale
# 0.5-1.5, random 321x321 crops (padded with 0 / ignored labels by the data preprocessor), random
# horizontal flip, for labelled and unlabelled images alike; batch 10 + 10 (PairedDataset).
# SegmentationClassAug must hold a mask for every training id (the usual release does; mmseg's
# voc_aug converter writes the SBD ones: copy VOC's SegmentationClass pngs in too).
#   python tools/make_label_splits.py data/VOCdevkit/VOC2012 --dataset voc_aug
# (download and conversion commands: README, "Preparing the datasets")
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
# Validation resolution (README, "Preparing the datasets"): VOC val (ImageSets/Segmentation/val.txt,
# SegmentationClass) is always scored at each image's own label size; SEGSSL_VOC_VAL says what
# the network sees:
#   native (default): the image at its own size (long side 500), as the reference ClassMix code
#     evaluates;
#   2048x512: mmseg's base pipeline, the image rescaled to fit 2048x512 (a 500x375 image becomes
#     683x512, 1.37x) and the prediction resized back to the label.
voc_val = '{{$SEGSSL_VOC_VAL:native}}'
val_pipeline_native = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_pipeline_2048x512 = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_pipeline = {'native': val_pipeline_native, '2048x512': val_pipeline_2048x512}.get(voc_val)
if val_pipeline is None:
    raise ValueError(f"SEGSSL_VOC_VAL={voc_val!r}: expected 'native' or '2048x512'")
test_pipeline = val_pipeline               # what mmseg.apis.inference_model runs
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader

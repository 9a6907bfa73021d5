# The ClassMix/DACS thesis's Cityscapes semi-supervised data (4.1.2): images resized from 1024x2048 to 512x1024,
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
# Validation resolution (README, "Preparing the datasets"). The network sees every val image
# resized to 512x1024; SEGSSL_CITYSCAPES_VAL says where mIoU is counted:
#   512x1024 (default): as the reference ClassMix / DACS code evaluates: the label is loaded before
#     the Resize (nearest for labels) and ori_shape is set to 512x1024 (mmcv's KeyMapper copying
#     img_shape), so mmseg's postprocess keeps the 512x1024 prediction and IoUMetric compares it
#     with the 512x1024 label;
#   full: the prediction is upsampled to the 1024x2048 label (mmseg's convention, `test_pipeline`).
cityscapes_val = '{{$SEGSSL_CITYSCAPES_VAL:512x1024}}'
test_pipeline = [                          # full label resolution; mmseg.apis.inference_model's pipeline
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),          # after Resize: the label keeps its 1024x2048
    dict(type='PackSegInputs'),
]
val_pipeline_512x1024 = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='KeyMapper', mapping=dict(ori_shape='img_shape'), remapping=dict(ori_shape='ori_shape'),
         transforms=[]),                   # ori_shape := img_shape (512, 1024)
    dict(type='PackSegInputs'),
]
val_pipeline = {'512x1024': val_pipeline_512x1024, 'full': test_pipeline}.get(cityscapes_val)
if val_pipeline is None:
    raise ValueError(f"SEGSSL_CITYSCAPES_VAL={cityscapes_val!r}: expected '512x1024' or 'full'")
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PairedDataset',
        labelled=dict(type='CityscapesDataset', data_root=data_root, data_prefix=data_prefix,
                      ann_file='splits/1-8/labelled.txt', pipeline=labelled_pipeline),
        unlabelled=dict(type='CityscapesDataset', data_root=data_root, data_prefix=data_prefix,
                        ann_file='splits/1-8/unlabelled.txt', pipeline=unlabelled_pipeline)))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader

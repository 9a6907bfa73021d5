# The ClassMix/DACS thesis's GTA5 -> Cityscapes data: source GTA5 (all 24,966 frames, labels converted by
# tools/convert_gta5.py) resized to 760x1280; target Cityscapes train images (no labels) resized
# to 512x1024; random 512x512 crops of both (no flips), batch 2 source + 2 target (PairedDataset).
# Validation on Cityscapes val: images resized to 512x1024, mIoU at 512x1024 (see below).
#   SEGSSL_GTA5_ROOT=data/gta SEGSSL_CITYSCAPES_ROOT=data/cityscapes python tools/train.py CONFIG
gta5_root = '{{$SEGSSL_GTA5_ROOT:data/gta}}'
cityscapes_root = '{{$SEGSSL_CITYSCAPES_ROOT:data/cityscapes}}'
crop_size = (512, 512)
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1280, 760), keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
# Validation resolution: as cityscapes_semi-512x1024.py (README, "Preparing the datasets"):
# SEGSSL_CITYSCAPES_VAL=512x1024 (default, the reference DACS code's: labels resized with nearest
# to 512x1024, ori_shape := 512x1024) or full (predictions upsampled to the 1024x2048 labels).
cityscapes_val = '{{$SEGSSL_CITYSCAPES_VAL:512x1024}}'
test_pipeline = [                          # full label resolution; mmseg.apis.inference_model's pipeline
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
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
source_dataset = dict(type='GTA5Dataset', data_root=gta5_root, pipeline=source_pipeline)
target_dataset = dict(type='CityscapesDataset', data_root=cityscapes_root,
                      data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                      pipeline=target_pipeline)
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='PairedDataset', labelled=source_dataset, unlabelled=target_dataset,
                 disjoint=False))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CityscapesDataset', data_root=cityscapes_root,
                 data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

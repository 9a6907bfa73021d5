# Synthetic twin of the SimCLR report's fine-tuning (twoblock_r34-os8_1xb32_pets-128x128_*.py): the same
# two-block bilinear decoder on a ResNet-18 at output stride 8, segssl's synthetic
# Cityscapes-layout set resized to 128 x 128, 200 iterations, pixel accuracy (aAcc) on val.
# A label fraction is an id list (one <city>/<stem> per line, the ann_file form of mmseg's
# CityscapesDataset), relative to data_root:
#   python tools/train.py THIS_CONFIG --cfg-options train_dataloader.dataset.ann_file=LIST
# ann_file='' uses every training image. The encoder comes from a SimCLR checkpoint converted with
# tools/convert_checkpoint.py --to mmseg, as in the Pets configs:
#   SEGSSL_BACKBONE=FILE python tools/train.py THIS_CONFIG
# and the baseline from scratch is --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/twoblock_r34-os8.py',
    '../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

img_size = (128, 128)
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/r18_3x3_mmseg.pth}}'
model = dict(data_preprocessor=dict(size=img_size),
             backbone=dict(depth=18, init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint)),
             decode_head=dict(num_classes=19))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=img_size, keep_ratio=False),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(ann_file='', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999),
                                                         weight_decay=0))

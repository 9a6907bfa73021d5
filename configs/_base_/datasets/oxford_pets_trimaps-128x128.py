# Oxford-IIIT Pet trimaps at 128 x 128 (the SimCLR report's fine-tuning data): images/<id>.jpg,
# annotations/trimaps/<id>.png with 1 = pet, 2 = background, 3 = border; reduce_zero_label maps
# them to classes 0, 1, 2 (the report's three one-hot channels). Training ids come from a
# label-fraction list (python tools/make_pets_splits.py data/oxford-iiit-pet), evaluation on
# the test list. No augmentation (the report names none for fine-tuning): resize to 128 x 128.
# Evaluation is on the 128 x 128 masks, as the SimCLR report does (line ~50: the masks become
# (batch_size, 3, 128, 128)): the test pipeline loads the trimap before the Resize (nearest for
# labels) and then records 128 x 128 as the sample's ori_shape (mmcv's KeyMapper copying img_shape),
# so mmseg's postprocess keeps the network's 128 x 128 output instead of upsampling it to the
# photo's size, and aAcc counts 128 x 128 = 16384 pixels per image. mmseg's default instead
# (the prediction upsampled to each photo's own label size): a child config with
#   val_dataloader = dict(dataset=dict(pipeline={{_base_.full_size_test_pipeline}}))
# (and the same for test_dataloader).
dataset_type = 'BaseSegDataset'
data_root = '{{$SEGSSL_DATA_ROOT:data}}/oxford-iiit-pet/'
metainfo = dict(classes=('pet', 'background', 'border'),
                palette=[[220, 20, 60], [0, 0, 0], [250, 170, 30]])
img_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=img_size, keep_ratio=False),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=img_size, keep_ratio=False),
    # ori_shape := img_shape (128, 128): predictions and labels are compared at 128 x 128
    dict(type='KeyMapper', mapping=dict(ori_shape='img_shape'), remapping=dict(ori_shape='ori_shape'),
         transforms=[]),
    dict(type='PackSegInputs'),
]
full_size_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
common = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, img_suffix='.jpg',
              seg_map_suffix='.png', reduce_zero_label=True,
              data_prefix=dict(img_path='images', seg_map_path='annotations/trimaps'))
train_dataloader = dict(batch_size=32, num_workers=4, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(common, ann_file='splits/full.txt', pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, num_workers=4, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(common, ann_file='splits/test.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
# IoUMetric always reports aAcc, the pixel accuracy (the SimCLR report's metric), with mIoU and mAcc;
# here over the 128 x 128 masks of the test pipeline above.
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

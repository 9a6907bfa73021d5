# The ClassMix/DACS thesis's SYNTHIA -> Cityscapes data: source SYNTHIA RAND-CITYSCAPES (9,400 frames, labels
# converted by tools/convert_synthia.py) kept at its 760x1280, target and validation as in the
# GTA5 file; the evaluator adds mIoU over SYNTHIA's 16 classes and mIoU* over 13.
_base_ = ['./uda_gta5_to_cityscapes-512x512.py']

synthia_root = '{{$SEGSSL_SYNTHIA_ROOT:data/synthia}}'
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(labelled=dict(
    _delete_=True, type='SynthiaDataset', data_root=synthia_root, pipeline=source_pipeline)))
val_evaluator = dict(type='SynthiaIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

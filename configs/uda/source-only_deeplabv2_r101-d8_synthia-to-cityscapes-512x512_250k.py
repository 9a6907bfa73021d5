# Seed 004, Table 4.4 "source only" (29.45 mIoU over 16 classes, 33.65 over 13): DeepLab-v2 R101
# trained on SYNTHIA alone, evaluated on Cityscapes val with SynthiaIoUMetric.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/uda_synthia_to_cityscapes-512x512.py',
    '../_base_/schedules/uda_250k.py',
    '../_base_/segssl_runtime.py',
]
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

model = {{_base_.deeplabv2_start_uda}}
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SynthiaDataset', data_root={{_base_.synthia_root}}, pipeline={{_base_.source_pipeline}}))

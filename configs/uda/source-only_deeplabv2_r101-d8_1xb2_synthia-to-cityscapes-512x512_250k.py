# The ClassMix/DACS thesis, Table 4.4 "source only" (29.45 mIoU over 16 classes, 33.65 over 13): DeepLab-v2 R101
# trained on SYNTHIA alone, evaluated on Cityscapes val with SynthiaIoUMetric.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/uda_synthia_to_cityscapes-512x512.py',
    '../_base_/schedules/uda_250k.py',
    '../_base_/segssl_runtime.py',
]

model = {{_base_.deeplabv2_start_uda}}
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SynthiaDataset', data_root={{_base_.synthia_root}}, pipeline={{_base_.source_pipeline}}))
# Launch shape 1xb2: the DACS report's (2 source + 2 target) global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

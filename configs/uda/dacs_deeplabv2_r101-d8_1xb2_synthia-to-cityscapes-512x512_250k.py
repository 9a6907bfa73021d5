# The ClassMix/DACS thesis, Table 4.4 "DACS" (48.34 mIoU over 16 classes, 54.81 over 13): DACS SYNTHIA -> Cityscapes,
# otherwise as the GTA5 config; evaluated with SynthiaIoUMetric (mIoU, mIoU16, mIoU13).
#   python tools/convert_synthia.py data/synthia
_base_ = [
    '../_base_/models/dacs_deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/uda_synthia_to_cityscapes-512x512.py',
    '../_base_/schedules/uda_250k.py',
    '../_base_/segssl_runtime.py',
]

model = dict(segmentor={{_base_.deeplabv2_start_uda}})
# Launch shape 1xb2: the DACS report's (2 source + 2 target) global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

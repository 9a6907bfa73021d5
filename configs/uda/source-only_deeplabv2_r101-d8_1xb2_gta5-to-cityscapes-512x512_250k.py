# The ClassMix/DACS thesis, Table 4.3 "source only" (32.85 mIoU): the same DeepLab-v2 R101 trained on GTA5 alone
# (760x1280, 512x512 crops, batch 2, 250k iterations), evaluated on Cityscapes val.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/uda_gta5_to_cityscapes-512x512.py',
    '../_base_/schedules/uda_250k.py',
    '../_base_/segssl_runtime.py',
]

model = {{_base_.deeplabv2_start_uda}}
train_dataloader = dict(dataset=dict(
    _delete_=True, type='GTA5Dataset', data_root={{_base_.gta5_root}}, pipeline={{_base_.source_pipeline}}))
# Launch shape 1xb2: the DACS report's (2 source + 2 target) global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

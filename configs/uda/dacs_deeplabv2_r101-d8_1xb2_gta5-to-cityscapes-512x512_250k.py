# The ClassMix/DACS thesis, Table 4.3 "DACS" (52.14 mIoU): DACS (InterMix) GTA5 -> Cityscapes with DeepLab-v2
# ResNet-101 from a converted backbone (SEGSSL_BACKBONE), 512x512 crops, batch 2 + 2, 250k iterations.
#   python tools/convert_gta5.py data/gta
#   SEGSSL_BACKBONE=work_dirs/pretrained/deeplabv2_init_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    '../_base_/models/dacs_deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/uda_gta5_to_cityscapes-512x512.py',
    '../_base_/schedules/uda_250k.py',
    '../_base_/segssl_runtime.py',
]

model = dict(segmentor={{_base_.deeplabv2_start_uda}})
# Launch shape 1xb2: the DACS report's (2 source + 2 target) global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

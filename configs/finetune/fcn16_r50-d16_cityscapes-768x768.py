# Seed 000's FCN-16 fine-tuning (MoCo protocol) on Cityscapes from a converted SSL backbone.
# Random scale 0.5-2, 768 crops, flip; SGD lr 0.01, momentum 0.9, wd 1e-4; batch 7 (on N GPUs
# set train_dataloader.batch_size so that N x batch = 7, or scale lr); 100 epochs of 2975 images.
#   python tools/convert_checkpoint.py SSL_CKPT work_dirs/pretrained/r50_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r50_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    '../_base_/models/fcn16_r50-d16.py',
    'mmseg::_base_/datasets/cityscapes_768x768.py',
    '../_base_/segssl_runtime.py',
]
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

crop_size = (768, 768)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=7, num_workers=4)
max_iters = 42500                                  # 100 epochs x ceil(2975 / 7)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4250, max_keep_ckpts=2))

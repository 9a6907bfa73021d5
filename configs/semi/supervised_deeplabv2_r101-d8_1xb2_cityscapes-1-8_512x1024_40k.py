# The ClassMix/DACS thesis, Table 4.1: supervised-only baseline on Cityscapes with 1/8 of the labels
# (372 images; the report's mIoU 54.84). The ClassMix configs' student, data and schedule, batch 2.
# The leaves on the other splits inherit this one and set only train_dataloader's ann_file.
#   python tools/make_label_splits.py data/cityscapes --dataset cityscapes
#   SEGSSL_BACKBONE=work_dirs/pretrained/deeplabv2_init_mmseg.pth python tools/train.py configs/semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/cityscapes_semi-512x1024.py',
    '../_base_/schedules/classmix_sgd_40k.py',
    '../_base_/segssl_runtime.py',
]

model = {{_base_.deeplabv2_start_cityscapes}}
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CityscapesDataset', data_root={{_base_.data_root}}, data_prefix={{_base_.data_prefix}},
                 ann_file='splits/1-8/labelled.txt', pipeline={{_base_.labelled_pipeline}}))
# Launch shape 1xb2: the ClassMix report's Cityscapes (2 labelled + 2 unlabelled) global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

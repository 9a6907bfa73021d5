# The ClassMix/DACS report's supervised protocol (4.1.2) on all of Cityscapes, for a ResNet-101 in
# torchvision layout: an SSL backbone or torchvision's ImageNet one, converted with
#   python tools/convert_checkpoint.py CKPT work_dirs/pretrained/r101_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r101_mmseg.pth python tools/train.py THIS_CONFIG
# Images resized from 1024x2048 to 512x1024 and no other augmentation, batch 2, SGD lr 2.5e-4
# (classifier 10x), momentum 0.9, wd 5e-4, poly 0.9, 40k iterations: the data and schedule of
# semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-full_512x1024_40k.py. That one is the report's own
# baseline (Table 4.1 "Full", 66.19 mIoU), started from the official DeepLab-v2 init (caffe-style,
# ImageNet + MSCOCO); this one keeps the torchvision-layout network every SSL checkpoint converts
# to, so an SSL backbone is compared under the report's protocol.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/cityscapes_semi-512x1024.py',
    '../_base_/schedules/classmix_sgd_40k.py',
    '../_base_/segssl_runtime.py',
]

model = dict(data_preprocessor=dict(size=(512, 1024)))
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CityscapesDataset', data_root={{_base_.data_root}},
                 data_prefix={{_base_.data_prefix}}, pipeline={{_base_.labelled_pipeline}}))
# Launch shape 1xb2: the DeepLab-v2 fine-tune's global batch 2 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=2/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=2)

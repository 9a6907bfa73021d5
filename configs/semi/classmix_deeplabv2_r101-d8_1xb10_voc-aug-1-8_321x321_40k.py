# The ClassMix/DACS thesis, Table 4.2: ClassMix on Pascal VOC aug with 1/8 of the labels (1323 images;
# the report's mIoU 71.0). DeepLab-v2 R101 student + EMA teacher, 321x321 crops, batch 10+10, 40k iterations.
#   python tools/make_label_splits.py data/VOCdevkit/VOC2012 --dataset voc_aug
#   SEGSSL_BACKBONE=work_dirs/pretrained/deeplabv2_init_mmseg.pth python tools/train.py configs/semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py
_base_ = [
    '../_base_/models/classmix_deeplabv2_r101-d8.py',
    '../_base_/models/deeplabv2_start.py',
    '../_base_/datasets/voc_aug_semi-321x321.py',
    '../_base_/schedules/classmix_sgd_40k.py',
    '../_base_/segssl_runtime.py',
]

model = dict(segmentor={{_base_.deeplabv2_start_voc}})
train_dataloader = dict(dataset=dict(labelled=dict(ann_file='splits/1-8/labelled.txt'),
                                     unlabelled=dict(ann_file='splits/1-8/unlabelled.txt')))
# Launch shape 1xb10: the ClassMix report's VOC (10 labelled + 10 unlabelled) global batch 10 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=10/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=10)

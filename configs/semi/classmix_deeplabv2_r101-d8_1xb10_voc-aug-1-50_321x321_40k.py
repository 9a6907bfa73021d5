# The ClassMix/DACS thesis, Table 4.2: ClassMix on Pascal VOC aug with 1/50 of the labels (212 images;
# the report's mIoU 66.15). DeepLab-v2 R101 student + EMA teacher, 321x321 crops, batch 10+10, 40k iterations.
#   python tools/make_label_splits.py data/VOCdevkit/VOC2012 --dataset voc_aug
#   SEGSSL_BACKBONE=work_dirs/pretrained/deeplabv2_init_mmseg.pth python tools/train.py configs/semi/classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-50_321x321_40k.py
_base_ = ['./classmix_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py']
train_dataloader = dict(dataset=dict(labelled=dict(ann_file='splits/1-50/labelled.txt'),
                                     unlabelled=dict(ann_file='splits/1-50/unlabelled.txt')))

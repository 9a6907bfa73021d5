# The ClassMix/DACS thesis, Table 4.1: ClassMix on Cityscapes with 1/2 of the labels (1488 images;
# the report's mIoU 66.29). DeepLab-v2 R101 student + EMA teacher, 512x1024, batch 2+2, 40k iterations.
#   python tools/make_label_splits.py data/cityscapes --dataset cityscapes
#   SEGSSL_BACKBONE=work_dirs/pretrained/deeplabv2_init_mmseg.pth python tools/train.py configs/semi/classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-2_512x1024_40k.py
_base_ = ['./classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']
train_dataloader = dict(dataset=dict(labelled=dict(ann_file='splits/1-2/labelled.txt'),
                                     unlabelled=dict(ann_file='splits/1-2/unlabelled.txt')))

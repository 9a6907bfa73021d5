# The ClassMix/DACS thesis, Table 4.1: supervised-only baseline on Cityscapes with all the labels
# (2975 images; the report's mIoU 66.19): the 1/8 baseline on the full split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/full/labelled.txt'))

# The ClassMix/DACS thesis, Table 4.1: supervised-only baseline on Cityscapes with 1/4 of the labels
# (744 images; the report's mIoU 60.08): the 1/8 baseline on the 1-4 split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/1-4/labelled.txt'))

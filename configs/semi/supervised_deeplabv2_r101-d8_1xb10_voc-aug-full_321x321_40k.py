# The ClassMix/DACS thesis, Table 4.2: supervised-only baseline on Pascal VOC aug with all the labels
# (10582 images; the report's mIoU 74.13): the 1/8 baseline on the full split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/full/labelled.txt'))

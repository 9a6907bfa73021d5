# The ClassMix/DACS thesis, Table 4.2: supervised-only baseline on Pascal VOC aug with 1/20 of the labels
# (530 images; the report's mIoU 61.36): the 1/8 baseline on the 1-20 split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/1-20/labelled.txt'))

# The ClassMix/DACS thesis, Table 4.2: supervised-only baseline on Pascal VOC aug with 1/100 of the labels
# (106 images; the report's mIoU 42.47): the 1/8 baseline on the 1-100 split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/1-100/labelled.txt'))

# The ClassMix/DACS thesis, Table 4.2: supervised-only baseline on Pascal VOC aug with 1/50 of the labels
# (212 images; the report's mIoU 55.69): the 1/8 baseline on the 1-50 split.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb10_voc-aug-1-8_321x321_40k.py']
train_dataloader = dict(dataset=dict(ann_file='splits/1-50/labelled.txt'))

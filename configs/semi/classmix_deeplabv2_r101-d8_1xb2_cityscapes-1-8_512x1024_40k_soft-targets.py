# The ClassMix/DACS thesis, Table 5.1 row "No Pseudolabel" (the report's mIoU 60.15): the default ClassMix run at 1/8 of
# Cityscapes (372 labels) with this one change.
_base_ = ['./classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']

model = dict(soft_targets=True)

# The ClassMix/DACS thesis, Table 5.1 row "80k iterations" (the report's mIoU 62.92): the default ClassMix run at 1/8
# of Cityscapes trained for 80k iterations instead of 40k (poly decay over the 80k).
_base_ = ['./classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']

max_iters = 80000
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters)

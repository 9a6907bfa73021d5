# The ERFNet thesis Table 5.7 "0.75-Cityscapes-Rotation-0.25-Kaiming": per encoder conv, keep the 75 % highest-L1 filters, Kaiming for the rest,
# on top of erfnet_rotation_synthetic-128x256.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

custom_hooks = [dict(type='FilterEnergyReinitHook', keep_ratio=0.75, layers=(1, 16), donor_checkpoint=None, seed=0)]

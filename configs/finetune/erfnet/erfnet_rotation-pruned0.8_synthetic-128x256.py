# The ERFNet thesis Table 5.8's pruned ERFNet (rotation encoder + Otsu decoder via --decoder-from): 80 % of the encoder weights zeroed and kept at zero,
# on top of erfnet_rotation_synthetic-128x256.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

custom_hooks = [dict(type='MagnitudePruneHook', ratio=0.8, layers=(1, 16))]

# The ERFNet thesis Table 5.7 "Cityscapes-Rotation-lotto-0.5": 50 % smallest-magnitude encoder weights zeroed and kept at zero,
# on top of erfnet_rotation_1xb20_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

custom_hooks = [dict(type='MagnitudePruneHook', ratio=0.5, layers=(1, 16))]

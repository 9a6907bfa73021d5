# Seed 001 Section 5.1: BatchNorm running statistics of the encoder reset after loading,
# on top of erfnet_rotation_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_cityscapes-512x1024.py']

custom_hooks = [dict(type='ResetNormStatsHook', layers=(1, 16), affine=False)]

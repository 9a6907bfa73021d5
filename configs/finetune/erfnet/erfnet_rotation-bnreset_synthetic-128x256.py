# The ERFNet thesis Section 5.1 (line ~349), "reset the batchnorm parameters": the encoder's BatchNorm
# scale, shift and running statistics reset after loading, on top of
# erfnet_rotation_synthetic-128x256.py (rotation encoder from SEGSSL_BACKBONE).
# affine=False resets the running statistics only: --cfg-options custom_hooks.0.affine=False
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

custom_hooks = [dict(type='ResetNormStatsHook', layers=(1, 16), affine=True)]

# The ERFNet thesis Section 5.1 (line ~349): "when we reset the batchnorm parameters after pre-training the
# performance does not decrease": every BatchNorm of the encoder (layers 1-16) reset after loading,
# its parameters (scale 1, shift 0) and its running statistics (mean 0, var 1), on top of
# erfnet_rotation_1xb20_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE). The report gives
# no number for this row (Table 5.1's values are lost in the text). affine=False resets the
# running statistics only: --cfg-options custom_hooks.0.affine=False
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

custom_hooks = [dict(type='ResetNormStatsHook', layers=(1, 16), affine=True)]

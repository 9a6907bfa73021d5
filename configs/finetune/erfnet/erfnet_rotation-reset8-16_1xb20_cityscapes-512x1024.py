# The ERFNet thesis Table 5.1: Kaiming re-initialisation of encoder layers 8-16 after loading,
# on top of erfnet_rotation_1xb20_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

custom_hooks = [dict(type='ReinitLayersHook', layers=(8, 16), seed=0)]

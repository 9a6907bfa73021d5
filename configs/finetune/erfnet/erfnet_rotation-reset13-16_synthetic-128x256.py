# The ERFNet thesis Table 5.1 "rotation-waug-layer12": Kaiming re-initialisation of encoder layers 13-16 after loading,
# on top of erfnet_rotation_synthetic-128x256.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

custom_hooks = [dict(type='ReinitLayersHook', layers=(13, 16), seed=0)]

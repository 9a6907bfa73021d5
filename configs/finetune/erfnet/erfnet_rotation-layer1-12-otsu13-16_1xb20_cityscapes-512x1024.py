# The ERFNet thesis Table 5.7 "Cityscapes-Rotation-layer1-12-Cityscapes-otsu-layer13-16": encoder layers 13-16 spliced from the Otsu checkpoint (SEGSSL_SPLICE_FROM),
# on top of erfnet_rotation_1xb20_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

custom_hooks = [dict(type='SpliceLayersHook', checkpoint='{{$SEGSSL_SPLICE_FROM:work_dirs/pretrained/erfnet_otsu_mmseg.pth}}', layers=(13, 16))]

# The ERFNet thesis Table 5.7 "0.9-Cityscapes-Rotation-0.1-ImageNet-class": keep 90 % of the filters, the rest from the ImageNet encoder's strongest (SEGSSL_DONOR),
# on top of erfnet_rotation_1xb20_cityscapes-512x1024.py (rotation encoder from SEGSSL_BACKBONE).
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

custom_hooks = [dict(type='FilterEnergyReinitHook', keep_ratio=0.9, layers=(1, 16), donor_checkpoint='{{$SEGSSL_DONOR:work_dirs/pretrained/erfnet_imagenet_mmseg.pth}}', seed=0)]

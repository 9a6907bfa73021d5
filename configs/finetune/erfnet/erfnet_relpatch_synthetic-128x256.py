# Synthetic twin of erfnet_relpatch_1xb20_cityscapes-512x1024.py: the rotation twin (same model, Adam 5e-4,
# ENet-weighted loss, 128x128 crops, 200 iterations on a CPU) with the relpatch encoder.
# SEGSSL_BACKBONE=<converted ERFNet>, SEGSSL_CLASS_WEIGHTS=<tools/compute_class_weights.py ...>.json
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

pretext_task = 'relpatch'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_relpatch_mmseg.pth}}'
model = dict(backbone=dict(init_cfg=dict(checkpoint=backbone_checkpoint)))

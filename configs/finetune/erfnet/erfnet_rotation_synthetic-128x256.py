# Synthetic twin of erfnet_rotation_1xb20_cityscapes-512x1024.py: the same model, optimiser (Adam 5e-4) and
# ENet-weighted loss on segssl's synthetic set (128x128 crops), 200 iterations, so it runs on a
# CPU. SEGSSL_BACKBONE=<converted ERFNet>, SEGSSL_CLASS_WEIGHTS=<tools/compute_class_weights.py
# DATA/cityscapes/gtFine/train --num-classes 19 --out ...>.json
_base_ = [
    '../../_base_/models/erfnet_transfer.py',
    '../../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../../_base_/schedules/synthetic_200it.py',
    '../../_base_/segssl_runtime.py',
]

pretext_task = 'rotation'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_rotation_mmseg.pth}}'
class_weight = '{{$SEGSSL_CLASS_WEIGHTS:work_dirs/class_weights/synthetic_enet.json}}'
model = dict(data_preprocessor=dict(size=(128, 128)),
             backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
             decode_head=dict(loss_decode=dict(class_weight=class_weight)))
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end={{_base_.max_iters}})]

# mmseg's ERFNet (+ FCNHead) on segssl's synthetic set, initialised from a seed-001 pretext
# checkpoint: the backbone (ERFNet layers 1-22: encoder and decoder) is loaded from
# SEGSSL_BACKBONE with prefix 'backbone.' (the layout of PretextClassifier checkpoints, which
# hold the encoder only, and of the Otsu / colorization EncoderDecoder checkpoints, which hold
# both). The pretext heads and the last layer are not loaded (the ERFNet thesis, 4.2). Adam 5e-4 and poly
# decay as the report; 200 iterations.
#   SEGSSL_BACKBONE=work_dirs/rotation/iter_100.pth python tools/train.py THIS_CONFIG
# A file written by tools/convert_checkpoint.py (plain ERFNet names, e.g. a rotation encoder
# spliced with an Otsu decoder) loads with --cfg-options model.backbone.init_cfg.prefix=None.
_base_ = [
    'mmseg::_base_/models/erfnet_fcn.py',
    '../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrain/erfnet_rotation_synthetic/iter_100.pth}}'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(norm_cfg=norm_cfg, init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint,
                                                   prefix='backbone.')),
    decode_head=dict(num_classes=19, norm_cfg=norm_cfg))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999),
                                                         weight_decay=0))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])

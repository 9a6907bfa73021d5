# The ERFNet thesis: ERFNet fine-tuned on Cityscapes (512x1024, Adam 5e-4, poly 0.9 per epoch, batch 20,
# ENet-weighted CE) from the 4-way rotation (0/90/180/270), Table 5.1's best (Cityscapes rotation-waug) encoder, converted with
#   python tools/convert_checkpoint.py PRETEXT.pth work_dirs/pretrained/erfnet_rotation_mmseg.pth --arch erfnet --to mmseg [--decoder-from DEC.pth]
#   SEGSSL_BACKBONE=work_dirs/pretrained/erfnet_rotation_mmseg.pth python tools/train.py THIS_CONFIG
_base_ = [
    '../../_base_/models/erfnet_transfer.py',
    '../../_base_/datasets/cityscapes_erfnet-512x1024.py',
    '../../_base_/schedules/erfnet_adam_poly_150ep.py',
    '../../_base_/segssl_runtime.py',
]
log_processor = dict(by_epoch=True)

pretext_task = 'rotation'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_rotation_mmseg.pth}}'
model = dict(data_preprocessor=dict(size=(512, 1024)),
             backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)))
# Launch shape 1xb20: the ERFNet report's segmentation global batch 20 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=20/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=20)

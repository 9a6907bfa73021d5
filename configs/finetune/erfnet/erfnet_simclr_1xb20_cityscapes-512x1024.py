# The ERFNet thesis: ERFNet fine-tuned on Cityscapes (512x1024, Adam 5e-4, poly 0.9 per epoch, batch 20,
# ENet-weighted CE) from the SimCLR encoder (3.2.7, lines ~255-269: NT-Xent tau 0.5 on the
# ERFNet encoder; configs/pretrain/erfnet_simclr_1xb128_cityscapes-extra.py). The projector is dropped
# and the decoder starts at its random init (SimCLR trains the encoder only; Section 4.2, line
# ~300). The report's number for this row is lost in its text (Table 5.1). The encoder is read
# straight from the SimCLR checkpoint (online_backbone.encoder.*, prefix below):
#   SEGSSL_BACKBONE=WORK_DIR/epoch_150.pth python tools/train.py THIS_CONFIG
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

pretext_task = 'simclr'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_simclr.pth}}'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint,
                                         prefix='online_backbone.')))

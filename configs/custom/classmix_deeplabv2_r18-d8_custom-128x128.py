# Your own data, ClassMix, CPU size (README, "Your own data"): the labelled set of
# supervised_deeplabv2_r18-d8_custom-128x128.py plus the unlabelled pool (unlabelled/, or
# without it images/train read without labels), mixed by ClassMix with an EMA teacher.
#   SEGSSL_DATA_ROOT=MYDATA python tools/train.py configs/custom/classmix_deeplabv2_r18-d8_custom-128x128.py
_base_ = ['../semi/classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py',
          '../_base_/datasets/custom_folder-128x128.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:none}}'   # none: random init
model = dict(segmentor=dict(
    data_preprocessor=dict(size={{_base_.custom_crop}}),
    backbone=dict(stem_channels=64, base_channels=64,
                  init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint)  # replaces the base's None
                  if backbone_checkpoint != 'none' else None),
    decode_head=dict(in_channels=512, num_classes={{_base_.custom.num_classes}})))
train_dataloader = dict(dataset=dict(labelled={{_base_.custom.labelled}}, unlabelled={{_base_.custom.unlabelled}}))
val_dataloader = dict(dataset={{_base_.custom.val}})
test_dataloader = val_dataloader

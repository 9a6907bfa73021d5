# Your own data, the supervised baseline, CPU size (README, "Your own data"): DeepLab-v2 on a
# ResNet-18 trained on images/train + labels/train (or SEGSSL_SPLIT's labelled ids), validated
# on images/val, num_classes from classes.txt. From scratch, or from a converted backbone:
#   SEGSSL_DATA_ROOT=MYDATA python tools/train.py configs/custom/supervised_deeplabv2_r18-d8_custom-128x128.py
#   SEGSSL_BACKBONE=r18_mmseg.pth (tools/convert_checkpoint.py of the PixPro template's run) ...
_base_ = ['../semi/supervised_deeplabv2_r18-d8_synthetic-1-8_64x128.py',
          '../_base_/datasets/custom_folder-128x128.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:none}}'   # none: random init
model = dict(
    data_preprocessor=dict(size={{_base_.custom_crop}}),
    backbone=dict(stem_channels=64, base_channels=64,             # a full ResNet-18, as PixPro's
                  init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint)  # replaces the base's None
                  if backbone_checkpoint != 'none' else None),
    decode_head=dict(in_channels=512, num_classes={{_base_.custom.num_classes}}))
train_dataloader = dict(dataset={{_base_.custom.labelled}})
val_dataloader = dict(dataset={{_base_.custom.val}})
test_dataloader = val_dataloader

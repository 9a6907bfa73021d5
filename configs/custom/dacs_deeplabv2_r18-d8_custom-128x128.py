# Your own data, DACS domain adaptation, CPU size (README, "Your own data"): the labelled source
# domain (source/images + source/labels) adapted to images/train (its labels unused), validated
# on images/val; classes.txt names the classes of both domains.
#   SEGSSL_DATA_ROOT=MYDATA python tools/train.py configs/custom/dacs_deeplabv2_r18-d8_custom-128x128.py
_base_ = ['../uda/dacs_deeplabv2_r18-d8_synthetic-source-to-cityscapes-64x128.py',
          '../_base_/datasets/custom_folder-128x128.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:none}}'   # none: random init
model = dict(segmentor=dict(
    data_preprocessor=dict(size={{_base_.custom_crop}}),
    backbone=dict(stem_channels=64, base_channels=64,
                  init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint)  # replaces the base's None
                  if backbone_checkpoint != 'none' else None),
    decode_head=dict(in_channels=512, num_classes={{_base_.custom.num_classes}})))
train_dataloader = dict(dataset=dict(labelled={{_base_.custom.source}}, unlabelled={{_base_.custom.target}}))
val_dataloader = dict(batch_size=1, dataset={{_base_.custom.val}})   # images of any size
test_dataloader = val_dataloader

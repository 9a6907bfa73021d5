# Your own data, DACS, GPU size (README, "Your own data"): the DACS report's protocol
# (DeepLab-v2 ResNet-101, 2 source + 2 target, 512x512 crops) from source/ to images/train.
_base_ = ['../uda/dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py',
          '../_base_/datasets/custom_folder-512x512.py']

model = dict(segmentor=dict(data_preprocessor=dict(size={{_base_.custom_crop}}),
                            decode_head=dict(num_classes={{_base_.custom.num_classes}})))
train_dataloader = dict(dataset=dict(labelled={{_base_.custom.source}}, unlabelled={{_base_.custom.target}}))
val_dataloader = dict(batch_size=1, dataset={{_base_.custom.val}})
test_dataloader = val_dataloader

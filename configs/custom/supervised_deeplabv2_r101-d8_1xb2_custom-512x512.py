# Your own data, the supervised baseline, GPU size (README, "Your own data"): the ClassMix
# report's DeepLab-v2 ResNet-101 (its start: SEGSSL_DEEPLABV2_START, README) on 512x512 crops,
# 40k iterations, 2 images a batch on one GPU, num_classes from classes.txt.
_base_ = ['../semi/supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py',
          '../_base_/datasets/custom_folder-512x512.py']

model = dict(data_preprocessor=dict(size={{_base_.custom_crop}}),
             decode_head=dict(num_classes={{_base_.custom.num_classes}}))
train_dataloader = dict(dataset={{_base_.custom.labelled}})
val_dataloader = dict(dataset={{_base_.custom.val}})
test_dataloader = val_dataloader

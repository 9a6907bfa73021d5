# Your own data, ClassMix, GPU size (README, "Your own data"): the ClassMix report's Cityscapes
# protocol (DeepLab-v2 ResNet-101, 40k iterations, 2 labelled + 2 unlabelled) on 512x512 crops.
_base_ = ['../semi/classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py',
          '../_base_/datasets/custom_folder-512x512.py']

model = dict(segmentor=dict(data_preprocessor=dict(size={{_base_.custom_crop}}),
                            decode_head=dict(num_classes={{_base_.custom.num_classes}})))
train_dataloader = dict(dataset=dict(labelled={{_base_.custom.labelled}}, unlabelled={{_base_.custom.unlabelled}}))
val_dataloader = dict(dataset={{_base_.custom.val}})
test_dataloader = val_dataloader

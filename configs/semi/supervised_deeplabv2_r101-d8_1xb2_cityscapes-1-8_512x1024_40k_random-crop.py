# The ClassMix/DACS thesis, Table 5.1 row "Random crop Baseline" (the report's mIoU 56.42): the supervised 1/8 Cityscapes
# baseline with random 512x512 crops of the 512x1024 images.
_base_ = ['./supervised_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']

model = dict(data_preprocessor=dict(size=(512, 512)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=1.0), dict(type='PackSegInputs')]))

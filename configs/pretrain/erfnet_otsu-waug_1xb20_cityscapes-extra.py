# The ERFNet thesis (3.2.6): Otsu clustering. Multilevel Otsu (4 classes, the report's maximum) on the grey
# image gives per-pixel labels; ERFNet (encoder + decoder, mmseg's ERFNet + FCNHead) learns them
# with cross-entropy, as semantic segmentation. Batch 20, Adam 5e-4, poly per epoch. The labels
# are computed on the whole image, then the report's augmentation moves them with it: random
# horizontal flip, translation and cropping (random rescale 1-1.5, 512 x 1024 crop).
# The encoder starts from the ImageNet-classification ERFNet encoder (the ERFNet thesis ~347: "All of
# the self-supervised methods are first initialized with an encoder pretrained on ImageNet
# classification"): SEGSSL_IMAGENET_ENCODER=FILE (default work_dirs/pretrained/
# erfnet_imagenet_mmseg.pth), or SEGSSL_IMAGENET_ENCODER=scratch for a random encoder.
_base_ = [
    '../_base_/models/erfnet_fcn_pretext.py',
    '../_base_/schedules/erfnet_pretext_adam_poly_150ep.py',
    '../_base_/segssl_runtime.py',
]

data_root = '{{$SEGSSL_DATA_ROOT:data}}/cityscapes/'
crop_size = (512, 1024)
otsu_classes = 4
augment = True
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(num_classes=otsu_classes, norm_cfg=norm_cfg))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='OtsuPretext', classes=otsu_classes),
    dict(type='RandomResize', scale=(1024, 512), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=20, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='leftImg8bit/train_extra'), pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
# Launch shape 1xb20: the ERFNet report's (encoder-decoder pretext) global batch 20 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=20/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=20)

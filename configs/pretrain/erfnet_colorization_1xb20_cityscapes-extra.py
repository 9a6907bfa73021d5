# The ERFNet thesis (3.2.5): colorization. RGB -> CIE L*a*b*; the L* channel tiled to 3 channels goes
# through ERFNet's encoder and decoder (mmseg's ERFNet + FCNHead, as mmseg's ERFNet config) and
# the head regresses (a*, b*) with MSE. Batch 20 (encoder-decoder tasks), Adam 5e-4, poly per
# epoch. Augmentation as the report lists it: random horizontal flip, translation and cropping
# (random rescale 1-1.5 then a 512 x 1024 crop), colour jitter before the Lab conversion.
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
augment = True
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(_delete_=True, type='ColorizationHead', in_channels=16, channels=128,
                     num_convs=1, concat_input=False, dropout_ratio=0.1, norm_cfg=norm_cfg,
                     align_corners=False, loss_weight=1.0))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(1024, 512), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='ColorizationPretext', ab_scale=128.0),   # (a*, b*) / 128: targets in ~[-1, 1]
    dict(type='PackColorizationInputs'),
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

# The ERFNet thesis (3.2.7, lines ~255-269): SimCLR on ERFNet's encoder. Two augmented views of each image
# ("random cropping with resizing to original size, random horizontal flipping, random color
# jitter, random grayscale, and gaussian blurring"), the encoder (layers 1-16) and the 3.1.2 head
# as projector (max-pool -> Linear 128 -> ReLU -> Linear 128), NT-Xent over the 2N views with
# tau = 0.5 (Eq. 3.5). Batch 128 (encoder-only tasks, 4.2), Adam 5e-4, poly per epoch. The encoder
# starts from the ImageNet-classification encoder (line ~347; SEGSSL_IMAGENET_ENCODER=FILE, or
# =scratch). Not in the report, our choices: the Cityscapes extended set (leftImg8bit/train_extra;
# the report's table of which dataset each task used is lost), the images at the report's 512 x 1024,
# square 512 x 512 views (TwoViewCrop's views are square; "original size" would be 512 x 1024),
# crop area 8-100 % and SimCLR's own colour distortion strength 1: jitter (0.8, 0.8, 0.8, 0.2)
# with p 0.8, grey p 0.2, blur p 0.5 with a 51 px kernel (10 % of the view), sigma 0.1-2.
# Fine-tune: configs/finetune/erfnet/erfnet_simclr_1xb20_cityscapes-512x1024.py.
_base_ = [
    '../_base_/models/erfnet_simclr.py',
    '../_base_/schedules/erfnet_pretext_adam_poly_150ep.py',
    '../_base_/segssl_runtime.py',
]

data_root = '{{$SEGSSL_DATA_ROOT:data}}/cityscapes/'
view_size = 512
augment = True
color = dict(type='ViewColorAugment', jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8,
             hue=0.2, grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0), blur_kernel_size=51,
             solarize_prob=0.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    color,
    dict(type='PackPixelViews'),
]
train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='leftImg8bit/train_extra'), pipeline=train_pipeline))
# Launch shape 1xb128: the ERFNet report's (encoder-only pretext) global batch 128 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=128/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=128)

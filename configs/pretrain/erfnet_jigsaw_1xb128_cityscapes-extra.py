# The ERFNet thesis (3.2.3): jigsaw. A random region (a 512 x 512 crop of the 512 x 1024 image, after a
# random horizontal flip) resized to 225 x 225, cut into 3 x 3 cells of 75 px with a 64 x 64 tile
# at a random place in each; tiles shuffled by one of 100 permutations chosen for maximal average
# Hamming distance (the report leaves the count open: Noroozi's 100); colour jitter on each tile
# separately. Siamese ERFNet encoder per tile, concatenation -> FC 4096 -> ReLU -> FC 100.
# The encoder starts from the ImageNet-classification ERFNet encoder (the ERFNet thesis ~347: "All of
# the self-supervised methods are first initialized with an encoder pretrained on ImageNet
# classification"): SEGSSL_IMAGENET_ENCODER=FILE (default work_dirs/pretrained/
# erfnet_imagenet_mmseg.pth), or SEGSSL_IMAGENET_ENCODER=scratch for a random encoder.
_base_ = [
    '../_base_/models/erfnet_pretext_classifier.py',
    '../_base_/schedules/erfnet_pretext_adam_poly_150ep.py',
    '../_base_/segssl_runtime.py',
]

data_root = '{{$SEGSSL_DATA_ROOT:data}}/cityscapes/'
num_permutations = 100
augment = True
model = dict(task='jigsaw', num_classes=num_permutations, hidden_channels=4096, num_tiles=9)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='Resize', scale=(225, 225), keep_ratio=False),
    dict(type='JigsawPretext', num_permutations=num_permutations, permutation_seed=0, grid=3,
         cell=75, tile=64, tile_pipeline=[dict(type='PhotoMetricDistortion')]),
    dict(type='PackPretextInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='leftImg8bit/train_extra'), pipeline=train_pipeline))
# Launch shape 1xb128: the ERFNet report's (encoder-only pretext) global batch 128 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=128/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=128)

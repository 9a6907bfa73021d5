# The SimCLR report, SimCLR on CIFAR-10 (32 x 32): ResNet-34 with the 3x3 stride-1 stem and no max-pool,
# projector Linear-BN-ReLU-Linear, NT-Xent tau 0.5, Adam + 10 warm-up epochs + cosine restarts
# every 50 epochs, 300 epochs. Gaussian blur OFF for 32 px images (the report, after SimCLR).
# The report gives no batch size: 256 here (our choice; it stresses that larger is better).
# CIFAR-10's train images are read as an image folder, data/cifar10/train/<class>/*.png, which
#   python tools/export_cifar10.py cifar-10-python.tar.gz --out data/cifar10
# writes from the python pickles. Converted checkpoints load into ResNet3x3Stem backbones.
_base_ = [
    '../_base_/models/simclr_r34-3x3stem.py',
    '../_base_/schedules/simclr_adam_300ep.py',
    '../_base_/segssl_runtime.py',
]

data_root = 'data/cifar10/'
view_size = 32
blur = False                  # the per-dataset switch: False for 32 px, True for 64 px and up
# SimCLR's colour distortion (strength 1): jitter (0.8, 0.8, 0.8, 0.2) with p 0.8, grey p 0.2;
# blur p 0.5 when on (kernel about 10 % of the view, sigma U(0.1, 2.0)); the same for both views.
color = dict(type='ViewColorAugment', jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8,
             hue=0.2, grayscale_prob=0.2, blur_prob=0.5 if blur else 0.0, blur_sigma=(0.1, 2.0),
             blur_kernel_size=3, solarize_prob=0.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    color,
    dict(type='PackPixelViews'),
]
train_dataloader = dict(
    batch_size=256, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnlabelledImageFolder', data_root=data_root,
                 data_prefix=dict(img_path='train'), pipeline=train_pipeline))
# Launch shape 1xb256: the SimCLR report's global batch 256 on one GPU (mmseg's {gpus}xb{batch per GPU}).
# On N GPUs set train_dataloader.batch_size=256/N to keep it; --auto-scale-lr scales the lr instead.
auto_scale_lr = dict(enable=False, base_batch_size=256)

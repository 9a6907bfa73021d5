# The SimCLR report, SimCLR on the animal subset of iNaturalist, images resized to 64 x 64 beforehand (the
# seed), Gaussian blur ON (kernel 7, about 10 % of 64 px). Otherwise as the CIFAR-10 config.
_base_ = ['./simclr_r34-3x3stem_1xb256_cifar10-32px.py']

data_root = 'data/inaturalist_animals_64/'
view_size = 64
color = dict(type='ViewColorAugment', jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8,
             hue=0.2, grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0), blur_kernel_size=7,
             solarize_prob=0.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TwoViewCrop', size=view_size, scale=(0.08, 1.0), flip_prob=0.5),
    color,
    dict(type='PackPixelViews'),
]
train_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=dict(img_path='train'),
                                     pipeline=train_pipeline))

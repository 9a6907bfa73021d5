# The ClassMix/DACS thesis, Table 5.1 row "Extra augmentations" (the report's mIoU 61.85): the default ClassMix run at 1/8 of
# Cityscapes (372 labels) with this one change.
_base_ = ['./classmix_deeplabv2_r101-d8_1xb2_cityscapes-1-8_512x1024_40k.py']

# colour jitter and Gaussian blur after mixing, each with probability 0.5 per unlabelled batch
model = dict(strong_aug=dict(_delete_=True, jitter_p=0.5, jitter_strength=0.25, blur_p=0.5, blur_sigma=(0.15, 1.15),
                             blur_kernel_fraction=0.1))

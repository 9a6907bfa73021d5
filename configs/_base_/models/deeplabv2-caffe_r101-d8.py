# The ClassMix/DACS report's DeepLab-v2 as the reference code builds it (caffe-style ResNet-101,
# ceil-mode max-pool, frozen BN affine, BGR 0-255 minus the ImageNet BGR mean, align_corners=True
# upsampling), started from the official DeepLab-v2 init converted with
#   python tools/convert_checkpoint.py DeepLab_resnet_pretrained_init-f81d91e8.pth \
#       work_dirs/pretrained/deeplabv2_init_mmseg.pth --to mmseg
# and named by SEGSSL_BACKBONE. Its parts are in deeplabv2_start-caffe.py (also applied per
# dataset by the semi/ and uda/ configs).
_base_ = ['./deeplabv2_r101-d8.py', './deeplabv2_start-caffe.py']

model = {{_base_.deeplabv2_start}}

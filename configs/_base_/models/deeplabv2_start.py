# How every ClassMix/DACS report config (configs/semi/*r101*, configs/uda/*r101*) starts its
# DeepLab-v2; a co-base next to the model, applied by the leaf as
# `model = {{_base_.deeplabv2_start_<cityscapes|voc|uda>}}`:
#   SEGSSL_DEEPLABV2_START=caffe        (default) the official DeepLab-v2 init, as in the report:
#                                       deeplabv2_start-caffe.py
#   SEGSSL_DEEPLABV2_START=torchvision  an ImageNet ResNet-101 in torchvision layout:
#                                       deeplabv2_start-torchvision.py
# SEGSSL_BACKBONE names the converted file of the chosen start.
_base_ = ['./deeplabv2_start-{{$SEGSSL_DEEPLABV2_START:caffe}}.py']

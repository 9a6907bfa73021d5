# The ERFNet thesis's ERFNet (Table 3.1): mmseg's ERFNet backbone = layers 1-22 (encoder 1-16, decoder
# 17-22), segssl's ERFNetOutputHead = layer 23 (ConvTranspose2d 16 -> C, stride 2), built fresh
# ("last layer replaced"). Initialised from a converted ERFNet named by SEGSSL_BACKBONE:
#   python tools/convert_checkpoint.py ENC.pth work_dirs/pretrained/erfnet_mmseg.pth --arch erfnet \
#       --to mmseg [--decoder-from DEC.pth]
# (an encoder-only file leaves the decoder at its random init). Loss: cross entropy with ENet
# class weights (seed Eq. 4.1) read from SEGSSL_CLASS_WEIGHTS, a JSON list written by
#   python tools/compute_class_weights.py DATA/gtFine/train --num-classes 19 --out work_dirs/class_weights/cityscapes_enet
_base_ = ['mmseg::_base_/models/erfnet_fcn.py']

backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_mmseg.pth}}'
class_weight = '{{$SEGSSL_CLASS_WEIGHTS:work_dirs/class_weights/cityscapes_enet.json}}'
num_classes = 19
model = dict(
    # mmseg's base has init_cfg=None: _delete_ replaces it by the Pretrained loader
    backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        _delete_=True, type='ERFNetOutputHead', in_channels=16, num_classes=num_classes,
        align_corners=False,
        # torch's weighted-mean CE (mmseg 1.2.2's CrossEntropyLoss fails on ignored pixels
        # when given class weights: see segssl/mmseg/class_weighted_ce.py)
        loss_decode=dict(type='ClassWeightedCrossEntropyLoss', class_weight=class_weight,
                         loss_weight=1.0)))

# The ERFNet thesis's encoder-decoder pretext network (Otsu clustering, colorization): mmseg's ERFNet +
# FCNHead (mmseg's own ERFNet config), the encoder started from the ImageNet-classification
# ERFNet encoder, "All of the self-supervised methods are first initialized with an encoder
# pretrained on ImageNet classification" (the ERFNet thesis Section 5.1, line ~347). The decoder keeps
# its random initialisation (an ImageNet classifier has none): PretrainedERFNetEncoder loads
# encoder.* only, from SEGSSL_IMAGENET_ENCODER (default below).
# SEGSSL_IMAGENET_ENCODER=scratch starts from a random encoder instead.
_base_ = ['mmseg::_base_/models/erfnet_fcn.py']

imagenet_encoder = '{{$SEGSSL_IMAGENET_ENCODER:work_dirs/pretrained/erfnet_imagenet_mmseg.pth}}'
model = dict(backbone=dict(
    # mmseg's base has init_cfg=None: _delete_ replaces it by the encoder loader
    init_cfg=None if imagenet_encoder == 'scratch' else
    dict(_delete_=True, type='PretrainedERFNetEncoder', checkpoint=imagenet_encoder)))

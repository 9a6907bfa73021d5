"""The ResNet of the official DeepLab-v2 network (the ClassMix/DACS report's reference code) as
an mmseg backbone: mmseg's ``ResNet`` with ``style='caffe'`` (each block's stride in its first
1x1 conv), whose stem max-pool rounds up (``ceil_mode=True``) as the reference network's does.
A 512x1024 input then gives 65x129 logits instead of 64x128, so the weights are used on the
same grid as in the reference code (and its align_corners=True upsampling fits that grid).

The rest of the reference network is configuration of mmseg's own ResNet
(configs/_base_/models/deeplabv2-caffe_r101-d8.py): stages 3-4 stride 1 with dilation 2 and 4,
every first block with a downsample (mmseg builds it whenever the channels change), and BN whose
affine parameters are not trained while its running statistics are
(``norm_cfg=dict(..., requires_grad=False)``, ``norm_eval=False``). Parameter names are
torchvision's, so the converted official init (``convert_checkpoint.py INIT.pth OUT.pth --to
mmseg``) loads through ``init_cfg=dict(type='Pretrained', checkpoint=OUT.pth)``.
"""
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS


@MODELS.register_module()
class DeepLabV2ResNet(ResNet):
    """mmseg ``ResNet`` whose stem max-pool uses ``ceil_mode`` (default True, the reference's).

    Args:
        maxpool_ceil_mode (bool): round the stem max-pool's output size up.
        Other arguments as mmseg's ``ResNet``; the DeepLab-v2 network uses
        ``style='caffe'``, which is the default here.
    """

    def __init__(self, *args, maxpool_ceil_mode=True, style='caffe', **kwargs):
        if kwargs.get('deep_stem'):
            raise ValueError('DeepLabV2ResNet: deep_stem=True is not the DeepLab-v2 stem '
                             '(a single 7x7 conv); use mmseg\'s ResNetV1c for it')
        self.maxpool_ceil_mode = bool(maxpool_ceil_mode)
        super().__init__(*args, style=style, **kwargs)

    def _make_stem_layer(self, in_channels, stem_channels):
        super()._make_stem_layer(in_channels, stem_channels)
        self.maxpool.ceil_mode = self.maxpool_ceil_mode

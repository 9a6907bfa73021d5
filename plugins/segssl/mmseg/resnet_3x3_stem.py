"""The SimCLR report's ResNet variant as an mmseg backbone: the 7x7 stride-2 stem convolution replaced by a
3x3 stride-1 one and the max-pool removed (the SimCLR report, "Backbone Encoder"), so a 32-64 px image
keeps 4x more resolution through the network. Everything else is mmseg's ResNet (any depth,
dilations, out_indices, norm_cfg, init_cfg), and the parameter names are mmseg's / torchvision's
(``conv1.weight`` is (stem_channels, 3, 3, 3)), so ``segssl.convert`` writes checkpoints for it
(``--to mmseg`` on a 3x3-stem encoder) and ``init_cfg=dict(type='Pretrained', ...)`` loads them.

    backbone=dict(type='ResNet3x3Stem', depth=34, style='pytorch', out_indices=(3,))
"""
import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS


@MODELS.register_module()
class ResNet3x3Stem(ResNet):
    """mmseg ``ResNet`` with conv1 3x3 / stride 1 / padding 1 and no max-pool. Output strides are
    (1, 2, 4, 8) for stages 1-4 instead of (4, 8, 16, 32) (before any dilation)."""

    def __init__(self, *args, **kwargs):
        if kwargs.get('deep_stem'):
            raise ValueError('ResNet3x3Stem: deep_stem=True is a different stem; use mmseg\'s '
                             'ResNet(deep_stem=True) or ResNetV1c for it')
        super().__init__(*args, **kwargs)

    def _make_stem_layer(self, in_channels, stem_channels):
        super()._make_stem_layer(in_channels, stem_channels)
        self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels, kernel_size=3, stride=1, padding=1,
                                      bias=False)
        self.maxpool = nn.Identity()

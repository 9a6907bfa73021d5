"""ERFNet's last layer as an mmseg decode head (the ERFNet thesis Table 3.1, layer 23; Romera et al.).

    logits = ConvTranspose2d(16, K, kernel 2, stride 2)(x)

mmseg's ``ERFNet`` backbone ends at the 16-channel decoder features at 1/2 resolution
(N, 16, H/2, W/2); the original network's ``decoder.output_conv`` upsamples them to
(N, K, H, W) class logits. mmseg's own ERFNet config puts an ``FCNHead`` there instead; this
head is the report's layer. The layer the report "replaces" when transferring is this one: it is
built fresh for the config's ``num_classes``.
"""
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class ERFNetOutputHead(BaseDecodeHead):
    """Args: ``in_channels`` (16 for ERFNet), ``num_classes`` (K); other BaseDecodeHead
    arguments as usual (``channels`` is unused and defaults to ``in_channels``; no dropout by
    default, as the original output layer)."""

    def __init__(self, **kwargs):
        kwargs.setdefault('channels', kwargs.get('in_channels', 16))
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(**kwargs)
        self.conv_seg = nn.ConvTranspose2d(self.in_channels, self.out_channels, 2, stride=2)

    def forward(self, inputs):
        """inputs: backbone outputs; the ``in_index`` one (N, C, h, w) -> (N, K, 2h, 2w)."""
        return self.cls_seg(self._transform_inputs(inputs))

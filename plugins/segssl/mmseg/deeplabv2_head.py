"""DeepLab-v2's ASPP classifier (the ClassMix/DACS thesis; Chen et al. 2017), which mmseg does not ship.

    logits = sum_r conv3x3_r(x),   r in (6, 12, 18, 24)

Four 3x3 convolutions with dilation r, each from the backbone's last stage (N, C_in, H, W)
straight to (N, num_classes, H, W) class logits, summed. Unlike DeepLab-v3's ASPP there are no
BN/ReLU, no image pooling, no concatenation and no separate 1x1 classifier.

``sum_first_two=True`` matches the public reference code's numbers: its classifier returns from
inside the summation loop, so its logits are ``conv3x3_6(x) + conv3x3_12(x)`` while the report
describes all four summed. The other branches then get no gradient there; here they are frozen
(``requires_grad=False``), which is the same for SGD and lets DDP skip them.
"""
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class DeepLabV2Head(BaseDecodeHead):
    """Args:
        dilations: the ASPP rates (the ClassMix/DACS thesis: 6, 12, 18, 24).
        in_channels: C_in of the last backbone stage (2048 for ResNet-50/101).
        num_classes: output channels of each branch.
        sum_first_two: sum only the first two branches, as the public reference code does
            (default False: all of them, as the report describes).
        Other BaseDecodeHead arguments as usual; ``channels`` is unused by this head (the
        branches map to classes directly) and defaults to num_classes.
    """

    def __init__(self, dilations=(6, 12, 18, 24), sum_first_two=False, **kwargs):
        kwargs.setdefault('channels', kwargs.get('num_classes', 19))
        kwargs.setdefault('dropout_ratio', 0.0)  # DeepLab-v2's classifier has no dropout
        # DeepLab-v2 initialises its classifier N(0, 0.01), bias 0.
        kwargs.setdefault('init_cfg', dict(type='Normal', std=0.01, override=dict(name='aspp')))
        super().__init__(**kwargs)
        if not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError(f'DeepLabV2Head dilations={dilations!r}: expected positive rates')
        self.dilations = tuple(int(d) for d in dilations)
        self.aspp = nn.ModuleList(
            nn.Conv2d(self.in_channels, self.out_channels, 3, padding=d, dilation=d, bias=True) for d in self.dilations)
        self.conv_seg = None  # the branches are the classifier
        self.summed = 2 if sum_first_two else len(self.aspp)
        for branch in self.aspp[self.summed:]:
            branch.requires_grad_(False)

    def forward(self, inputs):
        """inputs: backbone outputs; the ``in_index`` one is (N, C_in, H, W) -> (N, K, H, W)."""
        x = self._transform_inputs(inputs)
        if self.dropout is not None:
            x = self.dropout(x)
        out = self.aspp[0](x)
        for branch in self.aspp[1:self.summed]:
            out = out + branch(x)
        return out

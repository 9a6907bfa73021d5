"""The SimCLR report's fine-tuning decoder: two bilinear up-sampling blocks (no transposed convolutions,
to avoid their checkerboard artefacts)."""

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


@MODELS.register_module()
class TwoBlockUpsampleHead(BaseDecodeHead):
    """The SimCLR report, "Decoder": block 1 = conv -> BN -> ReLU -> dropout -> bilinear up-sampling;
    block 2 = conv -> bilinear up-sampling "to the desired resolution".

        x (N, C_in, h, w)
        -> ConvModule(C_in, channels, kernel_size) (conv, BN, ReLU) -> Dropout(dropout_ratio)
        -> bilinear x first_scale                                   (N, channels, 2h, 2w)
        -> conv_seg: Conv(channels, num_classes, seg_kernel_size)
        -> bilinear x output_stride / first_scale                   (N, K, h * output_stride, ...)

    With the report's encoder (ResNet-34, 3x3 stride-1 first layer, no max-pool: output stride 8)
    the two factors are 2 and 4, so the logits come out at the input resolution. The report gives
    neither kernel sizes nor widths: 3 x 3 for block 1, 1 x 1 for block 2 (mmseg's ``conv_seg``),
    ``channels`` from the config (256 by default in our configs).

    Args:
        output_stride (int): input size / feature size; the head's total up-sampling factor.
        first_scale (int): block 1's factor (2). Block 2's is ``output_stride / first_scale``.
        kernel_size (int): block 1's conv kernel (3). seg_kernel_size (int): block 2's (1).
        **kwargs: BaseDecodeHead's (``in_channels``, ``channels``, ``num_classes``,
            ``dropout_ratio`` = block 1's dropout, ``norm_cfg``, ``align_corners``, losses...).
    """

    def __init__(self, output_stride: int = 8, first_scale: int = 2, kernel_size: int = 3, seg_kernel_size: int = 1,
                 **kwargs):
        kwargs.setdefault('norm_cfg', dict(type='BN', requires_grad=True))  # the report's BN
        super().__init__(**kwargs)
        if output_stride % first_scale or output_stride < first_scale or first_scale < 1:
            raise ValueError(f'TwoBlockUpsampleHead: output_stride={output_stride}, first_scale='
                             f'{first_scale}: expected first_scale to divide output_stride')
        if kernel_size % 2 == 0 or seg_kernel_size % 2 == 0:
            raise ValueError(f'TwoBlockUpsampleHead: kernel sizes {kernel_size}, {seg_kernel_size}: '
                             'expected odd sizes (same-size convolutions)')
        self.output_stride, self.first_scale = int(output_stride), int(first_scale)
        self.block1 = ConvModule(self.in_channels, self.channels, kernel_size, padding=kernel_size // 2,
                                 conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        if seg_kernel_size != 1:
            self.conv_seg = torch.nn.Conv2d(self.channels, self.out_channels, seg_kernel_size,
                                            padding=seg_kernel_size // 2)

    def _up(self, x: torch.Tensor, factor: int) -> torch.Tensor:
        if factor == 1:
            return x
        return resize(x, size=(x.shape[2] * factor, x.shape[3] * factor), mode='bilinear',
                      align_corners=self.align_corners)

    def forward(self, inputs) -> torch.Tensor:
        x = self.block1(self._transform_inputs(inputs))
        if self.dropout is not None:
            x = self.dropout(x)
        x = self._up(x, self.first_scale)
        return self._up(self.conv_seg(x), self.output_stride // self.first_scale)

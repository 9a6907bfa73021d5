"""Colorization decode head: mmseg's FCNHead regressing (a*, b*) with MSE (the ERFNet thesis, 3.2.5)."""
from typing import List

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads import FCNHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


@MODELS.register_module()
class ColorizationHead(FCNHead):
    """FCNHead with two output channels (a*, b*) and the loss

        L = loss_weight * mean over (N, 2, H, W) of (y_hat - y)^2

    against ``data_sample.gt_ab`` (PixelData (2, H, W), from PackColorizationInputs); the
    prediction is resized bilinearly to the target size first, as mmseg's heads do for labels.
    Everything but ``conv_seg`` (2 outputs) transfers to a segmentation FCNHead.

    Args:
        loss_weight (float): scale of the MSE. Other arguments: mmseg's FCNHead
            (``num_classes`` is fixed to 2).
    """

    def __init__(self, loss_weight: float = 1.0, **kwargs):
        kwargs.pop('num_classes', None)
        kwargs.pop('out_channels', None)
        super().__init__(num_classes=2, out_channels=2, **kwargs)
        self.loss_weight = float(loss_weight)

    def loss_by_feat(self, seg_logits: torch.Tensor, batch_data_samples: List) -> dict:
        if any('gt_ab' not in s for s in batch_data_samples):
            raise KeyError('ColorizationHead: data samples lack "gt_ab" (pack with '
                           'PackColorizationInputs after ColorizationPretext)')
        # the loss in float32 whatever the logits' dtype (AMP): the a*b* targets are not rounded
        target = torch.stack([s.gt_ab.data for s in batch_data_samples
                              ]).to(device=seg_logits.device,
                                    dtype=torch.promote_types(seg_logits.dtype, torch.float32))
        pred = resize(seg_logits.to(target.dtype), size=target.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)
        return dict(loss_mse=self.loss_weight * F.mse_loss(pred, target))

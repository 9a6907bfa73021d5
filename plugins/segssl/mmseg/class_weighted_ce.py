"""Class-weighted cross entropy as PyTorch (and the ERFNet thesis's ERFNet training) computes it.

    L = sum_i w_{y_i} (-log p_{i, y_i}) / sum_i w_{y_i},   i over pixels with y_i != ignore

This is ``torch.nn.CrossEntropyLoss(weight=w, ignore_index=255)``, the loss erfnet_pytorch
trains with, with w the ENet weights (the ERFNet thesis Eq. 4.1; tools/compute_class_weights.py). Why
not mmseg's ``CrossEntropyLoss(class_weight=...)``: in mmseg 1.2.2 its mean reduction indexes
the class weights with every label, ignore pixels included, and fails with ``IndexError: index
255 is out of bounds`` as soon as a label map holds an ignored pixel (every Cityscapes one).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.losses.utils import get_class_weight
from mmseg.registry import MODELS


@MODELS.register_module()
class ClassWeightedCrossEntropyLoss(nn.Module):
    """Args:
        class_weight (list[float] | str): w, K values or a file mmseg's ``get_class_weight``
            reads (the JSON list of tools/compute_class_weights.py).
        loss_weight (float): factor on the loss.
        loss_name (str): key in the loss dict (must start with ``loss_``).
    """

    def __init__(self, class_weight, loss_weight=1.0, loss_name='loss_ce'):
        super().__init__()
        self.class_weight = [float(w) for w in get_class_weight(class_weight)]
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, cls_score, label, weight=None, ignore_index=255, **kwargs):
        """cls_score (N, K, H, W) logits, label (N, H, W) class ids; ``weight`` (N, H, W)
        optional per-pixel factor (mmseg's seg_weight). Returns the scalar loss."""
        w = cls_score.new_tensor(self.class_weight)
        if w.numel() != cls_score.shape[1]:
            raise ValueError(f'class_weight has {w.numel()} values, the logits {cls_score.shape[1]} classes')
        per_pixel = F.cross_entropy(cls_score, label, weight=w, reduction='none', ignore_index=ignore_index)
        valid = label != ignore_index
        denom = torch.where(valid, w[label.clamp(0, w.numel() - 1)], torch.zeros_like(per_pixel))
        if weight is not None:
            per_pixel, denom = per_pixel * weight, denom * weight
        return self.loss_weight * per_pixel.sum() / denom.sum().clamp_min(1e-12)

    @property
    def loss_name(self):
        return self._loss_name

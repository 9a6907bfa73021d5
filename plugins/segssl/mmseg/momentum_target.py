"""The online / target pair of the momentum SSL models, BYOL (image_ssl.py) and PixPro
(pixpro.py), written once.

The target branch (f_xi + g_xi) is a frozen deep copy of the online backbone + projector
(f_theta + g_theta). It starts as a copy of them in :meth:`MomentumTargetModel.init_weights`,
after the online branch's own initialisation (a pretrained encoder included), and follows them by

    xi <- m xi + (1 - m) theta       (parameters; MomentumUpdateHook sets m on a cosine schedule)

Checkpoint names (what ``segssl.convert`` reads): ``online_backbone.*``, ``online_projector.*``,
``target_backbone.*``, ``target_projector.*``.
"""
import copy
from typing import Optional

import torch
from mmengine.model import BaseModel

from segssl.core import convert_to_momentum_bn, ema_update


class MomentumTargetModel(BaseModel):
    """Base of the models with ``online_backbone`` / ``online_projector`` and their EMA target.

    A subclass builds the online modules in its ``__init__`` and then calls :meth:`build_target`.
    """

    def build_target(self, copy_buffers_at_init: bool, momentum_bn: Optional[dict] = None) -> None:
        """``target_backbone`` / ``target_projector``: deep copies of the online modules, no grad.

        Args:
            copy_buffers_at_init: what :meth:`init_weights` copies from the online branch: its
                parameters and floating buffers (BN running statistics) if True, its parameters
                only if False. BYOL: True (a pretrained online encoder's target starts with its
                BN statistics too). PixPro: False, as the official code (zdaxie/PixPro,
                ``contrast/models/PixPro.py`` copies ``encoder.parameters()`` and
                ``projector.parameters()`` into the key branch, nothing else): the target's
                statistics are its own, from its own batches (with Momentum BN its first batch
                sets them).
            momentum_bn: None, or the kwargs of core.convert_to_momentum_bn (``stat_momentum``)
                to give the target Momentum BN (the PixPro thesis eq. 2.8).
        """
        self.copy_buffers_at_init = bool(copy_buffers_at_init)
        self.target_backbone = copy.deepcopy(self.online_backbone)
        self.target_projector = copy.deepcopy(self.online_projector)
        if momentum_bn is not None:
            self.target_backbone = convert_to_momentum_bn(self.target_backbone, **momentum_bn)
            self.target_projector = convert_to_momentum_bn(self.target_projector, **momentum_bn)
        for p in list(self.target_backbone.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad_(False)

    def init_weights(self):
        super().init_weights()
        # the target starts as a copy of the (possibly pretrained) online branch
        ema_update(self.target_backbone, self.online_backbone, 0.0, buffers=self.copy_buffers_at_init)
        ema_update(self.target_projector, self.online_projector, 0.0, buffers=self.copy_buffers_at_init)

    @torch.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """xi <- m xi + (1 - m) theta over the target backbone's and projector's parameters."""
        ema_update(self.target_backbone, self.online_backbone, momentum)
        ema_update(self.target_projector, self.online_projector, momentum)

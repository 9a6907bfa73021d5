"""PixPro-style pixel-level pretraining as an mmengine model (the PixPro thesis, PixPro).

Online branch: backbone -> projector -> propagation head (PPM / LocalPPM / self-attention) -> y.
Target branch: EMA copies of backbone and projector (optionally with Momentum BN), no gradient
-> x'. Both views pass through both branches; the loss is core.pixel_consistency_loss with the
positive pairs from each view's crop box, flip and (affine view) inverse warp.

Checkpoint layout (what segssl.convert reads): ``online_backbone.*`` (the encoder to transfer),
``target_backbone.*``, ``online_projector.*``, ``target_projector.*``, ``head.*``.
"""
from typing import List, Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmseg.registry import MODELS

from segssl.core import (LocalPixelPropagation, PixelPropagation, SelfAttentionPropagation, affine_matrix,
                         compose_affine, invert_affine, lattice_from_boxes, pixel_consistency_loss,
                         random_affine_params, warp_images)

from .momentum_target import MomentumTargetModel
from .stacked_preprocessor import StackedImagesPreProcessor

HEADS = {'ppm': PixelPropagation, 'local_ppm': LocalPixelPropagation, 'self_attention': SelfAttentionPropagation}


@MODELS.register_module()
class PixelViewsDataPreProcessor(StackedImagesPreProcessor):
    """Stacks PackPixelViews' (4, 3, H, W) uint8 inputs into (N, 4, 3, H, W) float, converts BGR
    to RGB and normalises with ``mean``/``std`` (0-255 units, RGB order). ``num_views``: the V of
    (V, 3, H, W) inputs (4 for PackPixelViews; 1 + p for PackFrameClip's video clips)."""

    def __init__(self, mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), bgr_to_rgb=True,
                 num_views: int = 4):
        super().__init__(mean, std, bgr_to_rgb)
        self.num_views = num_views

    def check_inputs(self, x: torch.Tensor) -> None:
        if x.dim() != 5 or x.shape[1] != self.num_views or x.shape[2] != 3:
            raise ValueError(f'PixelViewsDataPreProcessor: expected inputs (N, {self.num_views}, 3, H, W) '
                             f'(num_views={self.num_views}), got {tuple(x.shape)}')


def build_projector(in_channels: int, hidden_channels: int = 4096, out_channels: int = 256,
                    norm_cfg: Optional[dict] = None) -> nn.Sequential:
    """PixPro's projector: 1x1 conv C->hidden, norm, ReLU, 1x1 conv hidden->out. ``norm_cfg``: an
    mmcv norm config built by mmcv's build_norm_layer, as mmseg's backbones do ('BN' default,
    'SyncBN', 'GN' with num_groups, ...)."""
    _, norm = build_norm_layer(norm_cfg or dict(type='BN'), hidden_channels)
    return nn.Sequential(nn.Conv2d(in_channels, hidden_channels, 1), norm, nn.ReLU(inplace=True),
                         nn.Conv2d(hidden_channels, out_channels, 1))


@MODELS.register_module()
class PixPro(MomentumTargetModel):
    """Args:
        backbone: mmseg backbone config (e.g. ResNet(style='pytorch', out_indices=(3,)); the
            dilated conv5 variant sets strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)).
        projector: dict(in_channels, hidden_channels=4096, out_channels=256, norm_cfg).
        head: dict(type='ppm' | 'local_ppm' | 'self_attention', **kwargs of that head); the
            ``channels`` argument is filled from the projector's output.
        tau: positive-pair threshold (0.7). loss_weight: scale of the loss (PixPro code: 2).
        momentum_bn: None, or dict(stat_momentum=a) to give the target branch Momentum BN.
            The target starts as a copy of the online parameters only, as the official code
            (see MomentumTargetModel.build_target).
        dense_loss: None (default): dense (HW x HW) matching for maps up to 21x21, sparse above
            (core.pixpro_loss.DENSE_MAX_PAIRS); True / False force one.
        batch_affine: None, or dict(view=0, degrees=45, translate=(100, 100), shear=(10, 0)):
            the PixPro thesis's "random affine per batch": in training, ONE random affine (rotation,
            translation, x-shear drawn as core.random_affine_params) warps both copies of that
            view for the whole batch, and its inverse is composed into each sample's recorded
            view warp, so matching stays exact. (The AffineView transform draws per sample.)
            Outside the image it fills 0 in normalised space, i.e. the mean colour.
    """

    def __init__(self, backbone: dict, projector: dict, head: dict, tau: float = 0.7, loss_weight: float = 1.0,
                 momentum_bn: Optional[dict] = None, dense_loss: Optional[bool] = None,
                 batch_affine: Optional[dict] = None, data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='PixelViewsDataPreProcessor'),
                         init_cfg=init_cfg)
        self.online_backbone = MODELS.build(backbone)
        self.online_projector = build_projector(**projector)
        head = dict(head)
        kind = head.pop('type')
        if kind not in HEADS:
            raise ValueError(f'PixPro head type={kind!r}: expected one of {sorted(HEADS)}')
        self.head = HEADS[kind](projector.get('out_channels', 256), **head)
        self.build_target(copy_buffers_at_init=False, momentum_bn=momentum_bn)
        self.tau, self.loss_weight, self.dense_loss = tau, loss_weight, dense_loss
        self.batch_affine = dict(batch_affine) if batch_affine is not None else None
        if self.batch_affine is not None and self.batch_affine.get('view', 0) not in (0, 1):
            raise ValueError(f"PixPro batch_affine view={self.batch_affine['view']!r}: expected 0 or 1")

    def _online(self, x):
        return self.head(self.online_projector(self.online_backbone(x)[-1]))

    @torch.no_grad()
    def _target(self, x):
        return self.target_projector(self.target_backbone(x)[-1])

    @staticmethod
    def _lattices(data_samples, height, width, device):
        """Each view's feature lattice, on the features' device (the matching gathers from them).
        Built on the CPU from the host-side boxes first and then moved: the lattice keeps its CPU
        geometry, from which the sparse matching sizes its window without a device sync."""

        def stacked(key, dtype):
            return torch.stack([torch.as_tensor(getattr(s, key), dtype=dtype) for s in data_samples])

        boxes, flips = stacked('view_boxes', torch.float64), stacked('view_flips', torch.bool)
        warps = stacked('view_warps', torch.float64)
        view_size = tuple(data_samples[0].view_size)
        return [
            lattice_from_boxes(boxes[:, v], flips[:, v], height, width, view_size=view_size,
                               warp=warps[:, v]).to(device) for v in range(2)
        ]

    def apply_batch_affine(self, inputs: torch.Tensor, data_samples: List, params: Optional[dict] = None):
        """Warp view ``batch_affine['view']`` (online and target copies) of the whole batch by one
        affine (random unless ``params`` are given) and compose its inverse into every sample's
        ``view_warps``. inputs: (N, 4, 3, H, W); returns the new inputs."""
        cfg = dict(self.batch_affine)
        v = cfg.pop('view', 0)
        N, _, C, H, W = inputs.shape
        params = params or random_affine_params(**cfg)
        forward = affine_matrix(**params, center=(W / 2, H / 2))  # view px -> warped px
        warped = warp_images(inputs[:, [v, 2 + v]].flatten(0, 1), forward.to(inputs.device))
        inputs = inputs.clone()
        inputs[:, [v, 2 + v]] = warped.view(N, 2, C, H, W)
        back = invert_affine(forward)  # warped px -> view px
        for sample in data_samples:
            warps = torch.as_tensor(sample.view_warps, dtype=torch.float64).clone()
            warps[v] = compose_affine(back, warps[v])  # then the view's earlier inverse warp
            sample.set_metainfo(dict(view_warps=warps.numpy()))
        return inputs

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'loss'):
        """inputs: (N, 4, 3, H, W) = [online v1, online v2, target v1, target v2] (normalised)."""
        if mode == 'tensor':
            return self.online_backbone(inputs[:, 0] if inputs.dim() == 5 else inputs)
        if mode != 'loss':
            raise ValueError(f"PixPro is a pretraining model: mode={mode!r} is not supported "
                             "(use 'loss', or 'tensor' for backbone features)")
        if data_samples is None:
            raise ValueError('PixPro needs data_samples with view_boxes/view_flips/view_warps')
        if self.batch_affine is not None and self.training:
            inputs = self.apply_batch_affine(inputs, data_samples)
        y1, y2 = self._online(inputs[:, 0]), self._online(inputs[:, 1])
        t1, t2 = self._target(inputs[:, 2]), self._target(inputs[:, 3])
        l1, l2 = self._lattices(data_samples, y1.shape[-2], y1.shape[-1], y1.device)
        loss = pixel_consistency_loss(y1, t2.detach(), y2, t1.detach(), l1, l2, tau=self.tau, dense=self.dense_loss,
                                      loss_weight=self.loss_weight)
        return dict(loss=loss)

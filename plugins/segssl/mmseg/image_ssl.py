"""Image-level self-supervised models as mmengine models: BYOL (the Mask R-CNN thesis), SimCLR (the SimCLR report, and
the ERFNet thesis's SimCLR task) and the SimCLR report's video anchor variant. The losses live in
``segssl.core.image_contrastive``; the inputs are PackPixelViews' (N, 4, 3, H, W) views
([online v1, online v2, target v1, target v2], normalised by PixelViewsDataPreProcessor) or
PackFrameClip's (N, 1 + p, 3, H, W) anchor + frames.

Checkpoint layout (what segssl.convert reads as the 'segssl' format): ``online_backbone.*`` is
the encoder to transfer; BYOL adds ``online_projector.*``, ``predictor.*``,
``target_backbone.*``, ``target_projector.*``; SimCLR adds ``projector.*``.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmseg.registry import MODELS

from segssl.core import anchor_weights, nt_xent_loss, symmetric_byol_loss, video_anchor_loss

from .momentum_target import MomentumTargetModel


def build_mlp(in_channels: int, hidden_channels: int, out_channels: int = 256,
              batch_norm: bool = True) -> nn.Sequential:
    """Linear(in, hidden) - [BatchNorm1d(hidden)] - ReLU - Linear(hidden, out), on (N, in)."""
    layers = [nn.Linear(in_channels, hidden_channels)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(hidden_channels))
    layers += [nn.ReLU(inplace=True), nn.Linear(hidden_channels, out_channels)]
    return nn.Sequential(*layers)


def pooled_features(backbone: nn.Module, x: torch.Tensor, pool: str = 'avg') -> torch.Tensor:
    """Global pool of the backbone's last output: (N, 3, H, W) -> (N, C) (y of BYOL). ``pool``:
    'avg' (BYOL, SimCLR) or 'max' (the ERFNet thesis's head, 3.1.2: "a 2D max pooling layer")."""
    feat = backbone(x)[-1]
    return feat.amax(dim=(2, 3)) if pool == 'max' else feat.mean(dim=(2, 3))


def _check_views(inputs: torch.Tensor, num_views: int, model: str) -> None:
    if inputs.dim() != 5 or inputs.shape[1] < num_views:
        raise ValueError(f'{model}: expected inputs (N, V >= {num_views}, 3, H, W) from '
                         f'PackPixelViews / PackFrameClip, got {tuple(inputs.shape)}')


class _ImageSSLModel(BaseModel):
    """Shared forward contract: mode 'loss' -> dict(loss=...), 'tensor' -> backbone features."""

    def _mode_check(self, inputs, mode):
        if mode == 'tensor':
            return self.online_backbone(inputs[:, 0] if inputs.dim() == 5 else inputs)
        if mode != 'loss':
            raise ValueError(f"{type(self).__name__} is a pretraining model: mode={mode!r} is not "
                             "supported (use 'loss', or 'tensor' for backbone features)")
        return None


@MODELS.register_module()
class BYOL(_ImageSSLModel, MomentumTargetModel):
    """BYOL: online f_theta + g_theta + q_theta, target f_xi + g_xi = EMA of f_theta + g_theta.

    Args:
        backbone: mmseg backbone config (ResNet(depth=50, out_indices=(3,)); the Mask R-CNN thesis starts it
            from ImageNet weights: ``init_cfg=dict(type='Pretrained', checkpoint=...)``, or random
            with ``init_cfg=None``).
        projector: dict(in_channels (2048 for R50), hidden_channels (4096 baseline, 2048 seed
            002's final), out_channels 256, batch_norm True).
        predictor: dict(hidden_channels, batch_norm); its input and output are the projector's
            out_channels (the Mask R-CNN thesis: 256 -> H -> 256, same architecture as the projector).
        symmetric: L(q(z1), z2') + L(q(z2), z1') (default) or the first term only.
    The target momentum tau (0.996 -> 1, cosine) is set by MomentumUpdateHook(base_momentum=0.996)
    through :meth:`momentum_update`. The target starts as a copy of the (possibly pretrained)
    online branch, BN statistics included (MomentumTargetModel.build_target).
    """

    def __init__(self, backbone: dict, projector: dict, predictor: Optional[dict] = None, symmetric: bool = True,
                 loss_weight: float = 1.0, data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='PixelViewsDataPreProcessor'),
                         init_cfg=init_cfg)
        projector = dict(dict(hidden_channels=4096, out_channels=256, batch_norm=True), **projector)
        if 'in_channels' not in projector:
            raise KeyError('BYOL: projector needs in_channels (the backbone output width, 2048 for R50)')
        predictor = dict(dict(hidden_channels=projector['hidden_channels'], batch_norm=True), **(predictor or {}))
        self.online_backbone = MODELS.build(backbone)
        self.online_projector = build_mlp(**projector)
        out = projector['out_channels']
        self.predictor = build_mlp(out, predictor['hidden_channels'], out, predictor['batch_norm'])
        self.build_target(copy_buffers_at_init=True)
        self.symmetric, self.loss_weight = symmetric, loss_weight

    def online(self, x: torch.Tensor) -> torch.Tensor:
        """q_theta(g_theta(f_theta(x))): (N, 3, H, W) -> (N, out)."""
        return self.predictor(self.online_projector(pooled_features(self.online_backbone, x)))

    @torch.no_grad()
    def target(self, x: torch.Tensor) -> torch.Tensor:
        """z' = g_xi(f_xi(x)), no gradient: (N, 3, H, W) -> (N, out)."""
        return self.target_projector(pooled_features(self.target_backbone, x))

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'loss'):
        """inputs: (N, 4, 3, H, W) = [online v1, online v2, target v1, target v2] (normalised)."""
        out = self._mode_check(inputs, mode)
        if out is not None:
            return out
        _check_views(inputs, 4, 'BYOL')
        p1, p2 = self.online(inputs[:, 0]), self.online(inputs[:, 1])
        z1, z2 = self.target(inputs[:, 2]), self.target(inputs[:, 3])
        return dict(loss=self.loss_weight * symmetric_byol_loss(p1, p2, z1, z2, self.symmetric))


@MODELS.register_module()
class SimCLR(_ImageSSLModel):
    """SimCLR: encoder f + projector g (Linear - BN - ReLU - Linear), NT-Xent over the 2N views.

    Args:
        backbone: mmseg backbone config (the SimCLR report: ``ResNet3x3Stem(depth=34)``; the ERFNet thesis:
            mmseg ``ERFNet`` with ``encoder_only=True``).
        projector: dict(in_channels (512 for R18/R34, 128 for the ERFNet encoder),
            hidden_channels (default in_channels), out_channels 128 (SimCLR's), batch_norm True
            (the ERFNet thesis's head, 3.1.2: Linear 128 - ReLU - Linear, batch_norm False)).
        temperature: tau of NT-Xent (0.5, the ERFNet thesis and the SimCLR report).
        pool: how the backbone's last (N, C, h, w) map becomes h = (N, C): 'avg' (SimCLR's global
            average pool, default) or 'max' (the ERFNet thesis, 3.2.7 + 3.1.2: the ERFNet encoder's
            (N, 128, H/8, W/8) max-pooled into the classification head, which is the projector).
        encoder_only: drop the backbone's ``decoder`` (mmseg ``ERFNet``: the ERFNet thesis trains only the
            encoder with SimCLR), so its last output is the encoder's and the checkpoint holds
            ``online_backbone.encoder.*`` alone. The backbone must have a ``decoder`` ModuleList.
    The two views go through the encoder as one batch of 2N (SimCLR's batch statistics).
    """

    def __init__(self, backbone: dict, projector: dict, temperature: float = 0.5, loss_weight: float = 1.0,
                 pool: str = 'avg', encoder_only: bool = False, data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='PixelViewsDataPreProcessor'),
                         init_cfg=init_cfg)
        if 'in_channels' not in projector:
            raise KeyError('SimCLR: projector needs in_channels (the backbone output width, 512 for R34)')
        projector = dict(dict(hidden_channels=projector['in_channels'], out_channels=128, batch_norm=True), **projector)
        if temperature <= 0:
            raise ValueError(f'SimCLR: temperature={temperature!r}, expected > 0')
        if pool not in ('avg', 'max'):
            raise ValueError(f"SimCLR: pool={pool!r}, expected 'avg' or 'max'")
        self.online_backbone = MODELS.build(backbone)
        if encoder_only:
            if not isinstance(getattr(self.online_backbone, 'decoder', None), nn.ModuleList):
                raise ValueError(f'SimCLR: encoder_only=True needs a backbone with a decoder '
                                 f'ModuleList (mmseg ERFNet), got {type(self.online_backbone).__name__}')
            self.online_backbone.decoder = nn.ModuleList()
        self.projector = build_mlp(**projector)
        self.temperature, self.loss_weight, self.pool = temperature, loss_weight, pool

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """z = g(f(x)): (M, 3, H, W) -> (M, out)."""
        return self.projector(pooled_features(self.online_backbone, x, self.pool))

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'loss'):
        """inputs: (N, V >= 2, 3, H, W); views 0 and 1 are the positive pair (PackPixelViews' online
        copies)."""
        out = self._mode_check(inputs, mode)
        if out is not None:
            return out
        _check_views(inputs, 2, 'SimCLR')
        n = inputs.shape[0]
        z = self.embed(inputs[:, :2].transpose(0, 1).flatten(0, 1))  # [v1 of all; v2 of all]
        return dict(loss=self.loss_weight * nt_xent_loss(z[:n], z[n:], self.temperature))


@MODELS.register_module()
class VideoAnchorSimCLR(SimCLR):
    """The SimCLR report's video variant: L = sum_{i=1}^{p} lambda_i NT-Xent(z_0, z_i) over an anchor frame
    x_0 and p other frames x_1..x_p of each of N videos (PackFrameClip: inputs (N, 1 + p, 3, H, W)).

    Args:
        num_frames: p.
        frame_weights: lambda_i: 'linear' (i / p, default), 'uniform' (1 / p) or p values in [0, 1].
        The rest as :class:`SimCLR`.
    """

    def __init__(self, backbone: dict, projector: dict, num_frames: int = 3,
                 frame_weights: Union[str, Sequence[float]] = 'linear', **kwargs):
        kwargs.setdefault('data_preprocessor', dict(type='PixelViewsDataPreProcessor', num_views=num_frames + 1))
        super().__init__(backbone, projector, **kwargs)
        self.num_frames = num_frames
        self.register_buffer('frame_weights', anchor_weights(num_frames, frame_weights), persistent=False)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'loss'):
        out = self._mode_check(inputs, mode)
        if out is not None:
            return out
        if inputs.dim() != 5 or inputs.shape[1] != self.num_frames + 1:
            raise ValueError(f'VideoAnchorSimCLR: expected inputs (N, 1 + {self.num_frames}, 3, H, W) '
                             f'(anchor + num_frames frames), got {tuple(inputs.shape)}')
        n, v = inputs.shape[:2]
        z = self.embed(inputs.flatten(0, 1)).view(n, v, -1)
        loss = video_anchor_loss(z[:, 0], z[:, 1:], self.frame_weights, self.temperature)
        return dict(loss=self.loss_weight * loss)

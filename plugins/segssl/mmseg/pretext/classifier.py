"""Encoder-only pretext classifiers of the ERFNet thesis (rotation, jigsaw, relative patch) as one
mmengine model, and the data preprocessor that feeds it.

Checkpoint layout: ``backbone.encoder.*`` (mmseg ``ERFNet`` names, the same keys an mmseg
``EncoderDecoder`` with an ERFNet backbone has, so ``init_cfg=dict(type='Pretrained',
checkpoint=CKPT, prefix='backbone.')`` on a segmentation config's backbone loads the encoder, and
``segssl.convert``'s ERFNet reader takes the file) and ``head.*`` (the pretext head, dropped at
transfer). ERFNet's decoder is removed: the encoder-only tasks never train it.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.registry import MODELS

from ..stacked_preprocessor import StackedImagesPreProcessor

TASKS = ('rotation', 'jigsaw', 'relative_patch')


@MODELS.register_module()
class PretextDataPreProcessor(StackedImagesPreProcessor):
    """Stacks ``PackPretextInputs``' (C, H, W) or (T, C, h, w) uint8 inputs into (N, C, H, W) or
    (N, T, C, h, w) float, BGR -> RGB, normalised with ``mean``/``std`` (0-255 units, RGB)."""

    def check_inputs(self, x: torch.Tensor) -> None:
        if x.dim() not in (4, 5) or x.shape[-3] != 3:
            raise ValueError('PretextDataPreProcessor: expected inputs (N, 3, H, W) or '
                             f'(N, T, 3, h, w) from PackPretextInputs, got {tuple(x.shape)}')


def classification_head(in_features: int, hidden: int, num_classes: int) -> nn.Sequential:
    """Linear(in, hidden) -> ReLU -> Linear(hidden, K): the ERFNet thesis's head (3.1.2: hidden 128 after
    the max-pooled 128-d encoder features; 3.2.3: hidden 4096 after the concatenated tiles)."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes))


@MODELS.register_module()
class PretextClassifier(BaseModel):
    """Encoder + global max-pool + classification head, trained with cross-entropy.

    - ``rotation``: one image (N, 3, H, W) -> encoder -> max-pool -> 128-d ->
      FC ``hidden_channels`` (128) -> ReLU -> FC ``num_classes`` (4).
    - ``jigsaw`` / ``relative_patch``: T tiles (N, T, 3, h, w) -> the same (siamese) encoder per
      tile -> max-pool -> concatenation (T * 128) -> FC ``hidden_channels`` (4096) -> ReLU ->
      FC ``num_classes`` (number of permutations / 8). The ERFNet thesis feeds each tile's "feature
      vector" to the concatenation without saying its size; here it is the tile's max-pooled
      encoder output, as in the report's classification head (3.1.2).

    Args:
        backbone (dict): an mmseg backbone (ERFNet; its decoder is removed). Its last output is
            the feature map (ERFNet with no decoder returns the encoder's (N, 128, H/8, W/8)).
        task (str): 'rotation', 'jigsaw' or 'relative_patch' (checks the input's rank and T).
        num_classes (int): K. hidden_channels (int): width of the hidden FC layer.
        feature_channels (int): channels of the encoder output (ERFNet: 128).
        num_tiles (int): T for the tile tasks (jigsaw 9, relative patch 2); 1 for rotation.
    """

    def __init__(self, backbone: dict, task: str = 'rotation', num_classes: int = 4, hidden_channels: int = 128,
                 feature_channels: int = 128, num_tiles: int = 1, data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='PretextDataPreProcessor'), init_cfg=init_cfg)
        if task not in TASKS:
            raise ValueError(f'PretextClassifier: task={task!r}: expected one of {TASKS}')
        if (task == 'rotation') != (num_tiles == 1):
            raise ValueError(f'PretextClassifier: task={task!r} with num_tiles={num_tiles}: '
                             'rotation takes one image, the tile tasks T > 1 tiles')
        self.task, self.num_classes, self.num_tiles = task, int(num_classes), int(num_tiles)
        self.backbone = MODELS.build(backbone)
        if isinstance(getattr(self.backbone, 'decoder', None), nn.ModuleList):
            self.backbone.decoder = nn.ModuleList()  # encoder-only task
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = classification_head(feature_channels * num_tiles, hidden_channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, C) max-pooled encoder features."""
        return self.pool(self.backbone(x)[-1]).flatten(1)

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) or (N, T, 3, h, w) normalised inputs -> (N, K) logits."""
        if self.num_tiles == 1:
            if inputs.dim() != 4:
                raise ValueError(f'PretextClassifier({self.task}): expected (N, 3, H, W), got '
                                 f'{tuple(inputs.shape)}')
            return self.head(self.features(inputs))
        if inputs.dim() != 5 or inputs.shape[1] != self.num_tiles:
            raise ValueError(f'PretextClassifier({self.task}): expected (N, {self.num_tiles}, 3, '
                             f'h, w) tiles, got {tuple(inputs.shape)}')
        n = inputs.shape[0]
        feats = self.features(inputs.flatten(0, 1)).view(n, -1)  # tile order kept
        return self.head(feats)

    @staticmethod
    def labels(data_samples: List, device) -> torch.Tensor:
        if not data_samples or any('pretext_label' not in s for s in data_samples):
            raise KeyError('PretextClassifier: data samples lack "pretext_label" (pack with '
                           'PackPretextInputs after a *Pretext transform)')
        return torch.tensor([int(s.pretext_label) for s in data_samples], device=device)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'loss'):
        logits = self.logits(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'predict':
            for s, row in zip(data_samples or [], logits.detach()):
                s.set_field(row, 'pred_logits')
                s.set_field(int(row.argmax()), 'pred_label', field_type='metainfo')
            return data_samples
        if mode != 'loss':
            raise ValueError(f'PretextClassifier: mode={mode!r}: expected loss, predict or tensor')
        target = self.labels(data_samples, logits.device)
        if int(target.min()) < 0 or int(target.max()) >= self.num_classes:
            raise ValueError(f'PretextClassifier: labels {target.tolist()} outside 0..{self.num_classes - 1}')
        with torch.no_grad():
            acc = (logits.argmax(1) == target).float().mean()
        return dict(loss_cls=F.cross_entropy(logits, target), acc=acc)

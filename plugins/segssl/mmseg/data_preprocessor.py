"""mmseg's SegDataPreProcessor applied to each part of a paired batch (see datasets/paired.py).

A batch ``dict(labelled=dict(inputs, data_samples), unlabelled=dict(...))`` becomes
``dict(labelled=dict(inputs=(B, 3, H, W), data_samples), unlabelled=dict(...))``, each part
normalised, channel-converted, padded and stacked exactly as SegDataPreProcessor does alone; any
other batch (validation, test) goes through SegDataPreProcessor unchanged.
"""
import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

PARTS = ('labelled', 'unlabelled')


@MODELS.register_module()
class PairedSegDataPreProcessor(SegDataPreProcessor):
    """Same arguments as :class:`mmseg.models.SegDataPreProcessor`."""

    def forward(self, data: dict, training: bool = False) -> dict:
        if isinstance(data, dict) and any(p in data for p in PARTS):
            missing = [p for p in PARTS if p not in data]
            if missing:
                raise KeyError(f'PairedSegDataPreProcessor: batch has {sorted(data)}, missing {missing}; '
                               'expected both parts from PairedDataset')
            return {p: super(PairedSegDataPreProcessor, self).forward(data[p], training) for p in PARTS}
        return super().forward(data, training)

    def to_rgb01(self, inputs: torch.Tensor) -> torch.Tensor:
        """Undo the normalisation: (N, 3, H, W) network inputs -> RGB in [0, 1] (before clamping)."""
        x = inputs * self.std + self.mean if self._enable_normalize else inputs
        x = x / 255.0
        return x if self.channel_conversion else x.flip(1)  # loaded BGR unless converted

    def from_rgb01(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_rgb01`."""
        x = (x if self.channel_conversion else x.flip(1)) * 255.0
        return (x - self.mean) / self.std if self._enable_normalize else x

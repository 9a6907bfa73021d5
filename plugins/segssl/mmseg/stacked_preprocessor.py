"""What the data preprocessors of segssl's pretraining models share, written once.

A batch of uint8 image tensors whose last three dims are (3, H, W) (a list from mmengine's
``pseudo_collate``, or one stacked tensor) becomes one float tensor, BGR -> RGB if
``bgr_to_rgb``, then (x - mean) / std with ``mean`` / ``std`` in 0-255 units and RGB order.
Unlike mmseg's SegDataPreProcessor nothing is padded or resized: the pretraining pipelines crop
every sample to one size. Each subclass says which shapes it takes in :meth:`check_inputs`:
PixelViewsDataPreProcessor (pixpro.py) the (N, V, 3, H, W) views, PretextDataPreProcessor
(pretext/classifier.py) (N, 3, H, W) images or (N, T, 3, h, w) tiles.
"""
import torch
from mmengine.model import BaseDataPreprocessor


class StackedImagesPreProcessor(BaseDataPreprocessor):
    """Stack, BGR -> RGB, normalise (see the module docstring)."""

    def __init__(self, mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), bgr_to_rgb: bool = True):
        super().__init__()
        # (3, 1, 1): broadcasts over the channel dim -3 of any (..., 3, H, W) batch
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(3, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb

    def check_inputs(self, x: torch.Tensor) -> None:
        """Raise a ValueError naming the expected shape unless ``x`` has it."""
        raise NotImplementedError

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        x = torch.stack(list(inputs)) if isinstance(inputs, (list, tuple)) else inputs
        self.check_inputs(x)
        x = x.float()
        if self.bgr_to_rgb:
            x = x.flip(-3)
        return dict(inputs=(x - self.mean) / self.std, data_samples=data.get('data_samples'))

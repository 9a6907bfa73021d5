"""PixPro's two views of one image, as the pretraining pipeline's ``TwoViewCrop`` draws them, and
their positive pixel pairs (drawn by :func:`segssl.runs.figures.plot_pixel_pairs`; used by
``tools/plot_pixel_pairs.py``)."""
from typing import Tuple

import numpy as np
import torch

from segssl.core import lattice_from_boxes, positive_pairs_dense


def two_views(image_bgr: np.ndarray, crop: dict, seed: int = 0) -> dict:
    """Run ``TwoViewCrop(**crop)`` on one (H, W, 3) image with numpy's global state seeded by
    ``seed`` (the transform draws from it, as under mmengine); returns its results dict (``views``,
    ``view_boxes``, ``view_flips``, ``view_warps``, ``view_size``)."""
    from segssl.mmseg.transforms.two_view_crop import TwoViewCrop
    crop = {k: v for k, v in dict(crop).items() if k != 'type'}
    np.random.seed(seed)
    return TwoViewCrop(**crop).transform(dict(img=image_bgr))


def view_pairs(results: dict, feat_hw: Tuple[int, int], tau: float = 0.7) -> torch.Tensor:
    """(h*w, h*w) bool positive pairs between the two views' (h, w) feature maps, from the boxes,
    flips and warps the view transforms recorded (the matching PixPro's loss uses)."""
    boxes = torch.as_tensor(np.asarray(results['view_boxes']), dtype=torch.float64)
    flips = torch.as_tensor(np.asarray(results['view_flips']), dtype=torch.bool)
    warps = torch.as_tensor(np.asarray(results['view_warps']), dtype=torch.float64)
    l1, l2 = (lattice_from_boxes(boxes[v:v + 1], flips[v:v + 1], *feat_hw, view_size=tuple(results['view_size']),
                                 warp=warps[v:v + 1]) for v in range(2))
    return positive_pairs_dense(l1, l2, tau)[0]


def pipeline_transform(cfg, name: str, dataloader: str = 'train_dataloader') -> dict:
    """The first transform of type ``name`` in ``cfg.<dataloader>.dataset.pipeline``."""
    for t in cfg[dataloader]['dataset'].get('pipeline', []):
        if t.get('type') == name:
            return dict(t)
    raise KeyError(f'{cfg.filename}: no {name} in {dataloader}.dataset.pipeline')

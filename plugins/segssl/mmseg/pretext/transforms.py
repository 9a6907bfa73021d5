"""Data transforms that make the ERFNet thesis's pretext inputs and labels (the maths is in segssl.core).

Put them after the geometric / photometric augmentation steps a config chooses (the report varies
augmentation per task: that is the config's pipeline), except :class:`OtsuPretext`, which goes
right after loading so that crops and flips move its labels with the image.

Encoder-only tasks end with :class:`PackPretextInputs` (-> :class:`PretextClassifier`); Otsu ends
with mmseg's ``PackSegInputs`` and colorization with :class:`PackColorizationInputs` (both ->
mmseg's ``EncoderDecoder``).
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement, PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from segssl.core.lab import colorization_pair
from segssl.core.otsu import otsu_labels, rgb_to_gray_uint8
from segssl.core.pretext import hamming_permutation_set, jigsaw_sample, relative_patch_sample, rotation_sample

ORDERS = ('bgr', 'rgb')


def _check_order(order, who):
    if order not in ORDERS:
        raise ValueError(f"{who}: channel_order={order!r}: expected 'bgr' (mmcv's loader) or 'rgb'")
    return order


def _image(results, who):
    if 'img' not in results:
        raise KeyError(f'{who}: results has no "img" (load the image first) for '
                       f'{results.get("img_path")}')
    return results['img']


@TRANSFORMS.register_module()
class RotationPretext(BaseTransform):
    """Rotate ``img`` counter-clockwise by k * 90 degrees, k uniform (the ERFNet thesis, 3.2.2); sets
    ``pretext_label`` = k. The image must be square (crop it first).

    Args:
        num_rotations (int): 4 (0/90/180/270, the report) or 2 (0/180).
    """

    def __init__(self, num_rotations: int = 4):
        if num_rotations not in (2, 4):
            raise ValueError(f'RotationPretext: num_rotations={num_rotations!r}: expected 4 or 2')
        self.num_rotations = num_rotations

    def transform(self, results: Dict) -> Dict:
        img = _image(results, 'RotationPretext')
        try:
            img, k = rotation_sample(img, num_rotations=self.num_rotations)
        except ValueError as e:
            raise ValueError(f'RotationPretext on {results.get("img_path")}: {e}') from None
        results.update(img=img, img_shape=img.shape[:2], pretext_label=k)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(num_rotations={self.num_rotations})'


class _TileTask(BaseTransform):
    """Shared by the jigsaw and relative-patch transforms: grid geometry and per-tile pipeline."""

    def __init__(self, grid: int, cell: int, tile: int, tile_pipeline: Sequence[dict]):
        if not 0 < tile <= cell:
            raise ValueError(f'{type(self).__name__}: tile={tile}, cell={cell}: expected '
                             '0 < tile <= cell')
        self.grid, self.cell, self.tile = int(grid), int(cell), int(tile)
        self.tile_pipeline_cfg = [dict(t) for t in tile_pipeline]
        self.tile_pipeline = [TRANSFORMS.build(t) for t in self.tile_pipeline_cfg]

    def _augment(self, tiles: np.ndarray) -> np.ndarray:
        out = []
        for t in tiles:  # each tile separately (the ERFNet thesis, 3.2.3)
            r = dict(img=np.ascontiguousarray(t), img_shape=t.shape[:2])
            for step in self.tile_pipeline:
                r = step(r)
            out.append(r['img'])
        return np.stack(out)

    def _sample(self, img: np.ndarray):
        """(tiles, pretext label) of one image (the task's sampler from segssl.core.pretext)."""
        raise NotImplementedError

    def transform(self, results: Dict) -> Dict:
        name = type(self).__name__
        img = _image(results, name)
        try:
            tiles, label = self._sample(img)
        except ValueError as e:
            raise ValueError(f'{name} on {results.get("img_path")}: {e}') from None
        results.update(tiles=self._augment(tiles), pretext_label=label)
        return results


@TRANSFORMS.register_module()
class JigsawPretext(_TileTask):
    """Cut a (grid * cell)^2 image into grid^2 tiles of ``tile`` px at random offsets inside their
    cells, shuffle them by a random member of the max-Hamming permutation set; sets ``tiles``
    (grid^2, tile, tile, C) and ``pretext_label`` (the permutation's index). The ERFNet thesis, 3.2.3.

    Args:
        num_permutations (int): size of the permutation set = number of classes (100).
        permutation_seed (int): seed of the set's first permutation (the set is then fixed).
        grid, cell, tile (int): 3, 75, 64 (the report: 225 px crop, 75 px cells, 64 px tiles).
        tile_pipeline (list[dict]): transforms applied to each tile on its own (the report's
            per-patch colour jitter: ``[dict(type='PhotoMetricDistortion')]``); [] for none.
    """

    def __init__(self, num_permutations: int = 100, permutation_seed: int = 0, grid: int = 3, cell: int = 75,
                 tile: int = 64, tile_pipeline: Sequence[dict] = ()):
        super().__init__(grid, cell, tile, tile_pipeline)
        self.num_permutations, self.permutation_seed = int(num_permutations), int(permutation_seed)
        self.permutations = hamming_permutation_set(num_permutations, grid * grid, permutation_seed)

    def _sample(self, img: np.ndarray):
        return jigsaw_sample(img, self.permutations, self.grid, self.cell, self.tile)

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_permutations={self.num_permutations}, '
                f'permutation_seed={self.permutation_seed}, grid={self.grid}, cell={self.cell}, '
                f'tile={self.tile}, tile_pipeline={self.tile_pipeline_cfg})')


@TRANSFORMS.register_module()
class RelativePatchPretext(_TileTask):
    """Centre tile + one random neighbour of the jigsaw grid (the ERFNet thesis, 3.2.4: "patches are
    extracted in the same way as the jigsaw task"); sets ``tiles`` (2, tile, tile, C) =
    [centre, neighbour] and ``pretext_label`` in 0..7 (segssl.core.pretext.NEIGHBOURS)."""

    def __init__(self, cell: int = 75, tile: int = 64, tile_pipeline: Sequence[dict] = ()):
        super().__init__(3, cell, tile, tile_pipeline)

    def _sample(self, img: np.ndarray):
        return relative_patch_sample(img, 3, self.cell, self.tile)

    def __repr__(self):
        return (f'{self.__class__.__name__}(cell={self.cell}, tile={self.tile}, '
                f'tile_pipeline={self.tile_pipeline_cfg})')


@TRANSFORMS.register_module()
class ColorizationPretext(BaseTransform):
    """Replace ``img`` by its L* channel tiled to 3 channels, scaled by 2.55 to the 0-255 range
    of the images the fine-tuned network sees (so the usual mean/std normalisation applies), and
    set ``gt_ab`` (2, H, W) float32 = (a*, b*) / ``ab_scale`` (the ERFNet thesis, 3.2.5).

    Args:
        ab_scale (float): divisor of the a*, b* targets. The report's MSE does not say their scale;
            128 maps them to about [-1, 1] (common in colorization code), so the head, which
            starts near 0, needs no large outputs; 1 keeps raw values.
        channel_order (str): 'bgr' (mmcv's loader) or 'rgb'.
    """

    def __init__(self, ab_scale: float = 128.0, channel_order: str = 'bgr'):
        if not ab_scale > 0:
            raise ValueError(f'ColorizationPretext: ab_scale={ab_scale!r}: expected > 0')
        self.ab_scale = float(ab_scale)
        self.channel_order = _check_order(channel_order, 'ColorizationPretext')

    def transform(self, results: Dict) -> Dict:
        img = _image(results, 'ColorizationPretext')
        rgb = img[..., ::-1] if self.channel_order == 'bgr' else img
        light, ab = colorization_pair(np.clip(rgb, 0, 255).astype(np.uint8))
        results.update(img=light * np.float32(2.55), gt_ab=ab / np.float32(self.ab_scale))
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(ab_scale={self.ab_scale}, channel_order={self.channel_order!r})'


@TRANSFORMS.register_module()
class OtsuPretext(BaseTransform):
    """Per-pixel multilevel-Otsu classes of the grey image as ``gt_seg_map`` (uint8, classes
    0..K-1), registered in ``seg_fields`` so crops / flips / resizes move it (the ERFNet thesis, 3.2.6).

    Args:
        classes (int): K, the number of clusters (the report: 4, its maximum).
        channel_order (str): 'bgr' (mmcv's loader) or 'rgb'.
    """

    def __init__(self, classes: int = 4, channel_order: str = 'bgr'):
        if not 2 <= classes <= 255:
            raise ValueError(f'OtsuPretext: classes={classes!r}: expected 2..255 (seed: 4)')
        self.classes = int(classes)
        self.channel_order = _check_order(channel_order, 'OtsuPretext')

    def transform(self, results: Dict) -> Dict:
        img = _image(results, 'OtsuPretext')
        gray = rgb_to_gray_uint8(img, self.channel_order)
        results['gt_seg_map'] = otsu_labels(gray, self.classes).astype(np.uint8)
        fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in fields:
            fields.append('gt_seg_map')
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(classes={self.classes}, channel_order={self.channel_order!r})'


@TRANSFORMS.register_module()
class PackPretextInputs(BaseTransform):
    """``inputs``: (C, H, W) tensor of ``img``, or (T, C, h, w) of ``tiles`` when present;
    ``data_samples``: a ``BaseDataElement`` with metainfo ``pretext_label`` (int) and the
    ``meta_keys`` found. Channels stay in the loader's order (the data preprocessor converts)."""

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape', 'img_shape')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Optional[Dict]:
        if 'pretext_label' not in results:
            raise KeyError('PackPretextInputs: results has no "pretext_label" (run a *Pretext '
                           f'transform first) for {results.get("img_path")}')
        if 'tiles' in results:
            x = torch.from_numpy(np.ascontiguousarray(np.asarray(results['tiles']).transpose(0, 3, 1, 2)))
        else:
            img = _image(results, 'PackPretextInputs')
            img = img if img.ndim == 3 else img[:, :, None]
            x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['pretext_label'] = int(results['pretext_label'])
        return dict(inputs=x, data_samples=BaseDataElement(metainfo=meta))

    def __repr__(self):
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'


@TRANSFORMS.register_module()
class PackColorizationInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus ``data_sample.gt_ab`` (PixelData (2, H, W) float32), the
    colorization target set by :class:`ColorizationPretext`."""

    def transform(self, results: Dict) -> Dict:
        if 'gt_ab' not in results:
            raise KeyError('PackColorizationInputs: results has no "gt_ab" (run '
                           f'ColorizationPretext first) for {results.get("img_path")}')
        packed = super().transform(results)
        packed['data_samples'].gt_ab = PixelData(data=torch.from_numpy(np.ascontiguousarray(results['gt_ab'])))
        return packed

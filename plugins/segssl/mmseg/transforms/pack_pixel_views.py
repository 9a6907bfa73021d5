"""Pack the two views (online and target copies) and their geometry for a pixel-level SSL model."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement
from mmseg.registry import TRANSFORMS

REQUIRED_KEYS = ('view_boxes', 'view_flips', 'view_warps', 'view_size')


@TRANSFORMS.register_module()
class PackPixelViews(BaseTransform):
    """``results['inputs']``: uint8 tensor (4, C, h, w) = [online v1, online v2, target v1,
    target v2] (online = ``online_views`` if present, else ``views``), channels in the image's
    order (BGR from mmcv's loader: the model's data preprocessor converts and normalises).

    ``results['data_samples']``: a ``BaseDataElement`` whose metainfo holds ``view_boxes``
    float32 (2, 4) (x1, y1, x2, y2 original-image pixels), ``view_flips`` bool (2,),
    ``view_warps`` float32 (2, 2, 3) (inverse affine warps), ``view_size`` (h, w), and, when
    present, ``img_path``, ``ori_shape`` and the other ``meta_keys``; numpy arrays, so that
    ``torch.as_tensor`` and ``segssl.core.lattice_from_boxes`` take them directly.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape', 'view_boxes', 'view_flips', 'view_warps',
                                                   'view_size')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Optional[Dict]:
        missing = [k for k in ('views', ) + REQUIRED_KEYS if k not in results]
        if missing:
            raise KeyError(f'PackPixelViews: results lacks {missing} (run TwoViewCrop first), '
                           f'for {results.get("img_path")}')
        target = list(results['views'])
        online = list(results.get('online_views', target))
        if len(target) != 2 or len(online) != 2:
            raise ValueError(f'PackPixelViews: expected two views and two online views, got '
                             f'{len(target)} and {len(online)}')
        chw = []
        for v in online + target:
            v = v if v.ndim == 3 else v[:, :, None]
            chw.append(torch.from_numpy(np.ascontiguousarray(v.transpose(2, 0, 1))))
        shapes = {tuple(t.shape) for t in chw}
        if len(shapes) != 1:
            raise ValueError(f'PackPixelViews: views differ in shape: {sorted(shapes)}')
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['view_boxes'] = np.asarray(results['view_boxes'], dtype=np.float32)
        meta['view_flips'] = np.asarray(results['view_flips'], dtype=bool)
        meta['view_warps'] = np.asarray(results['view_warps'], dtype=np.float32)
        meta['view_size'] = tuple(int(s) for s in results['view_size'])
        return dict(inputs=torch.stack(chw), data_samples=BaseDataElement(metainfo=meta))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'

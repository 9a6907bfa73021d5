"""Affine warp of one view, recording its inverse warp for matching (the PixPro thesis, 3.2)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from segssl.core.affine import affine_matrix, compose_affine, invert_affine, to_index_convention

MODES = ('fixed', 'random')


def _pair(v, name) -> Tuple[float, float]:
    p = (v, v) if isinstance(v, (int, float)) else tuple(v)
    if len(p) != 2:
        raise ValueError(f'AffineView: {name}={v!r}, expected a number or a pair (x, y)')
    return float(p[0]), float(p[1])


@TRANSFORMS.register_module()
class AffineView(BaseTransform):
    """Warp ``results['views'][view]`` by an affine map (cv2.warpAffine, bilinear, zero border)
    and record the inverse warp in ``results['view_warps'][view]``.

    The report applies it to view 1 (``view=0``) before erasing, so the target copy and the online
    copy are both the warped view; ``segssl.core.lattice_from_boxes(..., warp=view_warps)`` then
    places the warped view's feature bins in original-image coordinates (the report's
    "inverse-warped feature map"). Convention and formula: ``segssl.core.affine`` (continuous pixel
    coordinates, rotation/shear about the view centre (w/2, h/2), positive angle
    counter-clockwise as displayed). A second AffineView on the same view composes.

    Args:
        view: which view to warp (0 = view 1, the report's choice; 1 = view 2).
        mode: 'fixed': angle = ``degrees``, translation = ``translate``, shear = ``shear``;
            'random': drawn per sample, angle ~ U(-degrees, degrees), t_x ~ U(-translate[0],
            translate[0]), t_y likewise, shear_x ~ U(-shear[0], shear[0]), shear_y likewise.
            (The report's random affine is "per batch": for that, draw once per batch in the model
            with ``segssl.core.affine.random_affine_params`` + ``warp_images``.)
        degrees: rotation in degrees. translate: (t_x, t_y) pixels. shear: (shear_x, shear_y)
            degrees (a number means both).
    The PixPro thesis rows: rotation = ``AffineView(mode='fixed', degrees=30, translate=(0, 0),
    shear=(0, 0))``; fixed affine = ``AffineView(mode='fixed', degrees=30, translate=(10, 10),
    shear=(10, 10))`` (the defaults); random affine = ``AffineView(mode='random', degrees=45,
    translate=(100, 100), shear=(10, 0))``.

    Reads/writes ``views`` (list of (h, w, C)), ``view_warps`` float32 (2, 2, 3) (inverse warps:
    warped-view pixel -> un-warped-view pixel); adds ``view_affine`` float32 (2, 2, 3), the
    forward warps (identity for an unwarped view), for inspection.
    """

    def __init__(self, view: int = 0, mode: str = 'fixed', degrees: float = 30.0,
                 translate: Union[float, Sequence[float]] = (10.0, 10.0), shear: Union[float,
                                                                                       Sequence[float]] = (10.0, 10.0)):
        if view not in (0, 1):
            raise ValueError(f'AffineView: view={view!r}, expected 0 (view 1) or 1 (view 2)')
        if mode not in MODES:
            raise ValueError(f'AffineView: mode={mode!r}, expected one of {MODES}')
        self.view, self.mode, self.degrees = view, mode, float(degrees)
        self.translate, self.shear = _pair(translate, 'translate'), _pair(shear, 'shear')
        if mode == 'random' and (self.degrees < 0 or min(self.translate) < 0 or min(self.shear) < 0):
            raise ValueError(f'AffineView: random mode needs non-negative ranges, got '
                             f'degrees={degrees}, translate={translate}, shear={shear}')
        if max(abs(s) for s in self.shear) >= 90:
            raise ValueError(f'AffineView: shear={shear!r}, expected |shear| < 90 degrees')

    def params(self) -> Dict:
        """This sample's (angle, translate, shear): fixed, or drawn from numpy's global state."""
        if self.mode == 'fixed':
            return dict(angle=self.degrees, translate=self.translate, shear=self.shear)
        u = np.random.uniform(-1.0, 1.0, size=5)
        return dict(angle=u[0] * self.degrees, translate=(u[1] * self.translate[0], u[2] * self.translate[1]),
                    shear=(u[3] * self.shear[0], u[4] * self.shear[1]))

    def transform(self, results: Dict) -> Optional[Dict]:
        views = results.get('views')
        if not isinstance(views, (list, tuple)) or len(views) != 2 or 'view_warps' not in results:
            raise KeyError('AffineView: results needs "views" (two views) and "view_warps" '
                           f'(run TwoViewCrop first), for {results.get("img_path")}')
        if 'online_views' in results:
            raise ValueError('AffineView: results already has "online_views" (erasing ran first); '
                             'the PixPro thesis warps the view before erasing: put AffineView before it')
        img = views[self.view]
        h, w = img.shape[:2]
        forward = affine_matrix(**self.params(), center=(w / 2, h / 2))  # float64 (2, 3)
        inverse = invert_affine(forward)
        warped = cv2.warpAffine(img,
                                to_index_convention(inverse).numpy(), (w, h),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0)
        if warped.ndim == 2 and img.ndim == 3:
            warped = warped[:, :, None]
        views = list(views)
        views[self.view] = warped
        results['views'] = views
        warps = np.array(results['view_warps'], dtype=np.float32, copy=True)
        old = torch.as_tensor(warps[self.view], dtype=torch.float64)
        # new inverse = old inverse after this inverse: warped pixel -> previous view -> un-warped
        warps[self.view] = compose_affine(inverse, old).numpy()
        results['view_warps'] = warps
        affine = np.array(results.get('view_affine', np.tile(np.eye(2, 3), (2, 1, 1))), dtype=np.float32, copy=True)
        affine[self.view] = compose_affine(torch.as_tensor(affine[self.view], dtype=torch.float64), forward).numpy()
        results['view_affine'] = affine
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(view={self.view}, mode={self.mode!r}, '
                f'degrees={self.degrees}, translate={self.translate}, shear={self.shear})')

"""Affine views (the PixPro thesis, 3.2: rotation, fixed affine, random affine on one view; framework-free).

Coordinate convention (the one ``segssl.core.matching`` uses): **continuous pixel coordinates**,
x to the right, y down, pixel (col c, row r) covers [c, c+1) x [r, r+1) and has its centre at
(c + 0.5, r + 0.5). The image's centre is (W / 2, H / 2). cv2 works in *index* coordinates
(pixel centre at (c, r)); ``to_index_convention`` converts a matrix for ``cv2.warpAffine``.

``affine_matrix(angle, translate, shear, center)`` is the *forward* warp, un-warped point p ->
warped point q (homogeneous 2x3, ``q = M[:, :2] @ p + M[:, 2]``)::

    q = center + translate + R(angle) @ Shx(shear_x) @ Shy(shear_y) @ (p - center)
    R(a)   = [[cos a, sin a], [-sin a, cos a]]   (positive angle: counter-clockwise as displayed,
                                                   y pointing down; cv2.getRotationMatrix2D's sign)
    Shx(s) = [[1, tan s], [0, 1]],  Shy(s) = [[1, 0], [tan s, 1]]       (det = 1)

Angles and shears in degrees, translations in pixels. ``matching.lattice_from_boxes`` wants the
*inverse* warp (warped-view pixel -> un-warped-view pixel): ``invert_affine(M)``.

Two ways of drawing the random affine (the PixPro thesis: rotation U(-45, 45) deg, translation
U(-100, 100) px in x and y, x-shear U(-10, 10) deg, no y-shear):
- per sample: ``segssl.mmseg.transforms.AffineView(mode='random')`` draws one per image in the
  data pipeline;
- per batch (the report's "random affine per batch"): a model draws ONE set of parameters with
  ``random_affine_params(generator)``, builds ``affine_matrix`` and applies it to the whole
  batch of views with ``warp_images`` (then records ``invert_affine`` as the views' warp).
"""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

Number = Union[float, int, torch.Tensor]


def _t(x, dtype=torch.float64) -> torch.Tensor:
    return x.to(dtype) if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=dtype)


def _pair(v, name) -> Tuple:
    if isinstance(v, torch.Tensor) and v.dim() >= 1 and v.shape[-1] == 2:
        return v[..., 0], v[..., 1]
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return v[0], v[1]
    if isinstance(v, (int, float)):
        return v, v
    raise ValueError(f'{name}={v!r}: expected a number or a pair (x, y)')


def affine_matrix(angle: Number = 0.0, translate=(0.0, 0.0), shear=(0.0, 0.0), center=(0.0, 0.0)) -> torch.Tensor:
    """Forward affine warp (see the module docstring for the formula and convention).

    Args:
        angle: rotation in degrees (scalar or (N,) tensor), counter-clockwise as displayed.
        translate: (tx, ty) pixels, pair of scalars or (N, 2) tensor.
        shear: (shear_x, shear_y) degrees, a scalar s means (s, s); pair or (N, 2) tensor.
        center: (cx, cy) of rotation/shear in continuous pixel coordinates, e.g. (W/2, H/2).
    Returns:
        float64 (2, 3), or (N, 2, 3) when any argument is batched.
    """
    a = _t(angle) * (math.pi / 180)
    tx, ty = (_t(v) for v in _pair(translate, 'translate'))
    shx, shy = (_t(v) * (math.pi / 180) for v in _pair(shear, 'shear'))
    cx, cy = (_t(v) for v in _pair(center, 'center'))
    a, tx, ty, shx, shy, cx, cy = torch.broadcast_tensors(a, tx, ty, shx, shy, cx, cy)
    cos, sin, kx, ky = torch.cos(a), torch.sin(a), torch.tan(shx), torch.tan(shy)
    R = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)
    one, zero = torch.ones_like(kx), torch.zeros_like(kx)
    Shx = torch.stack([torch.stack([one, kx], -1), torch.stack([zero, one], -1)], -2)
    Shy = torch.stack([torch.stack([one, zero], -1), torch.stack([ky, one], -1)], -2)
    A = R @ Shx @ Shy  # (..., 2, 2)
    c = torch.stack([cx, cy], -1)
    t = c + torch.stack([tx, ty], -1) - (A @ c[..., None])[..., 0]
    return torch.cat([A, t[..., None]], -1)


def invert_affine(m: torch.Tensor) -> torch.Tensor:
    """Inverse of (..., 2, 3) affine matrices: [A | t]^-1 = [A^-1 | -A^-1 t]."""
    m = torch.as_tensor(m)
    if m.shape[-2:] != (2, 3):
        raise ValueError(f'invert_affine: expected (..., 2, 3) matrices, got {tuple(m.shape)}')
    inv = torch.linalg.inv(m[..., :2])
    return torch.cat([inv, -(inv @ m[..., 2:])], -1)


def compose_affine(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """(..., 2, 3) matrix of ``second(first(p))``."""
    A = second[..., :2] @ first[..., :2]
    t = (second[..., :2] @ first[..., 2:]) + second[..., 2:]
    return torch.cat([A, t], -1)


def to_index_convention(m: torch.Tensor) -> torch.Tensor:
    """The same warp in index coordinates (pixel centre at integers), as cv2.warpAffine takes it.

    With p_idx = p - 0.5: ``q_idx = A p_idx + t + A (0.5, 0.5) - (0.5, 0.5)``."""
    m = torch.as_tensor(m)
    half = torch.full(m.shape[:-2] + (2, 1), 0.5, dtype=m.dtype)
    return torch.cat([m[..., :2], m[..., 2:] + m[..., :2] @ half - half], -1)


def warp_images(images: torch.Tensor, matrices: torch.Tensor, inverse: bool = False,
                mode: str = 'bilinear') -> torch.Tensor:
    """Warp a batch of images by affine matrices, keeping their size; zeros outside.

    Output pixel q takes the (bilinear) value of the input at ``M^-1 q``, in continuous pixel
    coordinates (``F.affine_grid``/``grid_sample`` with ``align_corners=False``, zeros padding),
    i.e. cv2.warpAffine(img, to_index_convention(M), (W, H), borderValue=0) on each image.

    Args:
        images: (N, C, H, W) float tensor (convert uint8 first).
        matrices: (N, 2, 3) or (2, 3) (one warp for the whole batch) forward warps, or inverse
            warps (output pixel -> input pixel) when ``inverse=True``.
    Returns:
        (N, C, H, W) warped images, dtype of ``images``.
    """
    if images.dim() != 4:
        raise ValueError(f'warp_images: expected images (N, C, H, W), got {tuple(images.shape)}')
    N, _, H, W = images.shape
    m = torch.as_tensor(matrices, dtype=torch.float64, device=images.device)
    if m.shape == (2, 3):
        m = m.expand(N, 2, 3)
    if m.shape != (N, 2, 3):
        raise ValueError(f'warp_images: expected matrices (N, 2, 3) or (2, 3) for {N} images, '
                         f'got {tuple(m.shape)}')
    inv = m if inverse else invert_affine(m)
    # normalised (align_corners=False) x_n = 2 x / W - 1: theta = Norm @ inv @ Norm^-1
    norm = torch.tensor([[2.0 / W, 0, -1], [0, 2.0 / H, -1], [0, 0, 1]], dtype=m.dtype, device=m.device)
    denorm = torch.linalg.inv(norm)
    full = torch.cat([inv, inv.new_tensor([0, 0, 1]).expand(N, 1, 3)], 1)
    theta = (norm @ full @ denorm)[:, :2].to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode=mode, padding_mode='zeros', align_corners=False)


def random_affine_params(
    generator: Optional[torch.Generator] = None, degrees: float = 45.0, translate: Sequence[float] = (100.0, 100.0),
    shear: Sequence[float] = (10.0, 0.0)
) -> Dict[str, object]:
    """Draw one random affine: angle U(-degrees, degrees), tx U(-translate[0], translate[0]),
    ty likewise, shear_x U(-shear[0], shear[0]), shear_y U(-shear[1], shear[1]).

    Defaults are the PixPro thesis's random affine (rotation +-45 deg, translation +-100 px, x-shear
    +-10 deg, no y-shear). Returns dict(angle=float, translate=(tx, ty), shear=(sx, sy)) for
    ``affine_matrix(**params, center=...)``.
    """
    u = torch.rand(5, generator=generator, dtype=torch.float64) * 2 - 1  # U(-1, 1)
    bounds = [degrees, translate[0], translate[1], shear[0], shear[1]]
    v = [float(x) * b for x, b in zip(u, bounds)]
    return dict(angle=v[0], translate=(v[1], v[2]), shear=(v[3], v[4]))

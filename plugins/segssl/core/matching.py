"""Positive pixel pairs between two views of one image (the PixPro thesis, 2.4.1; PixPro).

A view's feature map is a lattice in original-image coordinates: the centre of feature bin
(row r, col c) is ``origin + M @ (c + 0.5, r + 0.5)`` with origin (N, 2) and M (N, 2, 2) in (x, y)
order. A plain crop box (x1, y1, x2, y2) gives M = diag((x2-x1)/W, (y2-y1)/H); a horizontal flip
negates the first column and starts at x2; an affine view composes its inverse warp, so one code
path serves crops, flips and affine views.

Pixels i (view a) and j (view b) are positive when ``|c_i - c_j| / max(diag_a, diag_b) <= tau``
(tau = 0.7), where diag = |M @ (1, 1)| is the bin diagonal (PixPro's normalisation).

``positive_pairs_dense`` builds the (N, HW_a, HW_b) matrix: the reference, for tests and small maps.
``sum_positive_targets`` finds the same pairs sparsely: the positives of i lie in a window of
b's index space around M_b^-1 (c_i - origin_b), so it visits K x K candidates per pixel (K set by
the bins' size ratio, ~8 for crops of scale 0.08..1) and keeps O(N C HW) memory. K is a Python
int sized from the geometry (``matching_window``); a lattice built on the CPU and moved with
``FeatureLattice.to(device)`` keeps its CPU geometry, so K is found without waiting for the device
(PixPro's model does this: its boxes arrive as host data).
"""
from typing import Optional, Tuple

import torch


class FeatureLattice:
    """Bin centres of an (height, width) feature map: origin (N, 2) + matrix (N, 2, 2) @ (c+.5, r+.5)."""

    def __init__(self, origin: torch.Tensor, matrix: torch.Tensor, height: int, width: int,
                 host: Optional['FeatureLattice'] = None):
        if origin.dim() != 2 or origin.shape[1] != 2 or matrix.shape != (origin.shape[0], 2, 2):
            raise ValueError(f'FeatureLattice: expected origin (N, 2) and matrix (N, 2, 2), got '
                             f'{tuple(origin.shape)} and {tuple(matrix.shape)}')
        self.origin, self.matrix, self.height, self.width = origin, matrix, height, width
        #: the same lattice on the CPU, kept by ``to`` (None if there is none): the sparse
        #: matching sizes its window from it without a device sync
        self.host = host

    def to(self, device) -> 'FeatureLattice':
        """This lattice on ``device``, keeping the CPU geometry it came from (``host``)."""
        return FeatureLattice(self.origin.to(device), self.matrix.to(device), self.height, self.width,
                              host=self.on_host())

    def on_host(self) -> Optional['FeatureLattice']:
        """This lattice if it is on the CPU, else the CPU copy ``to`` kept, else None."""
        return self if self.origin.device.type == 'cpu' and self.matrix.device.type == 'cpu' else self.host

    def centres(self) -> torch.Tensor:
        """(N, H*W, 2) bin centres, row-major (index = r * W + c), in original-image (x, y)."""
        r, c = torch.meshgrid(torch.arange(self.height, dtype=self.matrix.dtype, device=self.matrix.device),
                              torch.arange(self.width, dtype=self.matrix.dtype, device=self.matrix.device),
                              indexing='ij')
        grid = torch.stack([c.flatten() + 0.5, r.flatten() + 0.5], -1)  # (HW, 2)
        return self.origin[:, None, :] + grid @ self.matrix.transpose(1, 2)

    def bin_diagonal(self) -> torch.Tensor:
        """(N,) length of M @ (1, 1)."""
        return self.matrix.sum(-1).norm(dim=-1)


def lattice_from_boxes(boxes: torch.Tensor, flips: torch.Tensor, height: int, width: int,
                       view_size: Optional[Tuple[int,
                                                 int]] = None, warp: Optional[torch.Tensor] = None) -> FeatureLattice:
    """Lattice of a view's (height, width) feature map.

    Args:
        boxes: (N, 4) crop boxes (x1, y1, x2, y2) in original-image pixels.
        flips: (N,) bool, the crop was flipped horizontally after cropping.
        view_size: (h, w) of the view in pixels (needed with ``warp``).
        warp: (N, 2, 3) inverse affine warp of an affine view: maps a pixel (x, y) of the warped
            view to the pixel of the un-warped (cropped, flipped) view it was sampled from.
    """
    boxes = boxes.to(torch.float64) if boxes.dtype not in (torch.float32, torch.float64) else boxes
    N = boxes.shape[0]
    flips = flips.to(torch.bool).view(N)
    if warp is None:
        view_h, view_w = height, width  # any size: it cancels without a warp
        A = torch.eye(2, dtype=boxes.dtype, device=boxes.device).expand(N, 2, 2)
        t = boxes.new_zeros(N, 2)
    else:
        if view_size is None:
            raise ValueError('lattice_from_boxes: warp given without view_size=(h, w)')
        view_h, view_w = view_size
        A, t = warp[:, :, :2].to(boxes.dtype), warp[:, :, 2].to(boxes.dtype)
    sx = (boxes[:, 2] - boxes[:, 0]) / view_w
    sy = (boxes[:, 3] - boxes[:, 1]) / view_h
    S = torch.zeros(N, 2, 2, dtype=boxes.dtype, device=boxes.device)
    S[:, 0, 0] = torch.where(flips, -sx, sx)
    S[:, 1, 1] = sy
    o = torch.stack([torch.where(flips, boxes[:, 2], boxes[:, 0]), boxes[:, 1]], -1)
    D = torch.diag(torch.tensor([view_w / width, view_h / height], dtype=boxes.dtype, device=boxes.device))
    matrix = S @ A @ D
    origin = o + (S @ t[:, :, None])[:, :, 0]
    return FeatureLattice(origin, matrix, height, width)


#: slack, in bins of view b, added to the reach when the window is placed and sized: it absorbs
#: rounding of u and of the reach (and between the CPU geometry and its device copy); it can only
#: add candidates, each of which is still tested by its exact distance
_WINDOW_SLACK = 1e-3


def _radius(la: FeatureLattice, lb: FeatureLattice, tau: float) -> torch.Tensor:
    return tau * torch.maximum(la.bin_diagonal(), lb.bin_diagonal())  # (N,)


def _reach(la: FeatureLattice, lb: FeatureLattice, tau: float) -> torch.Tensor:
    """(N,) |M_b^-1|_2 * r: every positive j of a pixel i has |j - u_i|_inf <= reach (in b's bins)."""
    return torch.linalg.matrix_norm(torch.linalg.inv(lb.matrix), ord=2) * _radius(la, lb, tau)


def matching_window(la: FeatureLattice, lb: FeatureLattice, tau: float = 0.7) -> int:
    """K, the side (in view b's bins) of the candidate window of ``sum_positive_targets``:
    ``floor(2 * max_n reach_n + 3 * slack) + 1``, reach = |M_b^-1|_2 * tau * max(diag_a, diag_b).

    Computed from the CPU geometry (``FeatureLattice.on_host``) when both lattices have one: no
    device sync. Otherwise from the device tensors: one host sync (it waits for the device)."""
    ha, hb = la.on_host(), lb.on_host()
    if ha is None or hb is None:
        ha, hb = la, lb
    if ha.origin.shape[0] == 0:
        return 0
    return int(torch.floor(2 * _reach(ha, hb, tau).max() + 3 * _WINDOW_SLACK)) + 1


def positive_pairs_dense(la: FeatureLattice, lb: FeatureLattice, tau: float = 0.7) -> torch.Tensor:
    """(N, HW_a, HW_b) bool, A(i, j) = |c_i - c_j| <= tau * max bin diagonal. O((HW)^2) memory."""
    d = torch.cdist(la.centres(), lb.centres())
    return d <= _radius(la, lb, tau)[:, None, None]


@torch.no_grad()
def sum_positive_targets(target: torch.Tensor, la: FeatureLattice, lb: FeatureLattice, tau: float = 0.7,
                         window: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """For every pixel i of view a: the sum of ``target[:, :, j]`` over its positives j in view b.

    Args:
        target: (N, C, H_b, W_b) target-branch features of view b (no gradient is taken).
        window: K, the candidate window's side in b's bins; None (default): ``matching_window(la,
            lb, tau)``, which needs no device sync when the lattices carry CPU geometry (see
            ``FeatureLattice.to``). A K below ``matching_window``'s misses pairs; a
            larger one (e.g. a static bound from the crop scale range) costs K^2 passes.
    Returns:
        sums (N, C, H_a * W_a) and counts (N, H_a * W_a) of positives per pixel.
    """
    N, C, Hb, Wb = target.shape
    if (Hb, Wb) != (lb.height, lb.width):
        raise ValueError(f'target map {Hb}x{Wb} does not match view b lattice {lb.height}x{lb.width}')
    if window is None:
        K = matching_window(la, lb, tau)  # from the CPU geometry when there is one
    elif isinstance(window, int) and not isinstance(window, bool) and window >= 0:
        K = window
    else:
        raise ValueError(f'sum_positive_targets: window={window!r}: expected an int >= 0 or None')
    dtype = la.matrix.dtype
    ca = la.centres()  # (N, HWa, 2)
    r = _radius(la, lb, tau)  # (N,)
    inv = torch.linalg.inv(lb.matrix)  # (N, 2, 2)
    u = (ca - lb.origin[:, None, :]) @ inv.transpose(1, 2) - 0.5  # continuous (col, row) in b
    # |j - u|_inf <= |M_b^-1|_2 * r bounds every positive j of i; with reach = that + slack the
    # window starts at ceil(u - reach), and matching_window's K = floor(2 reach + slack) + 1 (from
    # the CPU geometry) covers every integer up to u + reach
    reach = torch.linalg.matrix_norm(inv, ord=2) * r + _WINDOW_SLACK  # (N,)
    base = torch.ceil(u - reach[:, None, None]).long()  # (N, HWa, 2)
    flat = target.reshape(N, C, Hb * Wb)
    sums = target.new_zeros(N, C, ca.shape[1])
    counts = target.new_zeros(N, ca.shape[1])
    for oy in range(K):
        for ox in range(K):
            jc, jr = base[..., 0] + ox, base[..., 1] + oy  # (N, HWa)
            inside = (jc >= 0) & (jc < Wb) & (jr >= 0) & (jr < Hb)
            cj = lb.origin[:, None, :] + torch.stack([jc, jr], -1).to(dtype).add(0.5) @ lb.matrix.transpose(1, 2)
            pos = inside & ((ca - cj).norm(dim=-1) <= r[:, None])
            # no early exit on an empty pass: asking pos.any() would wait for the GPU every pass
            idx = (jr.clamp(0, Hb - 1) * Wb + jc.clamp(0, Wb - 1))  # (N, HWa)
            gathered = flat.gather(2, idx[:, None, :].expand(N, C, -1))
            w = pos.to(target.dtype)
            sums += gathered * w[:, None, :]
            counts += w
    return sums, counts

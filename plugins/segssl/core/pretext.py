"""Label makers of the ERFNet thesis's image-level pretext tasks (numpy only): rotation, jigsaw, relative
patch. Colour (Lab) and Otsu labels are in :mod:`segssl.core.lab` and :mod:`segssl.core.otsu`.

Images are (H, W, C) arrays (mmcv's layout); ``rng`` is a ``numpy.random.Generator`` or
``RandomState`` (default ``np.random``, the global state mmengine seeds).

Rotation (the ERFNet thesis, 3.2.2; Gidaris et al. 2018): a square image rotated counter-clockwise by
k * 90 degrees, label k in {0, 1, 2, 3}.

Jigsaw (the ERFNet thesis, 3.2.3; Noroozi & Favaro 2016): a (3 * 75) x (3 * 75) crop is cut into a 3 x 3
grid of 75 px cells; inside each cell a 64 x 64 tile is taken at a uniform random offset (so
tiles never touch: gap and jitter of up to 11 px). The tiles are shuffled by one permutation of a
fixed subset P = {p_1..p_n} and the label is its index. P is chosen greedily as Noroozi's
``maximal_hamming``: p_1 uniform at random, then each next p_i is the remaining permutation with
the largest mean Hamming distance to p_1..p_{i-1} (ties: the first in lexicographic order).

Relative patch (the ERFNet thesis, 3.2.4; Doersch et al. 2015): tiles are cut as for the jigsaw ("patches
are extracted in the same way as the jigsaw task", so the jigsaw's gap and jitter); the centre
tile and one of its 8 neighbours, label = the neighbour's index in :data:`NEIGHBOURS`.
"""
import itertools
import math
from functools import lru_cache
from typing import Sequence, Tuple

import numpy as np

#: (row, col) in the 3 x 3 grid of the neighbour with relative-patch label i (row-major order,
#: the centre (1, 1) left out): 0 = top-left, 1 = top, 2 = top-right, 3 = left, 4 = right,
#: 5 = bottom-left, 6 = bottom, 7 = bottom-right.
NEIGHBOURS = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2))


def _rng(rng):
    return np.random if rng is None else rng


def _randint(rng, low: int, high: int) -> int:
    """Uniform integer in [low, high] from ``rng.uniform`` (any numpy RNG flavour)."""
    return low + min(int(math.floor(rng.uniform(0.0, high - low + 1))), high - low)


# ----------------------------------------------------------------------------- rotation
def rotate_image(img: np.ndarray, k: int) -> np.ndarray:
    """``img`` (H, W, ...) rotated counter-clockwise by ``k`` * 90 degrees (contiguous copy)."""
    if int(k) != k:
        raise ValueError(f'rotate_image: k={k!r}: expected an integer number of quarter turns')
    return np.ascontiguousarray(np.rot90(img, int(k) % 4, axes=(0, 1)))


def rotation_sample(img: np.ndarray, rng=None, num_rotations: int = 4) -> Tuple[np.ndarray, int]:
    """Draw k uniformly from {0..num_rotations-1}; return (img rotated by k * 360/num_rotations
    degrees, k). ``num_rotations`` 4 (the report; 2 = 0/180 also works). The image must be square
    when a quarter turn is possible, so that a batch keeps one shape."""
    if num_rotations not in (2, 4):
        raise ValueError(f'rotation_sample: num_rotations={num_rotations!r}: expected 4 '
                         '(0/90/180/270, the report) or 2 (0/180)')
    if num_rotations == 4 and img.shape[0] != img.shape[1]:
        raise ValueError(f'rotation_sample: image of shape {img.shape[:2]} is not square: the '
                         'rotation task uses square crops (the ERFNet thesis, 3.2.2); crop first')
    k = _randint(_rng(rng), 0, num_rotations - 1)
    return rotate_image(img, k * (4 // num_rotations)), k


# ------------------------------------------------------------------------------- jigsaw
@lru_cache(maxsize=8)
def _all_permutations(num_tiles: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(num_tiles))), dtype=np.int8)


@lru_cache(maxsize=16)
def _hamming_permutation_set(num_permutations: int, num_tiles: int, seed: int) -> np.ndarray:
    candidates = _all_permutations(num_tiles)
    if not 1 <= num_permutations <= len(candidates):
        raise ValueError(f'hamming_permutation_set: num_permutations={num_permutations}: '
                         f'expected 1..{len(candidates)} ({num_tiles}! permutations exist)')
    j = int(np.random.default_rng(seed).integers(len(candidates)))
    chosen = [j]
    total = np.zeros(len(candidates), dtype=np.int64)  # sum of distances to the chosen ones
    available = np.ones(len(candidates), dtype=bool)
    for _ in range(num_permutations - 1):
        available[j] = False
        total += (candidates != candidates[j]).sum(1)
        j = int(np.where(available, total, -1).argmax())
        chosen.append(j)
    out = candidates[chosen].astype(np.int64)
    out.setflags(write=False)
    return out


def hamming_permutation_set(num_permutations: int = 100, num_tiles: int = 9, seed: int = 0) -> np.ndarray:
    """Noroozi & Favaro's maximal-average-Hamming permutation subset.

    Args:
        num_permutations (int): n, the size of the subset (the jigsaw's number of classes;
            the ERFNet thesis leaves it open, Noroozi's default 100).
        num_tiles (int): tiles per puzzle (9 for the 3 x 3 grid).
        seed (int): seed of the first permutation's draw; the rest is deterministic.

    Returns:
        np.ndarray (n, num_tiles) int64, read-only: row i is p_i; p_i[j] is the tile shown at
        position j.
    """
    return _hamming_permutation_set(int(num_permutations), int(num_tiles), int(seed))


def hamming_distances(perms: np.ndarray) -> np.ndarray:
    """(n, n) matrix of Hamming distances (positions that differ) between the rows of ``perms``."""
    perms = np.asarray(perms)
    return (perms[:, None, :] != perms[None, :, :]).sum(-1)


def jigsaw_tile_corners(grid: int = 3, cell: int = 75, tile: int = 64, rng=None) -> np.ndarray:
    """(grid * grid, 2) int (y, x) top-left corners of the tiles, in row-major cell order: tile
    (r, c) lies at (r * cell + dy, c * cell + dx) with dy, dx ~ U{0..cell - tile}."""
    if not 0 < tile <= cell:
        raise ValueError(f'jigsaw tiles: tile={tile}, cell={cell}: expected 0 < tile <= cell')
    rng = _rng(rng)
    return np.array([(r * cell + _randint(rng, 0, cell - tile), c * cell + _randint(rng, 0, cell - tile))
                     for r in range(grid) for c in range(grid)], dtype=np.int64)


def extract_tiles(img: np.ndarray, corners: np.ndarray, tile: int) -> np.ndarray:
    """(T, tile, tile, ...) stack of ``img[y:y + tile, x:x + tile]`` for each corner (y, x)."""
    h, w = img.shape[:2]
    for y, x in corners:
        if y < 0 or x < 0 or y + tile > h or x + tile > w:
            raise ValueError(f'extract_tiles: tile at (y={y}, x={x}) of side {tile} leaves the '
                             f'{h} x {w} image')
    return np.stack([img[y:y + tile, x:x + tile] for y, x in corners])


def _check_grid_image(img: np.ndarray, grid: int, cell: int, who: str):
    if img.shape[0] != grid * cell or img.shape[1] != grid * cell:
        raise ValueError(f'{who}: image of shape {img.shape[:2]}: expected {grid * cell} x '
                         f'{grid * cell} (grid {grid} x cell {cell}); resize the crop first '
                         '(the ERFNet thesis: a random crop resized to 225 x 225)')


def jigsaw_sample(img: np.ndarray, permutations: np.ndarray, grid: int = 3, cell: int = 75, tile: int = 64,
                  rng=None) -> Tuple[np.ndarray, int]:
    """One jigsaw puzzle from a (grid * cell) x (grid * cell) image.

    Returns:
        tuple: (tiles (grid^2, tile, tile, C) in shuffled order: position j shows the tile of
        cell ``p[j]`` (row-major), label index of p in ``permutations``).
    """
    _check_grid_image(img, grid, cell, 'jigsaw_sample')
    permutations = np.asarray(permutations)
    if permutations.ndim != 2 or permutations.shape[1] != grid * grid:
        raise ValueError(f'jigsaw_sample: permutations of shape {permutations.shape}: expected '
                         f'(n, {grid * grid})')
    rng = _rng(rng)
    tiles = extract_tiles(img, jigsaw_tile_corners(grid, cell, tile, rng), tile)
    label = _randint(rng, 0, len(permutations) - 1)
    return tiles[permutations[label]], label


def relative_patch_sample(img: np.ndarray, grid: int = 3, cell: int = 75, tile: int = 64,
                          rng=None) -> Tuple[np.ndarray, int]:
    """Centre tile and one random neighbour of a 3 x 3 jigsaw grid.

    Returns:
        tuple: (tiles (2, tile, tile, C): [centre, neighbour], label in 0..7, the neighbour's
        index in :data:`NEIGHBOURS`).
    """
    if grid != 3:
        raise ValueError(f'relative_patch_sample: grid={grid}: the 8-way task uses a 3 x 3 grid')
    _check_grid_image(img, grid, cell, 'relative_patch_sample')
    rng = _rng(rng)
    corners = jigsaw_tile_corners(grid, cell, tile, rng)
    label = _randint(rng, 0, len(NEIGHBOURS) - 1)
    r, c = NEIGHBOURS[label]
    return extract_tiles(img, corners[[1 * grid + 1, r * grid + c]], tile), label


def permutation_index(perm: Sequence[int], permutations: np.ndarray) -> int:
    """Index of ``perm`` in ``permutations`` (ValueError if absent)."""
    hits = np.flatnonzero((np.asarray(permutations) == np.asarray(perm)).all(1))
    if len(hits) == 0:
        raise ValueError(f'permutation {list(perm)} is not in the set')
    return int(hits[0])

"""Qualitative figures (matplotlib, PNG, written atomically like ``segssl.runs.plots``):

- ``plot_pixel_pairs``: two views of one image with their positive pixel pairs (the PixPro thesis, PixPro)
  drawn as lines between the centres of matched feature bins;
- ``plot_prediction_grid``: one row per image: image, ground truth, predictions of several runs;
- ``plot_mix_step``: one ClassMix / DACS step: image a, image b, mask M, mixed image
  x' = M x_a + (1 - M) x_b, mixed pseudo-label, mixed weight map.

No mm* imports: the mmseg side (running the view transforms, inference, the training hook) is in
``segssl.mmseg`` (``pixpro_views``, ``run_inference``, ``mix_visualization_hook``). Each function returns
the arrays it drew, so tests check pixel values.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .plots import _save


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def colorize(labels: np.ndarray, palette: Sequence[Sequence[int]], ignore_index: int = 255,
             ignore_color: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """(H, W) int labels -> (H, W, 3) uint8 RGB by ``palette[label]``; ``ignore_index`` (and any
    label outside the palette) -> ``ignore_color``."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f'colorize: expected (H, W) labels, got shape {labels.shape}')
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    lut = np.concatenate([pal, np.asarray(ignore_color, dtype=np.uint8)[None]], 0)
    idx = labels.astype(np.int64)
    idx = np.where((idx < 0) | (idx >= len(pal)) | (idx == ignore_index), len(pal), idx)
    return lut[idx]


def bin_centres_in_view(feat_hw: Tuple[int, int], view_hw: Tuple[int, int]) -> np.ndarray:
    """(h*w, 2) (x, y) centres of a (h, w) feature map's bins in the view's own pixels, row-major
    (index r * w + c), continuous coordinates (pixel centres at +0.5): the frame in which the view
    is shown, i.e. after its crop, resize and flip (``lattice_from_boxes`` maps the same bins to
    the original image)."""
    fh, fw = feat_hw
    vh, vw = view_hw
    r, c = np.meshgrid(np.arange(fh), np.arange(fw), indexing='ij')
    return np.stack([(c.ravel() + 0.5) * vw / fw, (r.ravel() + 0.5) * vh / fh], -1)


def plot_pixel_pairs(view1: np.ndarray, view2: np.ndarray, pairs: np.ndarray, out_png: str,
                     image: Optional[np.ndarray] = None, boxes: Optional[np.ndarray] = None,
                     flips: Optional[Sequence[bool]] = None, gap: int = 16, title: str = '') -> np.ndarray:
    """Draw view 1 and view 2 side by side (and, if given, the original ``image`` with the two crop
    boxes) with one line per positive pair (i, j) from bin i's centre in view 1 to bin j's centre
    in view 2, coloured by i.

    Args:
        view1, view2: (h, w, 3) uint8 RGB views of equal size.
        pairs: (h_f * w_f, h_f * w_f) bool positive-pair matrix of the two views' feature maps
            (``positive_pairs_dense(l1, l2)[0]``); its size fixes the feature map, taken square
            unless ``pairs`` is 4-d (h_f, w_f, h_f, w_f).
        boxes: (2, 4) (x1, y1, x2, y2) crop boxes drawn on ``image``; flips: (2,) bool, in labels.
    Returns:
        (P, 2, 2) segments [[x1, y1], [x2, y2]] in the side-by-side canvas (view 2 shifted right by
        w + gap), one per pair, ordered like ``np.argwhere(pairs)``.
    """
    pairs = np.asarray(pairs, dtype=bool)
    if pairs.ndim == 4:
        feat_hw = pairs.shape[:2]
        pairs = pairs.reshape(feat_hw[0] * feat_hw[1], -1)
    else:
        side = int(round(np.sqrt(pairs.shape[0])))
        if pairs.ndim != 2 or pairs.shape[0] != pairs.shape[1] or side * side != pairs.shape[0]:
            raise ValueError(f'plot_pixel_pairs: pairs of shape {pairs.shape}: expected a square '
                             f'(h*w, h*w) matrix of a square map, or (h, w, h, w)')
        feat_hw = (side, side)
    if view1.shape != view2.shape or view1.ndim != 3:
        raise ValueError(f'plot_pixel_pairs: views of shapes {view1.shape} and {view2.shape}; '
                         f'expected two equal (h, w, 3) images')
    vh, vw = view1.shape[:2]
    centres = bin_centres_in_view(feat_hw, (vh, vw))
    ij = np.argwhere(pairs)
    shift = np.array([vw + gap, 0.0])
    segments = np.stack([centres[ij[:, 0]], centres[ij[:, 1]] + shift], 1) if len(ij) else np.zeros((0, 2, 2))
    canvas = np.full((vh, 2 * vw + gap, 3), 255, dtype=np.uint8)
    canvas[:, :vw], canvas[:, vw + gap:] = view1, view2

    plt = _pyplot()
    from matplotlib.collections import LineCollection
    ncols = 2 if image is not None else 1
    widths = [image.shape[1] / image.shape[0], canvas.shape[1] / vh] if image is not None else [1]
    fig, axes = plt.subplots(1, ncols, figsize=(3.2 * sum(widths), 3.6), gridspec_kw=dict(width_ratios=widths))
    axes = np.atleast_1d(axes)
    if image is not None:
        axes[0].imshow(image)
        for k, (box, colour) in enumerate(zip(np.asarray(boxes if boxes is not None else []), ('r', 'c'))):
            x1, y1, x2, y2 = box
            axes[0].add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=colour, lw=2))
            flip = ' (flipped)' if flips is not None and flips[k] else ''
            axes[0].text(x1, y1, f'view {k + 1}{flip}', color=colour, fontsize=8, va='bottom')
        axes[0].set_title('image and crop boxes')
        axes[0].axis('off')
    ax = axes[-1]
    ax.imshow(canvas)
    colours = plt.get_cmap('hsv')(ij[:, 0] / max(1, len(centres))) if len(ij) else None
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=0.8, alpha=0.8))
    ax.scatter(*centres.T, s=4, c='w')
    ax.scatter(*(centres + shift).T, s=4, c='w')
    ax.set_xlim(0, canvas.shape[1])
    ax.set_ylim(vh, 0)
    ax.set_title(title or f'view 1 | view 2: {len(ij)} positive pairs, {feat_hw[0]}x{feat_hw[1]} bins')
    ax.axis('off')
    try:
        _save(fig, out_png)
    finally:
        plt.close(fig)
    return segments


def plot_prediction_grid(images: List[np.ndarray], gts: List[np.ndarray], preds: Dict[str, List[np.ndarray]],
                         palette: Sequence[Sequence[int]], out_png: str, ignore_index: int = 255,
                         names: Optional[List[str]] = None) -> List[List[np.ndarray]]:
    """One row per image: the RGB image, its colourised ground truth, then each run's colourised
    prediction (runs in ``preds``' order, one label map per image).

    Returns the panels drawn, ``panels[row][col]`` (H, W, 3) uint8: col 0 image, 1 ground truth,
    2 + k run k."""
    n = len(images)
    if n == 0 or len(gts) != n or any(len(p) != n for p in preds.values()):
        raise ValueError(f'plot_prediction_grid: {n} images, {len(gts)} ground truths, predictions per run '
                         f'{ {k: len(v) for k, v in preds.items()} }; expected equal non-zero counts')
    panels = [[np.asarray(images[i], dtype=np.uint8),
               colorize(gts[i], palette, ignore_index)] +
              [colorize(p[i], palette, ignore_index) for p in preds.values()] for i in range(n)]
    titles = ['image', 'ground truth'] + list(preds)
    plt = _pyplot()
    h, w = panels[0][0].shape[:2]
    fig, axes = plt.subplots(n, len(titles),
                             figsize=(2.6 * len(titles) * w / max(h, w) + 0.5, 2.6 * n * h / max(h, w) + 0.5),
                             squeeze=False)
    for i, row in enumerate(panels):
        for j, panel in enumerate(row):
            axes[i, j].imshow(panel, interpolation='nearest')
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(titles[j], fontsize=9)
        if names:
            axes[i, 0].set_ylabel(names[i], fontsize=7)
    try:
        _save(fig, out_png)
    finally:
        plt.close(fig)
    return panels


def plot_mix_step(image_a: np.ndarray, image_b: np.ndarray, mask: np.ndarray, mixed: np.ndarray, target: np.ndarray,
                  weight: np.ndarray, palette: Sequence[Sequence[int]], out_png: str, ignore_index: int = 255,
                  title: str = '') -> Dict[str, np.ndarray]:
    """One mixing step of one sample in six panels: image a, image b, mask M (white = from a),
    mixed image, mixed pseudo-label (colourised; soft (C, H, W) targets are shown by argmax),
    mixed weight map (viridis, 0..1; its range in the title).

    Images are (H, W, 3) uint8 RGB. Returns the panels drawn by name (uint8 arrays, the weight map
    as float)."""
    target = np.asarray(target)
    labels = target.argmax(0) if target.ndim == 3 else target
    panels = {
        'image a': np.asarray(image_a, np.uint8),
        'image b': np.asarray(image_b, np.uint8),
        'mask': (np.asarray(mask, bool) * 255).astype(np.uint8),
        'mixed image': np.asarray(mixed, np.uint8),
        'pseudo-label': colorize(labels, palette, ignore_index),
        'weight': np.asarray(weight, np.float64)
    }
    plt = _pyplot()
    h, w = panels['image a'].shape[:2]
    fig, axes = plt.subplots(1, 6, figsize=(6 * 2.4 * w / max(h, w), 2.4 * h / max(h, w) + 0.6))
    for ax, (name, panel) in zip(axes, panels.items()):
        if name == 'mask':
            ax.imshow(panel, cmap='gray', vmin=0, vmax=255, interpolation='nearest')
        elif name == 'weight':
            ax.imshow(panel, cmap='viridis', vmin=0, vmax=1, interpolation='nearest')
            name = f'weight {panel.min():.2f}..{panel.max():.2f}'
        else:
            ax.imshow(panel, interpolation='nearest')
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    try:
        _save(fig, out_png)
    finally:
        plt.close(fig)
    return panels

"""ENet class weights (the ERFNet thesis, Eq. 4.1; Paszke et al., ENet):

    w_class = 1 / ln(c + p_class),   c = 1.02

``p_class`` is the class's pixel frequency over the whole labelled set: the number of pixels of
that class divided by the number of labelled pixels (pixels equal to ``ignore_index`` count in
neither). With c = 1.02 the weights lie in [1/ln 2.02, 1/ln 1.02] = [1.42, 50.50] (the report's
interval); a class that never occurs gets the maximum 1/ln(c).
"""
import numpy as np


def class_pixel_counts(labels, num_classes, ignore_index=255):
    """Pixel count of each class over label maps.

    Args:
        labels (iterable[np.ndarray]): integer label maps ``(H, W)`` (any shapes).
        num_classes (int): K; valid labels are 0..K-1.
        ignore_index (int | None): label excluded from the counts.

    Returns:
        np.ndarray: ``(K,)`` int64 counts.

    Raises:
        ValueError: a label outside 0..K-1 that is not ``ignore_index`` (the message gives the
            map's position in ``labels`` and the offending values).
    """
    counts = np.zeros(num_classes, dtype=np.int64)
    for i, lab in enumerate(labels):
        lab = np.asarray(lab).ravel()
        if ignore_index is not None:
            lab = lab[lab != ignore_index]
        bad = lab[(lab < 0) | (lab >= num_classes)]
        if bad.size:
            raise ValueError(f'label map {i}: values {sorted(set(bad.tolist()))[:8]} outside '
                             f'0..{num_classes - 1} (ignore_index {ignore_index})')
        counts += np.bincount(lab.astype(np.int64), minlength=num_classes)
    return counts


def enet_class_weights(counts, c=1.02):
    """``w = 1 / ln(c + p)`` with ``p = counts / counts.sum()``; ``(K,)`` float64."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any():
        raise ValueError(f'counts must be a 1-D array of non-negative numbers, got {counts!r}')
    total = counts.sum()
    if total <= 0:
        raise ValueError('no labelled pixel: every pixel is ignore_index or the set is empty')
    if c <= 1.0:
        raise ValueError(f'c must be > 1 (ln(c + p) > 0 for p = 0), got {c}')
    return 1.0 / np.log(c + counts / total)

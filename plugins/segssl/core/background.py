"""Background removal from instance predictions, and its score (the Mask R-CNN thesis, framework-free, numpy).

The Mask R-CNN thesis runs the fine-tuned Mask R-CNN on an image, keeps the predicted instance mask, zeroes
every pixel outside it, and scores the result by the cosine similarity (in %) with the
ground-truth background-removed image. The report leaves open which instance(s) to keep and the
score threshold; here they are options (the Mask R-CNN thesis, "Background removal": unstated):

* ``keep='top'``: the highest-scoring instance with score >= ``score_threshold``;
* ``keep='union'``: the union of every instance with score >= ``score_threshold``;
* ``class_ids``: consider only instances of these (contiguous, 0-based detectron2) classes.

When no instance passes, the mask is empty: the output image is all zeros and the image is
reported as having no instance (never an error).

Cosine similarity of images ``a``, ``b`` of the same shape ``(H, W, C)``, over all pixels and
channels as float64 vectors: ``100 * <a, b> / (|a| |b|)``; by convention 100 when both are all
zero (identical) and 0 when exactly one is.
"""
import numpy as np

KEEP_MODES = ('top', 'union')


def select_instance_mask(masks, scores, classes=None, keep='top', score_threshold=0.5, class_ids=None):
    """The foreground mask to keep, from instance predictions.

    Args:
        masks (ndarray): ``(N, H, W)`` bool instance masks.
        scores (ndarray): ``(N,)`` confidence scores.
        classes (ndarray | None): ``(N,)`` class ids (needed when ``class_ids`` is given).
        keep (str): 'top' or 'union' (see the module docstring).
        score_threshold (float): instances with score < this are ignored.
        class_ids (Iterable[int] | None): only these classes count; None = all.

    Returns:
        tuple[ndarray, list[int]]: ``(H, W)`` bool mask (all False when nothing passes) and the
        indices of the kept instances (empty when nothing passes).
    """
    masks = np.asarray(masks, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if keep not in KEEP_MODES:
        raise ValueError(f'keep={keep!r}: expected one of {KEEP_MODES}')
    if masks.ndim != 3 or scores.shape != (masks.shape[0], ):
        raise ValueError(f'expected masks (N, H, W) and scores (N,), got {masks.shape} and {scores.shape}')
    ok = scores >= score_threshold
    if class_ids is not None:
        if classes is None:
            raise ValueError('class_ids given but no classes')
        ok &= np.isin(np.asarray(classes), list(class_ids))
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return np.zeros(masks.shape[1:], dtype=bool), []
    if keep == 'top':
        idx = idx[[int(np.argmax(scores[idx]))]]
    return masks[idx].any(axis=0), [int(i) for i in idx]


def remove_background(image, mask):
    """``image`` with every pixel outside ``mask`` set to 0; same dtype and shape.

    Args:
        image (ndarray): ``(H, W, C)`` or ``(H, W)``.
        mask (ndarray): ``(H, W)`` bool (nonzero = keep).
    """
    image = np.asarray(image)
    mask = np.asarray(mask).astype(bool)
    if mask.shape != image.shape[:2]:
        raise ValueError(f'mask {mask.shape} does not match image {image.shape[:2]}')
    return image * (mask[..., None] if image.ndim == 3 else mask).astype(image.dtype)


def cosine_similarity_percent(a, b):
    """Cosine similarity of two images (flattened, float64) in %; see the module docstring."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f'images differ in size: {a.size} vs {b.size} values')
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 100.0
    if na == 0 or nb == 0:
        return 0.0
    return float(100.0 * np.dot(a, b) / (na * nb))


def summarize(records):
    """Averages over per-image records ``{'cosine': float | None, 'no_instance': bool}``.

    Returns a dict: ``num_images``, ``num_no_instance``, ``mean_cosine`` (over images with a kept
    instance), ``mean_cosine_all`` (over every scored image; a no-instance output is all zeros).
    """
    scored = [r for r in records if r.get('cosine') is not None]
    found = [r['cosine'] for r in scored if not r['no_instance']]
    return {
        'num_images': len(records),
        'num_no_instance': sum(bool(r['no_instance']) for r in records),
        'mean_cosine': float(np.mean(found)) if found else None,
        'mean_cosine_all': float(np.mean([r['cosine'] for r in scored])) if scored else None
    }

"""IoU over class subsets beside mmseg's 19-class mIoU (seed 004, Table 4.4: SYNTHIA -> Cityscapes
is reported as mIoU over SYNTHIA's 16 classes and mIoU* over 13, leaving out wall, fence, pole).

IoU_c = TP_c / (TP_c + FP_c + FN_c) from the accumulated 19-class areas (predictions of a class
outside the subset still count as false positives); mIoU_S = mean_{c in S} IoU_c over the classes
of S whose union is non-empty, in percent like mmseg's ``mIoU``.
"""
from typing import Dict, Sequence

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from segssl.core.uda_labels import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES


@METRICS.register_module()
class SynthiaIoUMetric(IoUMetric):
    """mmseg's IoUMetric plus ``mIoU16`` and ``mIoU13`` (keys and train ids in ``class_subsets``).

    Args:
        class_subsets (dict): metric name -> train ids averaged over; default SYNTHIA's 16 and 13.
        **kwargs: IoUMetric's (``iou_metrics``, ``ignore_index``, ...).
    """

    def __init__(self, class_subsets: Dict[str, Sequence[int]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.class_subsets = {k: tuple(int(c) for c in v) for k, v in (class_subsets or dict(
            mIoU16=SYNTHIA_16_CLASSES, mIoU13=SYNTHIA_13_CLASSES)).items()}

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results).numpy().astype(np.float64)
        union = sum(r[1] for r in results).numpy().astype(np.float64)
        with np.errstate(divide='ignore', invalid='ignore'):
            iou = np.where(union > 0, intersect / union, np.nan)
        for name, classes in self.class_subsets.items():
            if max(classes) >= len(iou):
                raise ValueError(f'SynthiaIoUMetric: class_subsets[{name!r}] names train id '
                                 f'{max(classes)}, but the dataset has {len(iou)} classes')
            metrics[name] = float(np.round(np.nanmean(iou[list(classes)]) * 100, 2))
        return metrics

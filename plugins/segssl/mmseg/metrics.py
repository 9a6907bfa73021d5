"""Metrics beside mmseg's IoUMetric.

- ``PerClassMetricsHook``: the per-class values IoUMetric computes (``IoU.<class>``, ...) in the
  metrics it returns, so they reach scalars.json and every visualizer backend.
- ``SynthiaIoUMetric``: IoU over class subsets beside mmseg's 19-class mIoU (the ClassMix/DACS thesis, Table 4.4:
  SYNTHIA -> Cityscapes is reported as mIoU over SYNTHIA's 16 classes and mIoU* over 13, leaving
  out wall, fence, pole). IoU_c = TP_c / (TP_c + FP_c + FN_c) from the accumulated 19-class areas
  (predictions of a class outside the subset still count as false positives); mIoU_S =
  mean_{c in S} IoU_c over the classes of S whose union is non-empty, in percent like mmseg's
  ``mIoU``.
"""
from typing import Dict, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmseg.evaluation import IoUMetric
from mmseg.registry import HOOKS, METRICS

from segssl.data.uda_labels import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES


@METRICS.register_module()
class SynthiaIoUMetric(IoUMetric):
    """mmseg's IoUMetric plus ``mIoU16`` and ``mIoU13`` (keys and train ids in ``class_subsets``).

    Args:
        class_subsets (dict): metric name -> train ids averaged over; default SYNTHIA's 16 and 13.
        **kwargs: IoUMetric's (``iou_metrics``, ``ignore_index``, ...).
    """

    def __init__(self, class_subsets: Dict[str, Sequence[int]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.class_subsets = {
            k: tuple(int(c) for c in v)
            for k, v in (class_subsets or dict(mIoU16=SYNTHIA_16_CLASSES, mIoU13=SYNTHIA_13_CLASSES)).items()
        }

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


def per_class_metrics(metric: IoUMetric, results: list) -> Dict[str, float]:
    """``<name>.<class>`` for every per-class metric ``metric`` computes (``IoU``, ``Acc``, and
    ``Dice`` / ``Fscore`` / ``Precision`` / ``Recall`` when its ``iou_metrics`` ask for them):
    mmseg's own ``total_area_to_metrics`` on the accumulated areas in ``results`` (one
    (intersect, union, pred, label) tuple of (C,) areas per image), in percent rounded to 2
    decimals (the values of the per-class table IoUMetric logs) as Python floats; NaN where a
    class's union (or label area, for Acc) is empty, unless ``nan_to_num`` is set."""
    areas = [sum(a) for a in zip(*results)]
    per_class = metric.total_area_to_metrics(*areas, metric.metrics, metric.nan_to_num, metric.beta)
    per_class.pop('aAcc', None)
    classes = metric.dataset_meta['classes']
    # in float64: mmseg's areas are float32 on some torch versions, and 66.67 should read 66.67
    return {
        f'{name}.{cls}': round(float(v) * 100, 2)
        for name, values in per_class.items()
        for cls, v in zip(classes, values)
    }


@HOOKS.register_module()
class PerClassMetricsHook(Hook):
    """Adds the per-class values of every IoUMetric (and subclass) in the validation and test
    evaluators to the metrics they return, as ``IoU.<class>``, ``Acc.<class>``, ... (the
    names mmseg 0.x returned): mmseg 1.x's IoUMetric computes them but only logs them as a
    table, so they never reached scalars.json / TensorBoard / W&B. The summary keys (``mIoU``,
    ``aAcc``, ...) are unchanged.

    It wraps each metric instance's ``compute_metrics`` (the class is unchanged) at the first
    ``before_val`` / ``before_test``; under DDP that runs on rank 0 on the results of every rank,
    as the metric's own does. Every segssl schedule sets it as ``default_hooks.per_class_metrics``."""
    priority = 'VERY_HIGH'

    def before_val(self, runner) -> None:
        self._wrap(runner.val_loop.evaluator)

    def before_test(self, runner) -> None:
        self._wrap(runner.test_loop.evaluator)

    @staticmethod
    def _wrap(evaluator) -> None:
        for metric in evaluator.metrics:
            if not isinstance(metric, IoUMetric) or getattr(metric, '_per_class_wrapped', False):
                continue
            compute = metric.compute_metrics

            def compute_with_classes(results, _metric=metric, _compute=compute):
                out = _compute(results)
                if not _metric.format_only:
                    out.update(per_class_metrics(_metric, results))
                return out

            metric.compute_metrics, metric._per_class_wrapped = compute_with_classes, True

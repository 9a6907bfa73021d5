"""segssl.runs: running experiments and reading back what they wrote (framework-free; matplotlib
only inside the drawing functions).

* :mod:`.commands`: :func:`run_logged`, a tool run with its output logged;
* :mod:`.scalars`: mmengine's ``scalars.json`` read back (:func:`mmengine_scalars`,
  :func:`last_mmengine_metrics`, :func:`mmengine_records`);
* :mod:`.detectron2_metrics` and :mod:`.smoothing`: detectron2's ``metrics.json`` and its
  smoothed loss curves;
* :mod:`.experiments`: multi-seed experiments (plans, done-files, tables, ``compare_arms``);
* :mod:`.plots` and :mod:`.figures`: curves, per-class bars and qualitative figures (PNG).
"""
from .commands import add_threads_option, run_logged, thread_env
from .scalars import last_mmengine_metrics, mmengine_records, mmengine_scalars, scalars_files

__all__ = [
    'add_threads_option', 'last_mmengine_metrics', 'mmengine_records', 'mmengine_scalars', 'run_logged',
    'scalars_files', 'thread_env'
]

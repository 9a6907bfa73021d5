"""Exponential moving average of a logged curve (the Mask R-CNN thesis plots its losses EMA-smoothed, beta 0.99).

For values ``x_1 .. x_n`` and ``beta``:

* bias-corrected (``debias=True``, the default; TensorBoard's smoothing):
  ``m_0 = 0``, ``m_t = beta m_{t-1} + (1 - beta) x_t``, ``s_t = m_t / (1 - beta^t)``;
* plain (``debias=False``): ``s_1 = x_1``, ``s_t = beta s_{t-1} + (1 - beta) x_t``.

Non-finite values (a NaN loss) are left out: they neither update the average nor count in ``t``,
and their output is NaN.
"""
import math

import numpy as np


def ema_smooth(values, beta=0.99, debias=True):
    """EMA of ``values`` (1-D sequence); returns a float64 ndarray of the same length."""
    if not 0 <= beta < 1:
        raise ValueError(f'beta={beta}: expected 0 <= beta < 1')
    out = np.full(len(values), np.nan)
    m, t = 0.0, 0
    for i, x in enumerate(values):
        x = float(x)
        if not math.isfinite(x):
            continue
        t += 1
        if debias:
            m = beta * m + (1 - beta) * x
            out[i] = m / (1 - beta**t)
        else:
            m = x if t == 1 else beta * m + (1 - beta) * x
            out[i] = m
    return out

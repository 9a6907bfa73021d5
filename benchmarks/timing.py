"""What every benchmark here shares: the median wall time of a call, and writing its results
file whole (atomically). Benchmarks run as scripts (``python benchmarks/NAME.py``), so this
folder is on their path."""
import time

from segssl.io.atomic import atomic_outputs


def timed(fn, repeats):
    """Median seconds of ``repeats`` calls of ``fn()``, after one warm-up call."""
    fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return sorted(t)[len(t) // 2]


def write_results(path, text):
    """Write ``text`` to ``path`` atomically (the old file, if any, stays until the new is whole)."""
    with atomic_outputs(path) as (tmp,):
        with open(tmp, 'w') as f:
            f.write(text)

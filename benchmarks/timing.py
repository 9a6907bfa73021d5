"""What every benchmark here shares: the median wall time of a call, and writing its results
file whole (atomically). Benchmarks run as scripts (``python benchmarks/NAME.py``), so this
folder is on their path."""
import argparse
import os
import time

from segssl.io.atomic import atomic_outputs

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


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
    with atomic_outputs(path) as (tmp, ):
        with open(tmp, 'w') as f:
            f.write(text)


def benchmark_parser(doc, name, repeats=None, threads=None):
    """The options the benchmarks share: ``--out`` (default ``benchmarks/results/NAME.md``) and,
    where given a default, ``--repeats`` and ``--threads``. Add a benchmark's own to the result."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if threads is not None:
        p.add_argument('--threads', type=int, default=threads)
    if repeats is not None:
        p.add_argument('--repeats', type=int, default=repeats)
    p.add_argument('--out', default=os.path.join(RESULTS, name + '.md'))
    return p


def publish(path, text):
    """Write the results (a string, or lines) to ``path`` whole and print them; returns 0, the
    benchmark's exit status."""
    text = text if isinstance(text, str) else '\n'.join(text)
    write_results(path, text)
    print(text)
    return 0

"""Running segssl's command-line tools from scripts (the demo, the experiments), with their output
logged (framework-free: it only starts processes)."""
import os
import subprocess
import sys
import time


def run_logged(cmd, log_path, cwd, env=None, echo=True):
    """Run ``cmd`` in ``cwd``, writing its output to ``log_path`` and, with ``echo``, streaming it to
    the console too; exit with a message naming the command and log if it fails. Returns the wall
    time in seconds."""
    print(f'\n$ {" ".join(cmd)}\n  (log: {log_path})', flush=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    t0 = time.time()
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED='1', **(env or {})))
        for line in proc.stdout:
            if echo:
                sys.stdout.write(line)
            log.write(line)
        proc.wait()
    if proc.returncode != 0:
        sys.exit(f'step failed with exit code {proc.returncode}: {" ".join(cmd)} (see {log_path})')
    secs = time.time() - t0
    if not echo:
        print(f'  done in {secs / 60:.1f} min: {log_path}', flush=True)
    return secs


def add_threads_option(parser, default: int) -> None:
    """``--threads N``: the CPU threads of every run a headline tool starts (see :func:`thread_env`)."""
    parser.add_argument(
        '--threads', type=int, default=default,
        help='OMP_NUM_THREADS / MKL_NUM_THREADS of every run, fixed whatever the shell sets '
        f'(default: {default})')


def thread_env(threads: int) -> dict:
    """The environment that fixes a run's CPU thread count (torch's intra-op pool reads
    OMP_NUM_THREADS at start-up; MKL its own), so a tool's figures do not depend on the shell."""
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f'threads={threads!r}: expected an int >= 1')
    return {'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}

"""Running segssl's command-line tools from scripts (demo, experiments) and reading back the
metrics mmengine wrote. Framework-free: it only starts processes and reads JSON lines."""
import glob
import json
import os
import subprocess
import sys
import time


def run_logged(cmd, log_path, cwd, env=None):
    """Run ``cmd`` in ``cwd``, streaming its output to the console and to ``log_path``; exit with
    a message naming the command and log if it fails. Returns the wall time in seconds."""
    print(f'\n$ {" ".join(cmd)}\n  (log: {log_path})', flush=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    t0 = time.time()
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED='1', **(env or {})))
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        proc.wait()
    if proc.returncode != 0:
        sys.exit(f'step failed with exit code {proc.returncode}: {" ".join(cmd)} (see {log_path})')
    return time.time() - t0


def last_mmengine_metrics(work_dir, key='mIoU'):
    """The last record holding ``key`` in mmengine's scalars.json files under ``work_dir``."""
    found = None
    for path in sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            if key in rec:
                found = rec
    if found is None:
        raise RuntimeError(f'no {key!r} record in {work_dir}/*/vis_data/scalars.json')
    return found


def mmengine_records(work_dir, key):
    """Every (step, value) of ``key`` in mmengine's scalars.json files under ``work_dir``."""
    out = []
    for path in sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            if key in rec:
                out.append((rec.get('step', rec.get('iter')), rec[key]))
    return out

"""Reading back the metrics mmengine wrote (framework-free: it only reads JSON lines).

:func:`mmengine_scalars` is the one reader of mmengine's ``WORK_DIR/*/vis_data/scalars.json``
(the tools, the experiments and the tests read runs through it); :func:`last_mmengine_metrics`
and :func:`mmengine_records` pick the last record or every value of one key from it."""
import glob
import json
import os


def scalars_files(work_dir):
    """mmengine's ``work_dir/<timestamp>/vis_data/scalars.json`` files, oldest run first
    (mmengine's timestamps sort by time; a resumed run adds a folder)."""
    return sorted(glob.glob(os.path.join(glob.escape(work_dir), '*', 'vis_data', 'scalars.json')))


def mmengine_scalars(work_dir):
    """Every record (one dict per JSON line: a training or a validation line) of the
    scalars.json files under ``work_dir``, in the order mmengine wrote them."""
    records = []
    for path in scalars_files(work_dir):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def last_mmengine_metrics(work_dir, key='mIoU'):
    """The last record holding ``key`` in mmengine's scalars.json files under ``work_dir``."""
    found = [rec for rec in mmengine_scalars(work_dir) if key in rec]
    if not found:
        raise RuntimeError(f'no {key!r} record in {work_dir}/*/vis_data/scalars.json')
    return found[-1]


def mmengine_records(work_dir, key):
    """Every (step, value) of ``key`` in mmengine's scalars.json files under ``work_dir``."""
    return [(rec.get('step', rec.get('iter')), rec[key]) for rec in mmengine_scalars(work_dir) if key in rec]

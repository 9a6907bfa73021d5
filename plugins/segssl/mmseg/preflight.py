"""Checks run by segssl's tools/train.py and tools/test.py before handing over to mmseg, so a
wrong data root ends with one clear line instead of a traceback from deep inside a dataloader."""
import argparse
import os
from typing import Iterable, List

from mmengine.config import Config, DictAction

LOADERS = {'train.py': ('train_dataloader', 'val_dataloader'), 'test.py': ('test_dataloader',)}


def _datasets(cfg) -> Iterable[dict]:
    """Every dataset dict in a (possibly wrapped: RepeatDataset, ConcatDataset) dataset config."""
    if isinstance(cfg, dict):
        if 'data_root' in cfg or 'data_prefix' in cfg:
            yield cfg
        for key in ('dataset', 'datasets'):
            yield from _datasets(cfg.get(key))
    elif isinstance(cfg, (list, tuple)):
        for c in cfg:
            yield from _datasets(c)


def missing_data_folders(cfg: Config, loaders: Iterable[str]) -> List[str]:
    """One message per dataloader whose data root or image/label folder does not exist."""
    problems = []
    for loader in loaders:
        if not cfg.get(loader) or (loader == 'val_dataloader' and not cfg.get('val_cfg')):
            continue
        for ds in _datasets(cfg[loader].get('dataset')):
            root = ds.get('data_root') or ''
            if root and not os.path.isdir(root):
                problems.append(f'{loader}.dataset: data_root {root!r} does not exist')
                continue
            for key, sub in (ds.get('data_prefix') or {}).items():
                path = os.path.join(root, sub)
                if sub and not os.path.isdir(path):
                    problems.append(f'{loader}.dataset: data_prefix.{key} folder {path!r} does not exist')
    return problems


def check_data_roots(tool: str, args) -> None:
    """Raise SystemExit with a clear message if the config's data folders are missing."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument('config', nargs='?')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    known, _ = p.parse_known_args(list(args))
    if not known.config or not os.path.isfile(known.config) or tool not in LOADERS:
        return                              # mmseg's own script reports these
    cfg = Config.fromfile(known.config)
    if known.cfg_options:
        cfg.merge_from_dict(known.cfg_options)
    problems = missing_data_folders(cfg, LOADERS[tool])
    if problems:
        raise SystemExit(
            f'{tool}: error: data not found for config {known.config}:\n  ' + '\n  '.join(problems) +
            '\nexpected a dataset in the layout the config names (for the synthetic set: run '
            '`python tools/make_synthetic_data.py DIR` and set SEGSSL_DATA_ROOT=DIR, or fix '
            'data_root in the config / with --cfg-options)')

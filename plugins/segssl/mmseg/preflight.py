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
        for key in ('dataset', 'datasets', 'labelled', 'unlabelled'):      # wrappers, PairedDataset
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
            problems.extend(split_file_problems(loader, ds))
    return problems


def split_file_problems(loader: str, ds: dict) -> List[str]:
    """A dataset read through an ``ann_file`` (a label split): the file exists, and every id in
    it names an existing image and label map (segssl.splits.check_data_list)."""
    ann = ds.get('ann_file') or ''
    if not ann:
        return []
    root = ds.get('data_root') or ''
    path = ann if os.path.isabs(ann) or not root else os.path.join(root, ann)
    if not os.path.isfile(path):
        return [f'{loader}.dataset: ann_file {path!r} does not exist (label splits: run '
                '`python tools/make_label_splits.py DATA_ROOT --dataset ...`)']
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from segssl.splits import check_data_list
    init_default_scope('mmseg')
    cfg = dict(ds, pipeline=[], lazy_init=True)
    try:
        built = DATASETS.build(cfg)
        built.full_init()
        check_data_list([built.get_data_info(i) for i in range(len(built))], f'{loader}.dataset ann_file {path!r}',
                        [k for k in ('img_path', 'seg_map_path') if (ds.get('data_prefix') or {}).get(k)])
    except ValueError as e:
        return [str(e) if 'ann_file' in str(e) else f'{loader}.dataset ann_file {path!r}: {e}']
    return []


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

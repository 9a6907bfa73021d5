"""Checks run by segssl's tools/train.py and tools/test.py before handing over to mmseg, so bad
input ends with one clear line on stderr (exit code 2, no traceback, nothing written: mmseg's
script has not made the work dir yet) instead of a traceback from deep inside a dataloader:

* the config file exists;
* the data root and image/label folders exist, and a label split names existing files;
* every checkpoint the run loads exists (``init_cfg`` Pretrained at any depth, ``pretrained``,
  ``load_from``, hook checkpoints, test.py's CHECKPOINT), naming the ``SEGSSL_*`` variable that
  sets it (checkpoint_checks.py);
* on a sample of each train/val (test.py: test) dataset, label ids lie in 0..num_classes-1 or the
  ignore index, and images decode (input_checks.py; ``preflight = dict(max_labels=200,
  max_images=50, skip_unreadable=False)`` in a config or ``--cfg-options`` changes it).
"""
import argparse
import os
import sys
from typing import Iterable, List, Tuple

from mmengine.config import Config, DictAction

LOADERS = {'train.py': ('train_dataloader', 'val_dataloader'), 'test.py': ('test_dataloader', )}
DATASET_KEYS = ('dataset', 'datasets', 'labelled', 'unlabelled')  # wrappers, PairedDataset


def _dataset_items(cfg, key: str) -> Iterable[Tuple[str, dict]]:
    """``(config key, dataset dict)`` of every dataset in a (possibly wrapped: RepeatDataset,
    ConcatDataset, PairedDataset) dataset config."""
    if isinstance(cfg, dict):
        if 'data_root' in cfg or 'data_prefix' in cfg:
            yield key, cfg
        for k in DATASET_KEYS:
            yield from _dataset_items(cfg.get(k), f'{key}.{k}')
    elif isinstance(cfg, (list, tuple)):
        for i, c in enumerate(cfg):
            yield from _dataset_items(c, f'{key}.{i}')


def _datasets(cfg) -> Iterable[dict]:
    """Every dataset dict in a (possibly wrapped: RepeatDataset, ConcatDataset) dataset config."""
    for _, ds in _dataset_items(cfg, ''):
        yield ds


def _used_loaders(cfg, loaders: Iterable[str]) -> List[str]:
    return [
        loader for loader in loaders if cfg.get(loader) and not (loader == 'val_dataloader' and not cfg.get('val_cfg'))
    ]


def missing_data_folders(cfg: Config, loaders: Iterable[str]) -> List[str]:
    """One message per dataloader whose data root or image/label folder does not exist."""
    problems = []
    for loader in _used_loaders(cfg, loaders):
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
    it names an existing image and label map (segssl.data.splits.check_data_list)."""
    ann = ds.get('ann_file') or ''
    if not ann:
        return []
    root = ds.get('data_root') or ''
    path = ann if os.path.isabs(ann) or not root else os.path.join(root, ann)
    if not os.path.isfile(path):
        return [
            f'{loader}.dataset: ann_file {path!r} does not exist (label splits: run '
            '`python tools/make_label_splits.py DATA_ROOT --dataset ...`)'
        ]
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from segssl.data.splits import check_data_list
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


def fail(tool: str, problems: List[str]) -> None:
    """Write each problem as one ``TOOL: error: ...`` line on stderr and exit with code 2."""
    sys.stderr.write(''.join(f'{tool}: error: {p}\n' for p in problems))
    sys.stderr.flush()
    raise SystemExit(2)


def content_checks(cfg, loaders: Iterable[str], opts: dict):
    """The label and image checks of every dataset the run reads (input_checks.DatasetCheck);
    returns the checks (their ``problems``, ``warning()`` and ``keep``)."""
    from .input_checks import DatasetCheck, num_classes_of
    num_classes, key = num_classes_of(cfg.get('model'))
    checks = []
    for loader in _used_loaders(cfg, loaders):
        for where, ds in _dataset_items(cfg[loader].get('dataset'), f'{loader}.dataset'):
            check = DatasetCheck(where, ds, num_classes, key, opts['max_labels'], opts['max_images'])
            check.run(skip_unreadable=opts['skip_unreadable'])
            checks.append(check)
    return checks


def run_preflight(tool: str, args) -> list:
    """Check the config's inputs before mmseg's ``tool`` runs; return its command line (with
    ``--cfg-options ...indices=[...]`` added when ``preflight.skip_unreadable`` leaves images
    out). On a problem: one line per problem on stderr, SystemExit(2)."""
    args = list(args)
    if tool not in LOADERS:
        return args
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument('config', nargs='?')
    if tool == 'test.py':
        p.add_argument('checkpoint', nargs='?')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    known, _ = p.parse_known_args(args)
    if not known.config or known.config.startswith('-') or '::' in known.config:
        return args  # mmseg's own script reports these
    if not os.path.isfile(known.config):
        what = 'is not a file' if os.path.exists(known.config) else 'does not exist'
        fail(tool, [
            f'config {known.config} {what}: expected the path of an mmengine config file '
            '(e.g. configs/quickstart/fcn_r18-d8_synthetic-128x256.py)'
        ])
    try:
        cfg = Config.fromfile(known.config)
    except (FileNotFoundError, ValueError) as e:  # raised while parsing, e.g. a template's classes.txt
        fail(tool, [f'config {known.config}: {str(e).strip()}'])
    if known.cfg_options:
        try:
            cfg.merge_from_dict(known.cfg_options)
        except (TypeError, KeyError, ValueError) as e:  # mmengine's merge names the key
            fail(tool, [f'--cfg-options: {str(e).strip()}'])
    if cfg.get('custom_imports'):  # datasets/transforms a config registers (as mmengine's Runner)
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    problems = missing_data_folders(cfg, LOADERS[tool])
    if problems:
        fail(tool, [
            f'data not found for config {known.config}: ' + '; '.join(problems) +
            ': expected a dataset in the layout the config names (for the synthetic set: run '
            '`python tools/make_synthetic_data.py DIR` and set SEGSSL_DATA_ROOT=DIR, or fix '
            'data_root in the config / with --cfg-options)'
        ])
    from .checkpoint_checks import missing_checkpoints
    from .input_checks import preflight_options
    try:
        opts = preflight_options(cfg)
    except ValueError as e:
        fail(tool, [str(e)])
    problems = missing_checkpoints(cfg, known.config, tool, getattr(known, 'checkpoint', None))
    if problems:
        fail(tool, problems)
    checks = content_checks(cfg, LOADERS[tool], opts)
    problems = [p for c in checks for p in c.problems]
    if problems:
        fail(tool, problems)
    extra = []
    for c in checks:
        if c.warning():
            sys.stderr.write(f'{tool}: warning: {c.warning()}\n')
            extra.append(f"{c.where}.indices=[{','.join(map(str, c.keep))}]")
    return args + ['--cfg-options'] + extra if extra else args

"""What a config reads, checked by the preflight (preflight.py) before mmseg's train.py/test.py
start: label ids within the model's classes, and images that decode (checkpoints:
checkpoint_checks.py).

Labels and images are checked on a **sample**: per dataset, at most ``preflight.max_labels``
(default 200) label maps and ``preflight.max_images`` (default 50: decoding a 2048x1024 PNG takes
~60 ms) images, spread evenly over the samples the run uses (the same ones every run: first,
last and evenly spaced between), so the check takes seconds on a set of thousands of files. A
systematic fault (ids of another label encoding, a wrong ``num_classes``) shows in any sample; a
few bad files among thousands may not: ``preflight = dict(max_labels=None, max_images=None)``
checks every file. Each sampled file is read by the
dataset's own pipeline steps: its ``LoadAnnotations`` (which applies the dataset's
``reduce_zero_label`` and ``label_map``, as in training) and its ``LoadImageFromFile``; the data
list is the dataset's own ``load_data_list()`` (built through mmseg's ``DATASETS`` registry with
an empty pipeline). ``preflight = dict(skip_unreadable=True)`` leaves the unreadable images
found out of the run (through mmengine's ``BaseDataset(indices=...)``) with one warning naming
them, instead of stopping.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import numpy as np

OPTIONS = dict(max_labels=200, max_images=50, skip_unreadable=False)


def preflight_options(cfg) -> dict:
    """``cfg.preflight`` over the defaults; ValueError naming an unknown key or a bad value."""
    user = dict(cfg.get('preflight') or {})
    unknown = sorted(set(user) - set(OPTIONS))
    if unknown:
        raise ValueError(f'preflight.{unknown[0]}: unknown option, expected one of {sorted(OPTIONS)}')
    opts = dict(OPTIONS, **user)
    for key in ('max_labels', 'max_images'):
        n = opts[key]
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f'preflight.{key}={n!r}: expected a positive number of files, or None for all')
    if not isinstance(opts['skip_unreadable'], bool):
        raise ValueError(f"preflight.skip_unreadable={opts['skip_unreadable']!r}: expected True or False")
    return opts


def spread_sample(n: int, k: Optional[int]) -> List[int]:
    """At most ``k`` of the positions 0..n-1, evenly spread, first and last included (all if
    ``k`` is None or >= n). Deterministic: the same positions every run."""
    if k is None or k >= n:
        return list(range(n))
    if k == 1:
        return [0]
    return sorted({int(round(i * (n - 1) / (k - 1))) for i in range(k)})


def _describe_sample(checked: int, total: int, option: str) -> str:
    return (f'all {total} checked'
            if checked == total else f'{checked} of {total} checked, spread evenly: preflight.{option}=None checks all')


# --------------------------------------------------------------------------- labels, images
def num_classes_of(model) -> Tuple[Optional[int], Optional[str]]:
    """``(num_classes, config key)`` of the model's decode head (the last one of a cascade),
    found at any depth (ClassMix/DACS: ``model.segmentor.decode_head``); (None, None) without one."""
    queue = [(model, 'model')]
    while queue:
        node, key = queue.pop(0)
        if not isinstance(node, dict):
            continue
        head = node.get('decode_head')
        if isinstance(head, (list, tuple)) and head:
            head, key_h = head[-1], f'{key}.decode_head.{len(head) - 1}'
        else:
            key_h = f'{key}.decode_head'
        if isinstance(head, dict) and isinstance(head.get('num_classes'), int):
            return head['num_classes'], f'{key_h}.num_classes'
        queue.extend((v, f'{key}.{k}') for k, v in node.items() if isinstance(v, dict))
    return None, None


def _step(pipeline, name: str) -> Optional[dict]:
    """The pipeline's first step whose type name contains ``name`` (e.g. 'LoadAnnotations')."""
    for step in pipeline or []:
        if isinstance(step, dict):
            t = step.get('type', '')
            if name in (t if isinstance(t, str) else getattr(t, '__name__', '')):
                return step
    return None


def _selected(indices, n: int) -> List[int]:
    """Positions of the full data list a dataset with ``indices=`` uses (as mmengine slices)."""
    if indices is None:
        return list(range(n))
    if isinstance(indices, int):
        return list(range(n))[:indices] if indices >= 0 else list(range(n))[indices:]
    return [int(i) for i in indices]


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f'{type(e).__name__}: {text[0][:120]}' if text else type(e).__name__


def _run(fn, items, workers: int):
    if workers <= 1 or len(items) < 8:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(workers) as pool:  # decoding (cv2, zlib) releases the GIL
        return list(pool.map(fn, items))


class DatasetCheck:
    """Labels and images of one dataset config, on the sample (see the module docstring).

    Args:
        where: the config key of the dataset (e.g. 'train_dataloader.dataset.labelled').
        ds_cfg: its config dict (with its pipeline).
        num_classes, classes_key: the model's classes and where the config sets them.
        max_labels, max_images: sample sizes (None: all).
    """

    def __init__(self, where: str, ds_cfg: dict, num_classes: Optional[int], classes_key: Optional[str],
                 max_labels: Optional[int] = 200, max_images: Optional[int] = 50,
                 workers: int = min(8,
                                    os.cpu_count() or 1)):
        self.where, self.ds_cfg = where, ds_cfg
        self.num_classes, self.classes_key = num_classes, classes_key
        self.max_labels, self.max_images, self.workers = max_labels, max_images, workers
        self.problems: List[str] = []
        self.unreadable: List[Tuple[int, str, str]] = []  # (position in the full list, path, reason)
        self.keep: Optional[List[int]] = None  # indices= that leave them out

    def build(self):
        """The dataset with its full data list (no pipeline, no ``indices``), or None if it
        does not build (mmseg reports that itself when it builds it)."""
        from mmengine.registry import init_default_scope
        from mmseg.registry import DATASETS
        init_default_scope('mmseg')
        cfg = {k: v for k, v in self.ds_cfg.items() if k != 'indices'}
        try:
            return DATASETS.build(dict(cfg, pipeline=[], lazy_init=False))
        except ValueError as e:
            if 'at least one array' in str(e):  # mmengine cannot serialise an empty list
                get = self.ds_cfg.get
                self.problems.append(f"{self.where} lists no samples (data_root {get('data_root')!r}, data_prefix "
                                     f"{dict(get('data_prefix') or {})}, img_suffix {get('img_suffix', '.jpg')!r}): "
                                     'expected image files there with the suffix the dataset names')
            return None
        except Exception:  # noqa: BLE001  mmseg's own error follows
            return None

    def run(self, skip_unreadable: bool = False) -> None:
        from mmseg.registry import TRANSFORMS
        pipeline = self.ds_cfg.get('pipeline') or []
        load_img, load_ann = _step(pipeline, 'LoadImageFromFile'), _step(pipeline, 'LoadAnnotations')
        if not (load_img or load_ann):
            return
        ds = self.build()
        if ds is None:
            return
        selected = _selected(self.ds_cfg.get('indices'), len(ds))

        def sample(k):
            return [(selected[i], ds.get_data_info(selected[i])) for i in spread_sample(len(selected), k)]

        if load_ann:
            self._check_labels(TRANSFORMS.build(load_ann), ds, sample(self.max_labels), len(selected))
        if load_img:
            self._check_images(TRANSFORMS.build(load_img), sample(self.max_images), len(selected), skip_unreadable,
                               selected)

    def _check_labels(self, loader, ds, infos, total) -> None:
        infos = [(pos, info) for pos, info in infos if info.get('seg_map_path')]
        if not infos:
            return
        ignore = getattr(ds, 'ignore_index', 255)
        valid = np.zeros(256, bool)
        if self.num_classes is not None:
            valid[:min(self.num_classes, 256)] = True
        if 0 <= ignore < 256:
            valid[ignore] = True

        def ids_of(item):
            _, info = item
            try:
                seg = loader(dict(info, seg_fields=[]))['gt_seg_map']
            except Exception as e:  # noqa: BLE001  named in the message
                return info['seg_map_path'], None, _reason(e)
            present = np.bincount(np.asarray(seg, np.uint8).ravel(), minlength=256)
            return info['seg_map_path'], np.flatnonzero(present), ''

        results = _run(ids_of, infos, self.workers)
        sample = _describe_sample(len(infos), total, 'max_labels')
        broken = [(p, r) for p, ids, r in results if ids is None]
        if broken:
            self.problems.append(
                f'label file {broken[0][0]} cannot be read by the pipeline\'s LoadAnnotations ({broken[0][1]}): '
                f'{self.where}, {len(broken)} of the label files ({sample}) cannot: expected label maps that decode')
        if self.num_classes is None:
            return
        bad = [(p, [int(i) for i in ids if not valid[i]]) for p, ids, _ in results if ids is not None]
        bad = [(p, ids) for p, ids in bad if ids]
        if bad:
            all_ids = sorted({i for _, ids in bad for i in ids})
            also = f' (ids {all_ids} in all)' if all_ids != bad[0][1] else ''
            self.problems.append(
                f'{bad[0][0]} holds ids {bad[0][1]} outside 0..{self.num_classes - 1} '
                f'(num_classes={self.num_classes}, ignore {ignore}): {self.where}, {len(bad)} label file(s) '
                f'hold such ids{also} ({sample}); expected ids 0..{self.num_classes - 1} or {ignore} after the '
                f"dataset's reduce_zero_label/label_map: fix the labels or {self.classes_key}")

    def _check_images(self, loader, infos, total, skip_unreadable, selected) -> None:
        infos = [(pos, info) for pos, info in infos if info.get('img_path')]

        def decode(item):
            pos, info = item
            try:
                ok = loader(dict(info)) is not None
                return pos, info['img_path'], '' if ok else 'the loader returned nothing'
            except Exception as e:  # noqa: BLE001  named in the message
                return pos, info['img_path'], _reason(e)

        self.unreadable = [r for r in _run(decode, infos, self.workers) if r[2]]
        if not self.unreadable:
            return
        sample = _describe_sample(len(infos), total, 'max_images')
        names = ', '.join(p for _, p, _ in self.unreadable[:5]) + (' ...' if len(self.unreadable) > 5 else '')
        if skip_unreadable:
            drop = {pos for pos, _, _ in self.unreadable}
            self.keep = [i for i in selected if i not in drop]
            if not self.keep:
                self.problems.append(f'{self.where}: every image is unreadable ({names}): nothing left to skip to')
            return
        pos, path, reason = self.unreadable[0]
        self.problems.append(
            f'image {path} cannot be decoded by the pipeline\'s LoadImageFromFile ({reason}): {self.where}, '
            f'{len(self.unreadable)} unreadable ({names}; {sample}): expected images that decode; fix or '
            'remove them, or set preflight.skip_unreadable=True (--cfg-options) to leave them out with a warning')

    def warning(self) -> str:
        """The warning for skipped images ('' if none were skipped)."""
        if self.keep is None or not self.keep:
            return ''
        listed = '; '.join(f'{p} ({r})' for _, p, r in self.unreadable)
        return (f'preflight.skip_unreadable: {self.where}: leaving out {len(self.unreadable)} unreadable '
                f'image(s) found in the checked sample: {listed}')

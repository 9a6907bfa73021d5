"""Predictions of finished runs through mmseg's own inference API (``tools/plot_predictions.py``):
a run named by its work dir or config + checkpoint, samples of a config's dataset, and the
predicted label maps; a ClassMix / DACS checkpoint is read as the model it evaluates with."""
import glob
import os
from typing import List, Sequence, Tuple

import numpy as np


def resolve_run(spec: Sequence[str]) -> Tuple[str, str]:
    """``[CONFIG, CHECKPOINT]`` or ``[WORK_DIR]`` -> (config, checkpoint). A work dir gives the
    config mmengine dumped there (its one ``*.py``) and the checkpoint named in ``last_checkpoint``
    (else its newest ``iter_*.pth`` / ``epoch_*.pth``)."""
    if len(spec) == 2:
        config, ckpt = spec
    elif len(spec) == 1 and os.path.isdir(spec[0]):
        wd = spec[0]
        configs = sorted(glob.glob(os.path.join(wd, '*.py')))
        if len(configs) != 1:
            raise FileNotFoundError(f'work dir {wd}: expected one dumped config *.py, found {configs}')
        config, last = configs[0], os.path.join(wd, 'last_checkpoint')
        if os.path.isfile(last):
            with open(last) as f:
                ckpt = f.read().strip()
            ckpt = ckpt if os.path.isfile(ckpt) else os.path.join(wd, os.path.basename(ckpt))
        else:
            ckpts = glob.glob(os.path.join(wd, 'iter_*.pth')) + glob.glob(os.path.join(wd, 'epoch_*.pth'))
            if not ckpts:
                raise FileNotFoundError(f'work dir {wd}: no last_checkpoint, iter_*.pth or epoch_*.pth')
            ckpt = max(ckpts, key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
    else:
        raise ValueError(f'run {list(spec)}: expected CONFIG CHECKPOINT or an existing WORK_DIR')
    for path in (config, ckpt):
        if not os.path.isfile(path):
            raise FileNotFoundError(f'run {list(spec)}: {path} does not exist')
    return config, ckpt


def dataset_samples(cfg, num: int, dataloader: str = 'val_dataloader') -> Tuple[List[dict], dict]:
    """The first ``num`` samples of ``cfg.<dataloader>.dataset`` loaded at their original size:
    dicts with ``img_path``, ``image`` (H, W, 3) uint8 RGB and ``gt`` (H, W) labels (the config's
    own LoadAnnotations, so reduce_zero_label etc. apply); and the dataset's metainfo."""
    import copy

    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    ds_cfg = copy.deepcopy(cfg[dataloader]['dataset'])
    ann = next((dict(t) for t in ds_cfg.get('pipeline', []) if t.get('type') == 'LoadAnnotations'),
               dict(type='LoadAnnotations'))
    ds_cfg['pipeline'] = [dict(type='LoadImageFromFile'), ann]
    ds = DATASETS.build(ds_cfg)
    if len(ds) == 0:
        raise ValueError(f'{cfg.filename}: {dataloader}.dataset is empty')
    out = []
    for i in range(min(num, len(ds))):
        r = ds[i]
        out.append(
            dict(img_path=r['img_path'], image=np.ascontiguousarray(r['img'][:, :, ::-1]),
                 gt=np.asarray(r['gt_seg_map'])))
    return out, ds.metainfo


def inference_config(config: str):
    """(Config, prefix): the config mmseg's init_model can build. A ClassMix / DACS wrapper
    (``model.segmentor``) is replaced by its student (``eval_model='teacher'``: the teacher, same
    architecture) and ``prefix`` names that part's keys in the checkpoint; else prefix is None.
    (init_model sets ``model.pretrained`` / ``train_cfg``, which the wrapper does not take.)"""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if 'segmentor' not in cfg.model:
        return cfg, None
    prefix = 'teacher.' if cfg.model.get('eval_model') == 'teacher' else 'student.'
    seg = cfg.model.segmentor
    if 'data_preprocessor' not in seg and cfg.model.get('data_preprocessor'):
        seg.data_preprocessor = dict(cfg.model.data_preprocessor, type='SegDataPreProcessor')
    cfg.model = seg
    return cfg, prefix


def predict_labels(config: str, checkpoint: str, img_paths: Sequence[str], device: str = 'cpu') -> List[np.ndarray]:
    """mmseg.apis.init_model + inference_model: the (H, W) predicted labels of each image, at
    its original size. A ClassMix / DACS checkpoint is read as the model it evaluates with."""
    from mmseg.apis import inference_model, init_model

    from segssl.io import load_checkpoint_file  # data only, never code
    cfg, prefix = inference_config(config)
    model = init_model(cfg, None, device='cpu')
    state = load_checkpoint_file(checkpoint)
    state = state.get('state_dict', state)
    if prefix is None:
        model.load_state_dict(state, strict=True)
    else:
        part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not part:
            raise KeyError(f'{checkpoint}: no {prefix}* weights for {config} (a ClassMix / DACS model)')
        model.load_state_dict(part, strict=True)
    model.to(device).eval()
    return [inference_model(model, p).pred_sem_seg.data[0].cpu().numpy() for p in img_paths]

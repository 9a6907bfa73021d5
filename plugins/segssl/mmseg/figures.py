"""The mmseg side of ``segssl.figures``: two PixPro views of one image from the pretraining
pipeline's ``TwoViewCrop`` and their positive pairs; predictions of runs through mmseg's own
inference API; ``MixVisualizationHook``, which saves one ClassMix / DACS step every k iterations
(as a PNG and through the runner's visualizer).
"""
import glob
import os
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segssl.core import MixStep, lattice_from_boxes, positive_pairs_dense
from segssl.figures import plot_mix_step

from .runner_model import runner_model

# ---- pretraining: two views and their positive pairs ---------------------------------------------


def two_views(image_bgr: np.ndarray, crop: dict, seed: int = 0) -> dict:
    """Run ``TwoViewCrop(**crop)`` on one (H, W, 3) image with numpy's global state seeded by
    ``seed`` (the transform draws from it, as under mmengine); returns its results dict (``views``,
    ``view_boxes``, ``view_flips``, ``view_warps``, ``view_size``)."""
    from segssl.mmseg.transforms.two_view_crop import TwoViewCrop
    crop = {k: v for k, v in dict(crop).items() if k != 'type'}
    np.random.seed(seed)
    return TwoViewCrop(**crop).transform(dict(img=image_bgr))


def view_pairs(results: dict, feat_hw: Tuple[int, int], tau: float = 0.7) -> torch.Tensor:
    """(h*w, h*w) bool positive pairs between the two views' (h, w) feature maps, from the boxes,
    flips and warps the view transforms recorded (the matching PixPro's loss uses)."""
    boxes = torch.as_tensor(np.asarray(results['view_boxes']), dtype=torch.float64)
    flips = torch.as_tensor(np.asarray(results['view_flips']), dtype=torch.bool)
    warps = torch.as_tensor(np.asarray(results['view_warps']), dtype=torch.float64)
    l1, l2 = (lattice_from_boxes(boxes[v:v + 1], flips[v:v + 1], *feat_hw, view_size=tuple(results['view_size']),
                                 warp=warps[v:v + 1]) for v in range(2))
    return positive_pairs_dense(l1, l2, tau)[0]


def pipeline_transform(cfg, name: str, dataloader: str = 'train_dataloader') -> dict:
    """The first transform of type ``name`` in ``cfg.<dataloader>.dataset.pipeline``."""
    for t in cfg[dataloader]['dataset'].get('pipeline', []):
        if t.get('type') == name:
            return dict(t)
    raise KeyError(f'{cfg.filename}: no {name} in {dataloader}.dataset.pipeline')


# ---- qualitative grid: mmseg inference of several runs --------------------------------------------


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
        out.append(dict(img_path=r['img_path'], image=np.ascontiguousarray(r['img'][:, :, ::-1]),
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

    from segssl.io import load_checkpoint_file   # data only, never code
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


# ---- ClassMix / DACS: one mixing step every k iterations ------------------------------------------


def _rgb_uint8(dp, x: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) network inputs -> (N, H, W, 3) uint8 RGB through the data preprocessor's
    ``to_rgb01`` (undo normalisation and channel order)."""
    return (dp.to_rgb01(x.detach().float()).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@HOOKS.register_module()
class MixVisualizationHook(Hook):
    """Every ``interval`` training iterations, save one sample of the segmentor's mixing step
    (``ClassMixSegmentor.mix_batch`` and subclasses: ClassMix / IntraMix, b mixed with
    (b + 1) mod N; DACS' InterMix, labelled source b pasted on target b) as
    ``WORK_DIR/vis_mix/iter_K.png``: image a, image b, mask M, mixed image M a + (1 - M) b, mixed
    pseudo-label, mixed weight map. The same figure goes to the runner's visualizer as image
    ``mix_step`` at step K (``add_image``), so every backend of ``vis_backends`` gets it:
    LocalVisBackend's ``vis_data/vis_image/mix_step_K.png``, TensorBoard / W&B under SEGSSL_VIS.
    Rank 0 only.

    It reads what the step mixed from the model: in the iterations it saves it switches the
    model's ``keep_last_mix`` on and takes ``last_mix`` (a core.MixStep: the MixedBatch with
    the masks used, the images mixed and their pairing), so nothing is patched and no mask is
    reconstructed. ``last`` holds the last saved step's tensors and ``last_panels`` the panels
    drawn.

    Args:
        interval: k. sample: which image of the batch. out_dir: sub-folder of the work dir.
        palette: colours of the pseudo-labels (default: the train dataset's metainfo palette, else
            Cityscapes').
    """
    priority = 'LOW'

    def __init__(self, interval: int = 100, sample: int = 0, out_dir: str = 'vis_mix',
                 palette: Optional[Sequence[Sequence[int]]] = None):
        if int(interval) < 1:
            raise ValueError(f'MixVisualizationHook: interval={interval!r}, expected a positive int')
        self.interval, self.sample, self.out_dir, self.palette = int(interval), int(sample), out_dir, palette
        self.last: Optional[Dict[str, torch.Tensor]] = None
        self.last_panels: Optional[Dict[str, np.ndarray]] = None
        self._record = False
        self._kept = False                     # the model's own keep_last_mix, restored after a save

    def before_train(self, runner) -> None:
        model = runner_model(runner)
        for name in ('mix_batch', 'keep_last_mix'):
            if not hasattr(model, name):
                raise TypeError(f'MixVisualizationHook: the model {type(model).__name__} has no {name}; '
                                f'it visualises ClassMixSegmentor and its subclasses')
        self._kept = bool(model.keep_last_mix)
        if self.palette is None:
            meta = getattr(runner.train_dataloader.dataset, 'metainfo', None) or {}
            if 'palette' not in meta:
                from mmseg.datasets import CityscapesDataset
                meta = CityscapesDataset.METAINFO
            self.palette = meta['palette']

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # one writer: rank 0 (every rank would write the same file)
        self._record = is_main_process() and self.every_n_train_iters(runner, self.interval)
        if self._record:
            model = runner_model(runner)
            model.keep_last_mix, model.last_mix = True, None       # this step's mix, not an older one

    @staticmethod
    def _sources(step: MixStep, i: int):
        """(image a, image b, mask, caption) of sample i: 'rolled' pairs b with (b + 1) mod N,
        'labelled' pastes labelled/source b on b. None unless M a + (1 - M) b is the mixed image
        exactly (a model whose record does not describe its mix)."""
        x, mixed, mask = step.inputs, step.batch.images[i], step.batch.masks[i]
        if step.pairing == 'rolled':
            j = (i + 1) % x.shape[0]
            a, b, caption = x[i], x[j], f'sample {i} mixed with {j}'
        else:
            source = (step.labelled or {}).get('inputs')
            if step.pairing != 'labelled' or source is None or source.shape != x.shape:
                return None
            a, b, caption = source[i], x[i], f'labelled/source {i} pasted on {i}'
        if mask.shape != mixed.shape[-2:] or not torch.equal(torch.where(mask[None], a, b), mixed):
            return None
        return a, b, mask, caption

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self._record:
            return
        self._record = False
        model = runner_model(runner)
        step, model.keep_last_mix = model.last_mix, self._kept
        if not self._kept:
            model.last_mix = None                                   # nothing held between steps
        i = self.sample % step.inputs.shape[0] if step is not None else 0
        found = self._sources(step, i) if step is not None else None
        if found is None:
            # a mix this hook cannot take apart: say so, do not stop training
            runner.logger.warning(f'MixVisualizationHook: iteration {runner.iter + 1}: '
                                  f'{type(model).__name__} kept no last_mix whose masks and pairing '
                                  f'(b with (b + 1) mod N, or a labelled image pasted on an unlabelled one) '
                                  f'reproduce its mixed images; nothing saved')
            return
        a, b, mask, caption = found
        batch = step.batch
        rgb = _rgb_uint8(model.data_preprocessor, torch.stack([a, b, batch.images[i]]))
        out_png = os.path.join(runner.work_dir, self.out_dir, f'iter_{runner.iter + 1}.png')
        os.makedirs(os.path.dirname(out_png), exist_ok=True)
        self.last = dict(inputs=step.inputs, mixed=batch.images, targets=batch.targets, weights=batch.weights,
                         masks=batch.masks, labelled=step.labelled, pairing=step.pairing, sample=i, mask=mask)
        self.last_panels = plot_mix_step(
            rgb[0], rgb[1], mask.cpu().numpy(), rgb[2], batch.targets[i].cpu().numpy(),
            batch.weights[i].float().cpu().numpy(), self.palette, out_png,
            title=f'iteration {runner.iter + 1}, {caption}')
        # the figure as saved, to every visualizer backend (Visualizer.add_image is rank-0 only too)
        runner.visualizer.add_image('mix_step', mmcv.imread(out_png, channel_order='rgb'), step=runner.iter + 1)
        runner.logger.info(f'MixVisualizationHook: wrote {out_png}')

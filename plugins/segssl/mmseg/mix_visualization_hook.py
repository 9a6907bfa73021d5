"""``MixVisualizationHook``: saves one ClassMix / DACS mixing step every k iterations, as a PNG
and through the runner's visualizer (drawn by :func:`segssl.runs.figures.plot_mix_step`)."""
import os
from typing import Dict, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segssl.core import MixStep
from segssl.runs.figures import plot_mix_step

from .runner_model import runner_model


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
        self._kept = False  # the model's own keep_last_mix, restored after a save

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
            model.keep_last_mix, model.last_mix = True, None  # this step's mix, not an older one

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
            model.last_mix = None  # nothing held between steps
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
        self.last_panels = plot_mix_step(rgb[0], rgb[1],
                                         mask.cpu().numpy(), rgb[2], batch.targets[i].cpu().numpy(),
                                         batch.weights[i].float().cpu().numpy(), self.palette, out_png,
                                         title=f'iteration {runner.iter + 1}, {caption}')
        # the figure as saved, to every visualizer backend (Visualizer.add_image is rank-0 only too)
        runner.visualizer.add_image('mix_step', mmcv.imread(out_png, channel_order='rgb'), step=runner.iter + 1)
        runner.logger.info(f'MixVisualizationHook: wrote {out_png}')

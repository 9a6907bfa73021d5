"""ClassMix semi-supervised training around any mmseg EncoderDecoder (the ClassMix/DACS thesis, 3.2).

One training step on B labelled images (x_l, y_l) and B unlabelled images x_u:

    L_l   = the student's own mmseg loss on (x_l, y_l) (cross entropy)
    p     = softmax(teacher(x_u))              teacher: EMA of the student, eval mode, no grad
    y^    = argmax_c p                         pseudo-labels (padding -> ignore)
    w     = confidence_weights(p)              lambda_u per pixel (threshold proportion, tau = 0.968)
    M_b   = mask from y^_b (ClassMix; CutMix / CowMix options)
    x'    = M x_b + (1 - M) x_{b+1 mod B},  likewise y^' (or p' for soft targets) and w'
    x'    = strong_augment(x') (optional colour jitter / blur)
    L_u   = mean over pixels of w' * l(student(x'), y^')          (cross entropy or squared error)
    L     = L_l + L_u
    teacher: theta'_k = alpha_k theta'_{k-1} + (1 - alpha_k) theta_k, alpha_k = min(1 - 1/(k+1), alpha)

Subclasses (DACS) change what is mixed by overriding :meth:`mix_batch`. Validation, test and
predict run the student (``eval_model='teacher'`` to evaluate the teacher), so mmseg's IoUMetric
works unchanged. The checkpoint holds ``student.*``, ``teacher.*``, the step counter and the
mask generator's state, so ``--resume`` continues with the same teacher.

The step reads nothing back from the device: the generator of masks and augmentations lives on
the model's (the data's) device, and the step counter k is a Python int (``iteration_count``)
mirrored into the ``iteration`` buffer that checkpoints hold.

The teacher's EMA step for iteration k-1 runs at the start of iteration k's forward (same result
as after the optimizer step, and it also works under DistributedDataParallel, whose train_step
bypasses the module's); a teacher evaluated after training therefore lacks the last update.
"""
import copy
import warnings
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from segssl.core import (MixedBatch, MixStep, class_mix_masks, confidence_weights, cow_mix_masks, cut_mix_masks,
                         ema_update, mix, strong_augment, teacher_momentum)
from segssl.core.weighted_pixel_loss import LOSSES, weighted_pixel_loss

from .random_state import rank_seed

MIX_TYPES = ('classmix', 'cutmix', 'cowmix')


@MODELS.register_module()
class ClassMixSegmentor(BaseModel):
    """Args:
        segmentor: config of the student, any mmseg EncoderDecoder (its ``data_preprocessor`` is
            taken over by this model as a PairedSegDataPreProcessor).
        mix: dict(type='classmix', proportion=0.5) | dict(type='cutmix', area=0.5) |
            dict(type='cowmix', proportion=0.5, sigma_range=(8, 32)).
        alpha: the teacher's EMA coefficient (0.99), with the warm-up alpha_k above.
        weight: kwargs of core.confidence_weights: scheme ('threshold_proportion' |
            'pixel_threshold' | 'constant' | 'sigmoid_rampup'), tau (0.968), base (lambda_u0 = 1),
            rampup_steps (10000), rampup_c (5).
        unsup_loss: 'ce' or 'squared_error'.
        soft_targets: train against the teacher's mixed probabilities instead of pseudo-labels.
        strong_aug: None (the report's default SSL: mixing only) or kwargs of core.strong_augment
            (jitter_p, jitter_strength, blur_p, blur_sigma, blur_kernel_fraction).
        eval_model: 'student' or 'teacher' for val / test / predict.
        seed: seed of the generator of masks and augmentations (rank r draws from seed + r; every
            rank's state is saved and restored by RandomStateHook). The generator lives on the
            model's device (a new one, seeded the same, when the model or the data moves).
        keep_last_mix: keep the last step's mix in ``last_mix`` (a detached core.MixStep, before
            strong augmentation); MixVisualizationHook switches it on in the iterations it saves.
    """
    mix_pairing = 'rolled'  # see core.MixStep: image b mixed with image (b + 1) mod N

    def __init__(self, segmentor: dict, mix: Optional[dict] = None, alpha: float = 0.99, weight: Optional[dict] = None,
                 unsup_loss: str = 'ce', soft_targets: bool = False, strong_aug: Optional[dict] = None,
                 eval_model: str = 'student', ignore_index: int = 255, seed: int = 0, keep_last_mix: bool = False,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        segmentor = copy.deepcopy(dict(segmentor))
        seg_dp = segmentor.pop('data_preprocessor', None) or {}
        if data_preprocessor is None:
            data_preprocessor = dict({k: v for k, v in seg_dp.items() if k != 'type'}, type='PairedSegDataPreProcessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.mix_cfg = dict(type='classmix') if mix is None else dict(mix)
        if self.mix_cfg.get('type') not in MIX_TYPES:
            raise ValueError(f"ClassMixSegmentor mix type={self.mix_cfg.get('type')!r}: expected one of {MIX_TYPES}")
        if unsup_loss not in LOSSES:
            raise ValueError(f'ClassMixSegmentor unsup_loss={unsup_loss!r}: expected one of {LOSSES}')
        if eval_model not in ('student', 'teacher'):
            raise ValueError(f"ClassMixSegmentor eval_model={eval_model!r}: expected 'student' or 'teacher'")
        if not 0 <= alpha <= 1:
            raise ValueError(f'ClassMixSegmentor alpha={alpha}: expected [0, 1]')
        self.weight_cfg = dict(scheme='threshold_proportion', tau=0.968, base=1.0) if weight is None else dict(weight)
        confidence_weights(torch.full((1, 2, 1, 1), 0.5), **self.weight_cfg)  # bad keys fail here
        self.alpha, self.unsup_loss, self.soft_targets = alpha, unsup_loss, soft_targets
        self.strong_aug = None if strong_aug is None else dict(strong_aug)
        self.eval_model, self.ignore_index = eval_model, ignore_index
        self.student = MODELS.build(segmentor)
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.num_classes = self.student.decode_head.num_classes
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))  # checkpointed mirror
        self._iteration = 0  # k, read by the schedules
        self._seed = rank_seed(seed)  # each rank its own stream
        self._generator = torch.Generator().manual_seed(self._seed)
        self._restored_state = None  # a loaded state not yet taken by a use on a device
        self.keep_last_mix, self.last_mix = bool(keep_last_mix), None

    # ---- state ---------------------------------------------------------------------------------
    def init_weights(self):
        self.teacher._is_init = True  # initialised as a copy of the student below
        super().init_weights()
        self.teacher.load_state_dict(self.student.state_dict())

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    @property
    def iteration_count(self) -> int:
        """k: the training steps taken, a host int (the ``iteration`` buffer mirrors it for the
        checkpoint; set this, not the buffer)."""
        return self._iteration

    @iteration_count.setter
    def iteration_count(self, value: int):
        self._iteration = int(value)
        self.iteration.fill_(self._iteration)  # a device fill, no host sync

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._iteration = int(self.iteration)  # one host read per load, not per step

    @property
    def generator(self) -> torch.Generator:
        """This rank's generator of masks and augmentations, on the model's device."""
        return self._generator

    def generator_on(self, device) -> torch.Generator:
        """The generator on ``device``: the one in use, or, when the model or the data has moved
        to another device, a new one there seeded rank_seed(seed) (the first use on a GPU), which
        takes a state loaded just before the move if it fits (saved on that device type)."""
        device = torch.device(device)
        if device.type == 'cuda' and device.index is None:
            device = torch.device('cuda', torch.cuda.current_device())
        if self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self._seed)
            if self._restored_state is not None:
                try:
                    self._generator.set_state(self._restored_state)
                except RuntimeError:  # another device type's state: the seed stays
                    pass
        self._restored_state = None
        return self._generator

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        buffer = self._buffers.get('iteration')  # (absent while __init__ runs)
        if buffer is not None and buffer.device.type != 'meta':  # .to(device) / .cuda(): follow the model
            self.generator_on(buffer.device)
        return out

    def get_extra_state(self) -> torch.Tensor:
        """The mask generator's state as a uint8 CPU tensor (for a CUDA generator too): every
        state_dict value must be a tensor, mmengine's Runner broadcasts them all from rank 0 in a
        distributed run (a dict here broke 2-process training)."""
        return self.generator.get_state()

    def set_extra_state(self, state):
        if isinstance(state, dict):  # checkpoints written before the change
            state = state.get('generator')
        if state is None:
            return
        state = state.detach().cpu()  # mmengine loads onto the current device
        self._restored_state = state  # for a move of the model right after loading
        try:
            self.generator.set_state(state)
        except RuntimeError as e:  # a state saved by another device type's generator
            warnings.warn(f'{type(self).__name__}: the checkpoint\'s mask generator state does not fit this '
                          f'{self.generator.device.type} generator ({str(e).splitlines()[0]}); reseeded '
                          f'with rank_seed(seed) (moving the model to the device type that saved it restores it)')
            self.generator.manual_seed(self._seed)

    @torch.no_grad()
    def update_teacher(self, step: int) -> float:
        """theta' <- alpha_k theta' + (1 - alpha_k) theta (parameters and float buffers, e.g. BN
        statistics, which the eval-mode teacher uses); returns alpha_k."""
        a = teacher_momentum(step, self.alpha)
        ema_update(self.teacher, self.student, a, buffers=True)
        return a

    # ---- forward -------------------------------------------------------------------------------
    def forward(self, inputs=None, data_samples=None, mode: str = 'tensor', labelled: Optional[dict] = None,
                unlabelled: Optional[dict] = None):
        if mode == 'loss':
            if labelled is None or unlabelled is None:
                raise ValueError('ClassMixSegmentor: training needs a labelled and an unlabelled batch '
                                 '(train_dataloader.dataset of type PairedDataset)')
            return self.loss(labelled, unlabelled)
        if mode not in ('predict', 'tensor'):
            raise ValueError(f'ClassMixSegmentor: mode={mode!r}, expected loss, predict or tensor')
        net = self.teacher if self.eval_model == 'teacher' else self.student
        return net(inputs, data_samples, mode=mode)

    @staticmethod
    def logits(net, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) decode-head logits of an EncoderDecoder, upsampled to the input size."""
        out = net.decode_head(net.extract_feat(inputs))
        return resize(out, size=inputs.shape[2:], mode='bilinear', align_corners=net.decode_head.align_corners)

    @staticmethod
    def valid_pixels(inputs: torch.Tensor, data_samples: Optional[Sequence]) -> torch.Tensor:
        """(N, H, W) bool: False on the padding SegDataPreProcessor added (``padding_size`` =
        left, right, top, bottom)."""
        n, _, h, w = inputs.shape
        valid = torch.ones(n, h, w, dtype=torch.bool, device=inputs.device)
        for b, s in enumerate(data_samples or []):
            pad = s.metainfo.get('padding_size') if hasattr(s, 'metainfo') else None
            if pad is not None and any(int(p) for p in pad):
                left, right, top, bottom = (int(p) for p in pad)
                valid[b] = False
                valid[b, top:h - bottom, left:w - right] = True
        return valid

    def make_masks(self, pseudo_labels: torch.Tensor) -> torch.Tensor:
        """(N, H, W) bool mixing masks M from (N, H, W) pseudo-labels."""
        cfg = dict(self.mix_cfg)
        kind = cfg.pop('type')
        n, h, w = pseudo_labels.shape
        device = pseudo_labels.device
        g = self.generator_on(device)
        if kind == 'classmix':
            return class_mix_masks(pseudo_labels, ignore_index=self.ignore_index, generator=g,
                                   num_classes=self.num_classes, **cfg)[0]
        make = cut_mix_masks if kind == 'cutmix' else cow_mix_masks
        return make(n, h, w, generator=g, device=device, **cfg)

    def mix_batch(self, inputs: torch.Tensor, pseudo_labels: torch.Tensor, probs: torch.Tensor, weights: torch.Tensor,
                  labelled: Dict[str, torch.Tensor]) -> MixedBatch:
        """Build the mixed batch (the method DACS overrides).

        Args:
            inputs: (N, 3, H, W) normalised unlabelled images x_u.
            pseudo_labels: (N, H, W) long teacher argmax, ``ignore_index`` on padding.
            probs: (N, C, H, W) teacher probabilities.
            weights: (N, H, W) lambda_u per pixel (0 on padding).
            labelled: dict(inputs=(N, 3, H, W), labels=(N, H, W) long) of the labelled batch.
        Returns:
            core.MixedBatch: images (N, 3, H, W); targets (N, H, W) long, or (N, C, H, W)
            probabilities with ``soft_targets``; weights (N, H, W); masks (N, H, W) bool. Its
            pairs are ``mix_pairing``'s.
        """
        masks = self.make_masks(pseudo_labels)
        targets = mix(probs, masks) if self.soft_targets else mix(pseudo_labels, masks)
        return MixedBatch(mix(inputs, masks), targets, mix(weights, masks), masks)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """core.strong_augment on normalised images (undo normalisation, augment, redo)."""
        dp = self.data_preprocessor
        x, _ = strong_augment(
            dp.to_rgb01(images).clamp(0, 1), generator=self.generator_on(images.device), **self.strong_aug)
        return dp.from_rgb01(x)

    def loss(self, labelled: dict, unlabelled: dict) -> Dict[str, torch.Tensor]:
        k = self.iteration_count
        alpha = self.update_teacher(k - 1) if k > 0 else 0.0
        self.iteration_count = k + 1
        losses = {f'sup.{key}': v for key, v in self.student.loss(labelled['inputs'], labelled['data_samples']).items()}
        x_u = unlabelled['inputs']
        with torch.no_grad():
            probs = F.softmax(self.logits(self.teacher, x_u).float(), dim=1)
            valid = self.valid_pixels(x_u, unlabelled.get('data_samples'))
            pseudo = probs.argmax(1).masked_fill(~valid, self.ignore_index)
            weights = confidence_weights(probs, step=k, **self.weight_cfg) * valid
            tau = self.weight_cfg.get('tau', 0.968)
            confident = ((probs.max(1).values > tau) & valid).sum() / valid.sum().clamp_min(1)
            lab = dict(inputs=labelled['inputs'],
                       labels=torch.stack([s.gt_sem_seg.data[0] for s in labelled['data_samples']]).long())
            out = self.mix_batch(x_u, pseudo, probs, weights, lab)
            if self.keep_last_mix:  # detached references, no copy, no sync
                self.last_mix = MixStep(MixedBatch(*(t.detach() for t in out)), x_u.detach(), {
                    key: v.detach()
                    for key, v in lab.items()
                }, self.mix_pairing)
            mixed = self.augment(out.images) if self.strong_aug is not None else out.images
        logits = self.logits(self.student, mixed)
        losses['unsup.loss_mix'] = weighted_pixel_loss(logits, out.targets, out.weights, self.unsup_loss,
                                                       self.ignore_index)
        losses['unsup.weight'] = out.weights.mean().detach()
        losses['unsup.confident'] = confident.detach().float()
        losses['unsup.teacher_alpha'] = x_u.new_full((), alpha, dtype=torch.float32)  # a fill, no copy
        return losses

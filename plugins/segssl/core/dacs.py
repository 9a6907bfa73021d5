"""DACS mixing for unsupervised domain adaptation (the ClassMix/DACS thesis, 3.2 and 5.2; Tranheden et al. 2021).

InterMix (DACS, the default): source image b (with ground truth y^S_b) is mixed with target image
b (with the teacher's probabilities p^T_b, pseudo-label yhat^T_b = argmax_c p^T_b(c)). The ClassMix
mask M_b takes ceil(p |C_b|) of the classes C_b present in the SOURCE ground truth (p = 0.5, the
ignore label never drawn):

    x'_b = M_b x^S_b + (1 - M_b) x^T_b
    y'_b = M_b y^S_b + (1 - M_b) yhat^T_b
    w'_b = M_b * 1   + (1 - M_b) lambda_u,     lambda_u = mean over the target batch of
                                               1(max_c p^T(c) > tau), tau = 0.968

(lambda_u per ``weight_scheme``, see ``consistency_weights``). Source pixels always weigh 1.

IntraMix (ablation, Table 5.2): the semi-supervised ClassMix on the target batch alone: masks from
the target pseudo-labels, target b mixed with target (b + 1) mod N. Distribution-aligned IntraMix:
the teacher's probabilities first pass through ``DistributionAlignment`` (EMA 0.99 of the pseudo-label
class frequencies, pushed toward a given prior), and pseudo-labels and weights come from the
aligned probabilities.

Everything stays on the images' device with no host sync (the masks are made there, from a
``generator`` that must live on that device).
"""
from typing import Optional

import torch

from .consistency_weights import confidence_weights
from .distribution_alignment import DistributionAlignment
from .mixing import MixedBatch, class_mix_masks, mix

MIX_MODES = ('inter', 'intra', 'intra_aligned')


def _check(images, probs, name):
    if images.dim() != 4 or probs.dim() != 4 or images.shape[0] != probs.shape[0] \
            or images.shape[-2:] != probs.shape[-2:]:
        raise ValueError(f'{name}: expected target images (N, C, H, W) and teacher probabilities '
                         f'(N, K, H, W) of the same N, H, W; got {tuple(images.shape)} and {tuple(probs.shape)}')


def inter_mix(source_images: torch.Tensor, source_labels: torch.Tensor, target_images: torch.Tensor,
              target_labels: torch.Tensor, target_weights: torch.Tensor, proportion: float = 0.5,
              ignore_index: int = 255, generator: Optional[torch.Generator] = None,
              num_classes: Optional[int] = None) -> MixedBatch:
    """InterMix given the target's pseudo-labels yhat^T (N, H, W) and weights (N, H, W): masks
    from the source labels (N, H, W), source b pasted onto target b; source pixels weigh 1.
    ``num_classes``: K of :func:`class_mix_masks` (None reads it off the labels, a host sync)."""
    if source_images.shape != target_images.shape or source_labels.shape != target_labels.shape \
            or target_weights.shape != target_labels.shape or source_labels.shape != target_images[:, 0].shape:
        raise ValueError(f'inter_mix: source images {tuple(source_images.shape)} and labels '
                         f'{tuple(source_labels.shape)} must match target images {tuple(target_images.shape)}, '
                         f'pseudo-labels {tuple(target_labels.shape)} and weights {tuple(target_weights.shape)}')
    masks, _ = class_mix_masks(source_labels, proportion, ignore_index, generator, num_classes)
    return MixedBatch(images=mix(source_images, masks,
                                 target_images), targets=mix(source_labels.long().to(target_labels.device), masks,
                                                             target_labels.long()),
                      weights=mix(torch.ones_like(target_weights), masks, target_weights), masks=masks)


def dacs_mix(source_images: torch.Tensor, source_labels: torch.Tensor, target_images: torch.Tensor,
             target_probs: torch.Tensor, proportion: float = 0.5, ignore_index: int = 255, tau: float = 0.968,
             weight_scheme: str = 'threshold_proportion', step: int = 0,
             generator: Optional[torch.Generator] = None) -> MixedBatch:
    """InterMix of source (N, C, H, W) images with (N, H, W) labels and target (N, C, H, W)
    images with the teacher's (N, K, H, W) probabilities; see the module docstring."""
    _check(target_images, target_probs, 'dacs_mix')
    lam = confidence_weights(target_probs, weight_scheme, tau, step=step).to(target_probs)
    return inter_mix(source_images, source_labels, target_images, target_probs.argmax(1), lam, proportion, ignore_index,
                     generator, num_classes=target_probs.shape[1])


def intra_mix(target_images: torch.Tensor, target_probs: torch.Tensor, proportion: float = 0.5, ignore_index: int = 255,
              tau: float = 0.968, weight_scheme: str = 'threshold_proportion', step: int = 0,
              alignment: Optional[DistributionAlignment] = None,
              generator: Optional[torch.Generator] = None) -> MixedBatch:
    """IntraMix: ClassMix within the target batch (b with (b + 1) mod N), masks from the pseudo-
    labels. With ``alignment``, its running p~ is updated with the raw pseudo-labels and the
    probabilities are aligned before pseudo-labels and weights are taken."""
    _check(target_images, target_probs, 'intra_mix')
    if alignment is not None:
        target_probs = alignment(target_probs)
    pseudo = target_probs.argmax(1)
    masks, _ = class_mix_masks(pseudo, proportion, ignore_index, generator, num_classes=target_probs.shape[1])
    lam = confidence_weights(target_probs, weight_scheme, tau, step=step).to(target_probs)
    return MixedBatch(images=mix(target_images, masks), targets=mix(pseudo, masks), weights=mix(lam, masks),
                      masks=masks)

"""DACS: domain adaptation by cross-domain mixed sampling (the ClassMix/DACS thesis, 3.2 and 5.2), as a
ClassMixSegmentor whose mixing is replaced (everything else, teacher EMA, weighting, loss,
evaluation, is ClassMix's).

One step on B source images (x^S, y^S) (the ``labelled`` part of a PairedDataset) and B target
images x^T (the ``unlabelled`` part):

    L_S   = the student's CE on (x^S, y^S)
    p^T   = softmax(teacher(x^T)),  yhat^T = argmax p^T,  lambda_u = share of p^T max > tau
    InterMix (mode='inter', DACS): M_b from half of the classes in y^S_b (core.inter_mix)
          x' = M x^S_b + (1 - M) x^T_b,  y' = M y^S_b + (1 - M) yhat^T_b,  w' = M + (1 - M) lambda_u
    IntraMix (mode='intra'): ClassMix's own mixing within the target batch
    distribution-aligned IntraMix (mode='intra_aligned'): p^T aligned first (core.DistributionAlignment,
          EMA 0.99 of the raw pseudo-label frequencies, pushed toward ``alignment.prior``)
    x'    = colour jitter (p 0.8, 0.25) + Gaussian blur (p 0.5, sigma U(0.15, 1.15)) of x'
    L     = L_S + mean(w' CE(student(x'), y'))
"""
import json
from typing import Optional, Sequence, Union

from mmseg.registry import MODELS

from segssl.core import DistributionAlignment, confidence_weights, inter_mix
from segssl.core.dacs import MIX_MODES

from .classmix import ClassMixSegmentor

DACS_STRONG_AUG = dict(jitter_p=0.8, jitter_strength=0.25, blur_p=0.5, blur_sigma=(0.15, 1.15),
                       blur_kernel_fraction=0.1)


def load_prior(prior: Union[str, Sequence[float]]) -> list:
    """A class distribution given as numbers or as a JSON file holding a list or
    ``{"class_frequencies": [...]}`` (what tools/class_distribution.py writes)."""
    if not isinstance(prior, str):
        return [float(v) for v in prior]
    try:
        with open(prior) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f'DACSSegmentor alignment.prior: cannot read {prior!r} as JSON ({e})') from e
    data = data.get('class_frequencies') if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise ValueError(f'DACSSegmentor alignment.prior: {prior!r} holds no list of class frequencies '
                         '(expected a JSON list or {"class_frequencies": [...]})')
    return [float(v) for v in data]


@MODELS.register_module()
class DACSSegmentor(ClassMixSegmentor):
    """Args (besides ClassMixSegmentor's, whose ``mix`` and ``soft_targets`` DACS does not use):
        mode: 'inter' (DACS), 'intra' (IntraMix) or 'intra_aligned' (distribution-aligned IntraMix).
        proportion: share p of the source classes pasted (0.5).
        alignment: dict(prior=list or JSON path, momentum=0.99) for mode='intra_aligned'; the prior
            is the target class distribution (the report used Cityscapes' ground truth).
        strong_aug: defaults to the DACS jitter + blur (None turns it off).
    """

    def __init__(self, segmentor: dict, mode: str = 'inter', proportion: float = 0.5, alignment: Optional[dict] = None,
                 strong_aug: Optional[dict] = DACS_STRONG_AUG, **kwargs):
        if mode not in MIX_MODES:
            raise ValueError(f'DACSSegmentor mode={mode!r}: expected one of {MIX_MODES}')
        if kwargs.get('soft_targets'):
            raise ValueError('DACSSegmentor: soft_targets is not defined for DACS (source labels are hard)')
        kwargs.setdefault('mix', dict(type='classmix', proportion=proportion))
        super().__init__(segmentor, strong_aug=strong_aug, **kwargs)
        self.mode, self.proportion = mode, proportion
        self.alignment = None
        if mode == 'intra_aligned':
            if not alignment or 'prior' not in alignment:
                raise ValueError("DACSSegmentor mode='intra_aligned' needs alignment=dict(prior=...) "
                                 '(the target class distribution)')
            cfg = dict(alignment)
            prior = load_prior(cfg.pop('prior'))
            num_classes = self.student.decode_head.num_classes
            if len(prior) != num_classes:
                raise ValueError(f'DACSSegmentor alignment.prior has {len(prior)} classes, the decode head '
                                 f'{num_classes}')
            self.alignment = DistributionAlignment(prior, ignore_index=self.ignore_index, **cfg)

    @property
    def mix_pairing(self) -> str:
        """'labelled' for InterMix (source b pasted on target b), else ClassMix's 'rolled'."""
        return 'labelled' if self.mode == 'inter' else 'rolled'

    def mix_batch(self, inputs, pseudo_labels, probs, weights, labelled):
        """See ClassMixSegmentor.mix_batch; ``labelled`` is the source batch."""
        if self.mode == 'inter':
            return inter_mix(labelled['inputs'], labelled['labels'], inputs, pseudo_labels, weights, self.proportion,
                             self.ignore_index, self.generator_on(inputs.device), num_classes=self.num_classes)
        if self.mode == 'intra_aligned':
            valid = pseudo_labels != self.ignore_index  # padding is ignore, see loss()
            self.alignment.update(pseudo_labels)
            probs = self.alignment.align(probs)
            pseudo_labels = probs.argmax(1).masked_fill(~valid, self.ignore_index)
            weights = confidence_weights(probs, step=self.iteration_count - 1, **self.weight_cfg) * valid
        return super().mix_batch(inputs, pseudo_labels, probs, weights, labelled)

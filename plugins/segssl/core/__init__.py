"""segssl.core: framework-free PyTorch building blocks (no mmseg / detectron2 imports).

Each formula is documented in its module and tested against a brute-force reference."""
from .affine import (affine_matrix, compose_affine, invert_affine, random_affine_params,
                     to_index_convention, warp_images)
from .consistency_loss import weighted_pixel_loss
from .consistency_weights import confidence_weights, teacher_momentum
from .distribution_alignment import DistributionAlignment, class_frequencies
from .erasing import (erase, erasing_fill, patch_erasing_mask, rectangle_mask,
                      sample_erasing_rectangle)
from .lars import LARS, lars_param_groups
from .matching import FeatureLattice, lattice_from_boxes, positive_pairs_dense, sum_positive_targets
from .mixing import class_mix_masks, cow_mix_masks, cut_mix_masks, mix
from .momentum import MomentumBatchNorm2d, convert_to_momentum_bn, cosine_momentum, ema_update
from .pixel_consistency import pixel_consistency_loss
from .strong_augment import color_jitter, random_gaussian_blur, strong_augment
from .propagation import (LocalPixelPropagation, PixelPropagation, SelfAttentionPropagation,
                          sinusoidal_position_encoding_2d)

__all__ = ['class_mix_masks', 'confidence_weights', 'cow_mix_masks', 'cut_mix_masks', 'mix',
           'teacher_momentum', 'affine_matrix', 'compose_affine', 'invert_affine', 'random_affine_params',
           'to_index_convention', 'warp_images', 'erase', 'erasing_fill', 'patch_erasing_mask',
           'rectangle_mask', 'sample_erasing_rectangle', 'FeatureLattice', 'LARS', 'lars_param_groups', 'LocalPixelPropagation', 'MomentumBatchNorm2d', 'PixelPropagation',
           'SelfAttentionPropagation', 'convert_to_momentum_bn', 'cosine_momentum', 'ema_update',
           'lattice_from_boxes', 'pixel_consistency_loss', 'positive_pairs_dense',
           'sinusoidal_position_encoding_2d', 'sum_positive_targets',
           'DistributionAlignment', 'class_frequencies', 'color_jitter', 'random_gaussian_blur',
           'strong_augment', 'weighted_pixel_loss']
from .dacs import MIX_MODES, MixedBatch, dacs_mix, inter_mix, intra_mix  # noqa: E402,F401
from .uda_labels import (GTA5_ID_TO_TRAIN_ID, SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES,  # noqa: E402,F401
                         SYNTHIA_ID_TO_TRAIN_ID, to_train_ids)
__all__ += ['MIX_MODES', 'MixedBatch', 'dacs_mix', 'inter_mix', 'intra_mix', 'GTA5_ID_TO_TRAIN_ID',
            'SYNTHIA_13_CLASSES', 'SYNTHIA_16_CLASSES', 'SYNTHIA_ID_TO_TRAIN_ID', 'to_train_ids']

"""segssl.core: framework-free PyTorch building blocks (no mmseg / detectron2 imports).

Each formula is documented in its module and tested against a brute-force reference."""
from .affine import affine_matrix, compose_affine, invert_affine, random_affine_params, to_index_convention, warp_images
from .class_weights import class_pixel_counts, enet_class_weights  # the ERFNet thesis
from .consistency_weights import confidence_weights, teacher_momentum
from .dacs import MIX_MODES, dacs_mix, inter_mix, intra_mix  # the ClassMix/DACS thesis, DACS
from .distributed import all_gather_cat, distributed_world_size
from .distribution_alignment import DistributionAlignment, class_frequencies
from .erasing import erase, erasing_fill, patch_erasing_mask, rectangle_mask, sample_erasing_rectangle
from .image_contrastive import anchor_weights, byol_loss, nt_xent_loss, symmetric_byol_loss, video_anchor_loss
from .lars import LARS, lars_param_groups
from .matching import FeatureLattice, lattice_from_boxes, positive_pairs_dense, sum_positive_targets
from .mixing import MixedBatch, MixStep, class_mix_masks, cow_mix_masks, cut_mix_masks, mix
from .momentum import MomentumBatchNorm2d, convert_to_momentum_bn, cosine_momentum, ema_update
from .pixpro_loss import pixel_consistency_loss
from .propagation import (LocalPixelPropagation, PixelPropagation, SelfAttentionPropagation,
                          sinusoidal_position_encoding_2d)
from .strong_augment import color_jitter, random_gaussian_blur, strong_augment
from .sync_batchnorm import AllReduceSyncBatchNorm, convert_sync_batchnorm_any_device, global_batch_moments
from .weight_surgery import (filter_energy, filter_energy_refill_, layer_numbering, layer_prefixes,
                             magnitude_prune_mask, parameter_counts)
from .weighted_pixel_loss import weighted_pixel_loss

"""segssl.core: framework-free PyTorch building blocks (no mmseg / detectron2 imports).

Each formula is documented in its module and tested against a brute-force reference."""
from .affine import (affine_matrix, compose_affine, invert_affine, random_affine_params,  # noqa: F401
                     to_index_convention, warp_images)
from .class_weights import class_pixel_counts, enet_class_weights  # noqa: F401  (the ERFNet thesis)
from .weighted_pixel_loss import weighted_pixel_loss  # noqa: F401
from .consistency_weights import confidence_weights, teacher_momentum  # noqa: F401
from .distributed import all_gather_cat, distributed_world_size  # noqa: F401
from .distribution_alignment import DistributionAlignment, class_frequencies  # noqa: F401
from .erasing import (erase, erasing_fill, patch_erasing_mask, rectangle_mask,  # noqa: F401
                      sample_erasing_rectangle)
from .image_contrastive import (anchor_weights, byol_loss, nt_xent_loss,  # noqa: F401
                                symmetric_byol_loss, video_anchor_loss)
from .lars import LARS, lars_param_groups  # noqa: F401
from .matching import (FeatureLattice, lattice_from_boxes, positive_pairs_dense,  # noqa: F401
                       sum_positive_targets)
from .mixing import MixedBatch, MixStep, class_mix_masks, cow_mix_masks, cut_mix_masks, mix  # noqa: F401
from .momentum import (MomentumBatchNorm2d, convert_to_momentum_bn, cosine_momentum,  # noqa: F401
                       ema_update)
from .pixpro_loss import pixel_consistency_loss  # noqa: F401
from .propagation import (LocalPixelPropagation, PixelPropagation,  # noqa: F401
                          SelfAttentionPropagation, sinusoidal_position_encoding_2d)
from .strong_augment import color_jitter, random_gaussian_blur, strong_augment  # noqa: F401
from .sync_batchnorm import (AllReduceSyncBatchNorm, convert_sync_batchnorm_any_device,  # noqa: F401
                             global_batch_moments)
from .weight_surgery import (filter_energy, filter_energy_refill_, layer_numbering,  # noqa: F401
                             layer_prefixes, magnitude_prune_mask, parameter_counts)
from .dacs import MIX_MODES, dacs_mix, inter_mix, intra_mix  # noqa: E402,F401  (the ClassMix/DACS thesis, DACS)

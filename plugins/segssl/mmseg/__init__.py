"""segssl's mmseg side. Configs import it with
``custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)``; importing it
registers segssl's modules into mmseg's / mmengine's registries. With mmcv-lite, it first puts
a placeholder in the place of mmcv's compiled extension (compiled_ops), so mmseg imports."""
# isort: skip_file  (the order is the registration order: the placeholder, mmseg, then segssl)
from .compiled_ops import install_mmcv_placeholder_if_missing

USING_MMCV_PLACEHOLDER = install_mmcv_placeholder_if_missing()

import mmseg.datasets  # noqa: F401,E402  (mmseg's registries are filled before ours)
import mmseg.models  # noqa: F401,E402

from . import checkpoint_loading  # noqa: F401,E402  (mmengine's local checkpoints read as data)
from .config_scope import register_config_scope  # noqa: E402

register_config_scope()  # `_base_ = ['segssl::...']` in a user's config (config_scope.py)

from .classmix import ClassMixSegmentor  # noqa: F401
from .data_preprocessor import PairedSegDataPreProcessor  # noqa: F401
from .datasets import FrameFolderDataset, PairedDataset, UnlabelledImageFolder  # noqa: F401
from .deeplabv2_head import DeepLabV2Head  # noqa: F401
from .deeplabv2_resnet import DeepLabV2ResNet  # noqa: F401
from .class_weighted_ce import ClassWeightedCrossEntropyLoss  # noqa: F401
from .runner import SegsslRunner  # noqa: F401
from .erfnet_head import ERFNetOutputHead  # noqa: F401
from .fault_handling import (
    AtomicCheckpointHook,
    NonFiniteLossHook,  # noqa: F401
    NonFiniteSkipAmpOptimWrapper,
    NonFiniteSkipOptimWrapper)
from .random_state import RandomStateHook, rank_seed  # noqa: F401
from .momentum_update_hook import MomentumUpdateHook  # noqa: F401
from .optim import LARSOptimWrapperConstructor  # noqa: F401
from .pixpro import PixelViewsDataPreProcessor, PixPro  # noqa: F401
from .tools import mmseg_tool_path, run_mmseg_tool  # noqa: F401
from .transforms import (
    AffineView,
    OnlineRandomErasing,
    OnlineRandomPatchedErasing,  # noqa: F401
    PackPixelViews,
    TwoViewCrop,
    ViewColorAugment)
from .weight_surgery_hooks import (
    FilterEnergyReinitHook,
    MagnitudePruneHook,  # noqa: F401,E402
    ReinitLayersHook,
    ResetNormStatsHook,
    SpliceLayersHook,
    StagedFineTuneHook)
from .pretext import (
    ColorizationHead,
    ColorizationPretext,
    JigsawPretext,
    OtsuPretext,  # noqa: F401
    PackColorizationInputs,
    PackPretextInputs,
    PretextClassifier,
    PretextDataPreProcessor,
    RelativePatchPretext,
    RotationPretext)
from .two_block_upsample_head import TwoBlockUpsampleHead  # noqa: F401
from .image_ssl import BYOL, SimCLR, VideoAnchorSimCLR  # noqa: F401
from .resnet_3x3_stem import ResNet3x3Stem  # noqa: F401
from .transforms import FrameClipViews, PackFrameClip, SampleFrameClip  # noqa: F401
from .mix_visualization_hook import MixVisualizationHook  # noqa: F401  (issue 11: ClassMix/DACS step figures)
from .dacs import DACSSegmentor  # noqa: F401,E402
from .datasets.uda_sources import GTA5Dataset, SynthiaDataset  # noqa: F401,E402
from .metrics import PerClassMetricsHook, SynthiaIoUMetric  # noqa: F401,E402

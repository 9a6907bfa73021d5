"""segssl's mmseg side. Configs import it with
``custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)``; importing it
registers segssl's modules into mmseg's / mmengine's registries."""
import mmseg.datasets  # noqa: F401  (mmseg's registries are filled before ours)
import mmseg.models  # noqa: F401

from .classmix import ClassMixSegmentor  # noqa: F401
from .dacs import DACSSegmentor  # noqa: F401
from .data_preprocessor import PairedSegDataPreProcessor  # noqa: F401
from .datasets import PairedDataset, UnlabelledImageFolder  # noqa: F401
from .deeplabv2_head import DeepLabV2Head  # noqa: F401
from .hooks import MomentumUpdateHook  # noqa: F401
from .optim import LARSOptimWrapperConstructor  # noqa: F401
from .pixpro import PixelViewsDataPreProcessor, PixPro  # noqa: F401
from .tools import mmseg_tool_path, run_mmseg_tool  # noqa: F401
from .transforms import (AffineView, OnlineRandomErasing, OnlineRandomPatchedErasing,  # noqa: F401
                         PackPixelViews, TwoViewCrop, ViewColorAugment)
from .datasets.uda_sources import GTA5Dataset, SynthiaDataset  # noqa: F401
from .metrics import SynthiaIoUMetric  # noqa: F401

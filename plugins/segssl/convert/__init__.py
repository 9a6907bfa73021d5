"""segssl's checkpoint bridge (framework-free: only torch and numpy).

SSL checkpoint -> reader (:mod:`.sources`) -> one canonical state dict in torchvision ResNet
naming (:mod:`.resnet_layout`) -> writer (:mod:`.writers`) for mmseg, detectron2 or
torchvision. ERFNet (mmseg's ``ERFNet`` naming as canonical) is in :mod:`.erfnet`.
"""
from .bridge import ConversionReport, convert, read_resnet
from .errors import ConversionError
from .resnet_layout import CanonicalResNet, expected_resnet_shapes
from .sources import FORMATS, read_encoder
from .writers import write_detectron2, write_mmseg, write_torchvision

__all__ = ['CanonicalResNet', 'ConversionError', 'ConversionReport', 'FORMATS', 'convert',
           'expected_resnet_shapes', 'read_encoder', 'read_resnet', 'write_detectron2',
           'write_mmseg', 'write_torchvision']

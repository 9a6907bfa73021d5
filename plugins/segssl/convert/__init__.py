"""segssl's checkpoint bridge (framework-free: only torch and numpy).

SSL checkpoint -> reader (:mod:`.sources`) -> one canonical state dict in torchvision ResNet
naming (:mod:`.resnet_layout`) -> writer (:mod:`.writers`) for mmseg, detectron2 or
torchvision. ERFNet (mmseg's ``ERFNet`` naming as canonical) is in :mod:`.erfnet`.

Reading a checkpoint file as data and writing files atomically are not conversion: they live
in :mod:`segssl.io`, which the bridge uses like every other part of segssl.

The names below are imported on first use (PEP 562), so that importing ``segssl.convert``
or ``segssl.convert.errors`` does not import torch.
"""
import importlib

_EXPORTS = {
    'CanonicalResNet': '.resnet_layout',
    'expected_resnet_shapes': '.resnet_layout',
    'ConversionError': '.errors',
    'ConversionReport': '.bridge',
    'convert': '.bridge',
    'read_resnet': '.bridge',
    'FORMATS': '.sources',
    'read_encoder': '.sources',
    'write_detectron2': '.writers',
    'write_mmseg': '.writers',
    'write_torchvision': '.writers',
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))

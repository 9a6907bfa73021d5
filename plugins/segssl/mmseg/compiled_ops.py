"""mmcv-lite support: a placeholder for ``mmcv._ext`` when mmcv has no compiled extension.

mmseg 1.2.2 imports ``mmcv.ops`` at ``import mmseg.models``, and every ``mmcv.ops`` module asks
``mmcv._ext`` for its op names at import time. mmcv-lite ships those modules without the
extension, so nothing of mmseg imports, although mmseg's ResNet / ResNetV1c, FCNHead and every
segssl model and head use no compiled op. segssl.mmseg therefore registers a placeholder
``mmcv._ext`` (segssl.compiled_ops, ``stubs=True``: every op name resolves to a function that
raises when called, naming the op and how to get full mmcv) only when mmcv has no ``_ext`` at
all. A full mmcv is never touched; a full mmcv whose ``_ext`` fails to load is an ImportError
with the loader's message.
"""
from segssl.compiled_ops import install_placeholder_if_missing

REASON = 'this mmcv (mmcv-lite) has no compiled extension mmcv._ext'
HOW_TO_GET_IT = ('install full mmcv with its ops instead of mmcv-lite: `make setup` builds mmcv '
                 '2.1.0 for the pinned torch, or take OpenMMLab\'s wheel for your torch and CUDA '
                 '(`mim install "mmcv>=2.0.0,<2.2.0"`)')
ANSWERS = {
    'get_compiler_version': lambda: 'none: mmcv._ext is a segssl placeholder',
    'get_compiling_cuda_version': lambda: 'none: mmcv._ext is a segssl placeholder'
}


def install_mmcv_placeholder_if_missing() -> bool:
    """Register the placeholder as ``mmcv._ext`` if mmcv has none; True if it is in place."""
    return install_placeholder_if_missing(
        'mmcv', '_ext', REASON, HOW_TO_GET_IT, stubs=True, answers=ANSWERS,
        missing_package_hint='segssl.mmseg needs mmcv (full mmcv 2.1.0, or mmcv-lite 2.1.0): '
        'run `make setup`, or `pip install -e .[mmseg]`')

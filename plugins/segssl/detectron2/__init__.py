"""segssl's detectron2 side. Importing it makes detectron2 importable without its compiled
extension (see compiled_ops), on Pillow 10+ and numpy 1.24+ (see compat), and registers
segssl's config keys, datasets and hooks."""
from . import compat

COMPAT_ALIASES_SET = compat.apply()

from .compiled_ops import CompiledOpsPlaceholder, MissingCompiledOpError, install_placeholder_if_missing  # noqa: E402

USING_PLACEHOLDER = install_placeholder_if_missing()

from .config import add_segssl_config  # noqa: E402
from .datasets import register_synthetic_coco  # noqa: E402

__all__ = [
    'COMPAT_ALIASES_SET', 'CompiledOpsPlaceholder', 'MissingCompiledOpError', 'USING_PLACEHOLDER', 'add_segssl_config',
    'install_placeholder_if_missing', 'register_synthetic_coco'
]

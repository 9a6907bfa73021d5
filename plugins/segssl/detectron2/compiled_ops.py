"""A stand-in for ``detectron2._C`` when detectron2 was installed without its compiled extension.

detectron2 imports ``_C`` at module level in a few places (deformable conv, rotated boxes, the
fast COCO evaluator), so without it ``import detectron2.layers`` fails even for models, such as
Mask R-CNN R50-FPN, that never call a compiled op. ``install_placeholder_if_missing`` puts a
placeholder module in its place only if detectron2 has no ``_C`` at all. A ``_C`` that exists
but fails to load (built against another torch or CUDA) is an error, with the loader's message:
replacing it silently would hide the broken build and slow evaluation down. Using any op of the
placeholder raises ``MissingCompiledOpError`` naming the op and how to get it.
"""
import importlib
import importlib.util
import sys
import types

HOW_TO_GET_IT = ('install detectron2 from source as its INSTALL.md says (clone '
                 'facebookresearch/detectron2, then `python -m pip install -e detectron2` with a '
                 'compiler, and nvcc for GPU ops), or use a model and evaluator that need no '
                 'compiled op (e.g. Mask R-CNN R50-FPN, COCOEvaluator(use_fast_impl=False))')


class MissingCompiledOpError(AttributeError):
    """Raised when code asks the placeholder ``detectron2._C`` for a compiled op.

    An AttributeError, so ``hasattr(_C, op)`` answers False as it would for an op that was not
    built; the message says which op and how to get it.
    """


class CompiledOpsPlaceholder(types.ModuleType):
    """Module object registered as ``detectron2._C``; every op attribute raises.

    ``get_compiler_version``/``get_cuda_version``/``has_cuda`` (which detectron2's collect_env
    calls) answer that nothing was compiled instead of raising.
    """

    def __init__(self, reason: str):
        super().__init__('detectron2._C', 'segssl placeholder: detectron2 was installed without '
                                          'its compiled extension')
        self.segssl_placeholder = True
        self.reason = reason

    def get_compiler_version(self):
        return f'none: detectron2._C is a segssl placeholder ({self.reason})'

    def get_cuda_version(self):
        return 'none: detectron2._C is a segssl placeholder'

    def has_cuda(self):
        return False

    def __getattr__(self, name):
        if name.startswith('__') and name.endswith('__'):   # torch/inspect probe these
            raise AttributeError(name)
        raise MissingCompiledOpError(
            f'detectron2._C.{name} is a compiled detectron2 op, but this detectron2 has no compiled '
            f'extension ({self.reason}); segssl put a placeholder in its place. To use {name}, '
            f'{HOW_TO_GET_IT}.')


def install_placeholder_if_missing() -> bool:
    """Register the placeholder as ``detectron2._C`` if detectron2 has none.

    Returns True if the placeholder is (now) in place, False if the real extension is used.
    Raises ImportError if detectron2 itself is not installed, or if its ``_C`` exists but fails
    to load (the message holds the loader's error).
    """
    try:
        detectron2 = importlib.import_module('detectron2')
    except ImportError as e:
        raise ImportError('segssl.detectron2 needs detectron2 0.6: run `make setup` (it installs '
                          'the Python package), or install detectron2 from source') from e
    current = sys.modules.get('detectron2._C')
    if current is not None:
        return bool(getattr(current, 'segssl_placeholder', False))
    spec = importlib.util.find_spec('detectron2._C')
    if spec is not None:
        try:
            importlib.import_module('detectron2._C')
            return False
        except ImportError as e:
            raise ImportError(
                f'detectron2._C exists ({spec.origin}) but does not load: {e}. It was probably built '
                'against another torch or CUDA than the installed ones: rebuild detectron2 for them '
                '(or remove the extension to run without compiled ops)') from e
    placeholder = CompiledOpsPlaceholder('detectron2 was installed without it')
    sys.modules['detectron2._C'] = placeholder
    detectron2._C = placeholder
    return True

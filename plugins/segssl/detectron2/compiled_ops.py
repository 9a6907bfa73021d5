"""A stand-in for ``detectron2._C`` when detectron2 was installed without its compiled extension.

detectron2 imports ``_C`` at module level in a few places (deformable conv, rotated boxes, the
fast COCO evaluator), so without it ``import detectron2.layers`` fails even for models, such as
Mask R-CNN R50-FPN, that never call a compiled op. ``install_placeholder_if_missing`` puts a
placeholder module in its place only if detectron2 has no ``_C`` at all (segssl.compiled_ops);
a ``_C`` that exists but fails to load is an error with the loader's message. Asking the
placeholder for an op raises ``MissingCompiledOpError`` naming the op and how to get it.
"""
from segssl.compiled_ops import CompiledOpsPlaceholder, MissingCompiledOpError
from segssl.compiled_ops import install_placeholder_if_missing as _install

HOW_TO_GET_IT = ('install detectron2 from source as its INSTALL.md says (clone '
                 'facebookresearch/detectron2, then `python -m pip install -e detectron2` with a '
                 'compiler, and nvcc for GPU ops), or use a model and evaluator that need no '
                 'compiled op (e.g. Mask R-CNN R50-FPN, COCOEvaluator(use_fast_impl=False))')
REASON = 'detectron2 was installed without its compiled extension'
# detectron2's collect_env asks these; they answer that nothing was compiled.
ANSWERS = {
    'get_compiler_version': lambda: f'none: detectron2._C is a segssl placeholder ({REASON})',
    'get_cuda_version': lambda: 'none: detectron2._C is a segssl placeholder',
    'has_cuda': lambda: False
}

__all__ = ['CompiledOpsPlaceholder', 'MissingCompiledOpError', 'install_placeholder_if_missing']


def install_placeholder_if_missing() -> bool:
    """Register the placeholder as ``detectron2._C`` if detectron2 has none.

    Returns True if the placeholder is (now) in place, False if the real extension is used.
    Raises ImportError if detectron2 itself is not installed, or if its ``_C`` exists but fails
    to load (the message holds the loader's error).
    """
    return _install(
        'detectron2', '_C', REASON, HOW_TO_GET_IT, stubs=False, answers=ANSWERS,
        missing_package_hint='segssl.detectron2 needs detectron2 0.6: run `make '
        'setup` (it installs the Python package), or install '
        'detectron2 from source')

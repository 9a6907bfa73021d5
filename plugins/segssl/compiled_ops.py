"""Stand-ins for a framework's compiled extension when the framework was installed without it.

Both frameworks segssl plugs into import their compiled extension at module level, so a
pure-Python install cannot even import models that never call a compiled op:

* detectron2 installed without ``detectron2._C`` (the pure-Python package of its sdist);
* mmcv-lite, which has ``mmcv.ops`` but no ``mmcv._ext`` (mmseg's ResNet, FCN and DeepLab heads,
  and every segssl model use none of its ops).

:func:`install_placeholder_if_missing` registers a :class:`CompiledOpsPlaceholder` as
``PACKAGE.EXT`` only if the package has no such extension at all. An extension that exists but
fails to load (built against another torch or CUDA) is an error with the loader's message:
replacing it silently would hide a broken build. Nothing here imports a framework.

Two ways a placeholder answers for an op, because the frameworks probe differently:

* ``stubs=False`` (detectron2): asking for an op raises :class:`MissingCompiledOpError`, an
  AttributeError, so ``hasattr(_C, op)`` is False as for an op that was not built;
* ``stubs=True`` (mmcv): an op resolves to a function, since mmcv's ``load_ext`` asserts that
  every op name exists at import time; calling it raises :class:`MissingCompiledOpError`.
"""
import importlib
import importlib.machinery
import importlib.util
import sys
import types


class MissingCompiledOpError(AttributeError):
    """A compiled op was asked for, but the framework has no compiled extension.

    The message names the op and how to get it.
    """


class CompiledOpsPlaceholder(types.ModuleType):
    """The module registered as ``PACKAGE.EXT``; every op raises (at access or at call).

    Args:
        name (str): the extension's module name, e.g. ``'mmcv._ext'``.
        reason (str): why there is no extension (shown in every error).
        how_to_get_it (str): what the user can do to get the compiled ops.
        stubs (bool): resolve an op to a raising function (True) or raise at access (False).
        answers (dict[str, object] | None): attributes with a fixed value (version probes).
    """

    def __init__(self, name, reason, how_to_get_it, stubs=False, answers=None):
        super().__init__(name, f'segssl placeholder: {reason}')
        # A proper spec, so importlib and inspect treat the module as loaded.
        self.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
        self.segssl_placeholder = True
        self.reason = reason
        self.how_to_get_it = how_to_get_it
        self.stubs = stubs
        for key, value in (answers or {}).items():
            setattr(self, key, value)

    def missing(self, op):
        """The error for ``op``."""
        return MissingCompiledOpError(
            f'{self.__name__}.{op} is a compiled {self.__name__.split(".")[0]} op, but it is '
            f'not available here ({self.reason}); segssl put a placeholder in its place. To use '
            f'{op}, '
            f'{self.how_to_get_it}.')

    def __getattr__(self, op):
        if op.startswith('__') and op.endswith('__'):  # torch/inspect/pickle probe these
            raise AttributeError(op)
        if not self.stubs:
            raise self.missing(op)

        def compiled_op(*args, **kwargs):
            raise self.missing(op)

        compiled_op.__name__ = compiled_op.__qualname__ = op
        return compiled_op


def install_placeholder_if_missing(package, ext, reason, how_to_get_it, stubs=False, answers=None,
                                   missing_package_hint=''):
    """Register a placeholder as ``package.ext`` if the installed ``package`` has none.

    Returns:
        bool: True if the placeholder is (now) in place, False if the real extension is used.

    Raises:
        ImportError: ``package`` is not installed (``missing_package_hint`` says what to do),
            or its extension exists but does not load (the message holds the loader's error).
    """
    name = f'{package}.{ext}'
    try:
        module = importlib.import_module(package)
    except ImportError as e:
        raise ImportError(missing_package_hint or f'{package} is not installed') from e
    current = sys.modules.get(name)
    if current is not None:
        return bool(getattr(current, 'segssl_placeholder', False))
    spec = importlib.util.find_spec(name)
    if spec is not None:
        try:
            importlib.import_module(name)
            return False
        except ImportError as e:
            raise ImportError(f'{name} exists ({spec.origin}) but does not load: {e}. It was probably built '
                              f'against another torch or CUDA than the installed ones: rebuild {package} for '
                              'them (or remove the extension to run without compiled ops)') from e
    placeholder = CompiledOpsPlaceholder(name, reason, how_to_get_it, stubs, answers)
    sys.modules[name] = placeholder
    setattr(module, ext, placeholder)
    return True

"""A pickle module that rebuilds data and never runs code: the default reader of every
checkpoint file segssl loads (``torch.load(..., pickle_module=safe_pickle)`` and plain
pickles), by the bridge, mmengine's local checkpoint loader, the figures and the tools.

A pickle is a program: its ``GLOBAL`` / ``STACK_GLOBAL`` / ``INST`` opcodes import any
``module.name`` and its ``REDUCE`` / ``NEWOBJ`` / ``BUILD`` opcodes call what was imported, so a
file whose pickle names ``posix.system`` runs a shell command while it loads. Every import a
pickle makes goes through :meth:`Unpickler.find_class`; here it admits only the classes and
functions real SSL checkpoints are made of (found by reading the code that writes them) and
refuses everything else with :class:`RefusedGlobal` before anything is called:

* torch: tensor and parameter rebuild functions, storage classes, dtypes, ``torch.Size``,
  ``torch.device`` (the set of ``torch.load(weights_only=True)``); a tensor pickled by plain
  ``pickle`` stores its storage as nested ``torch.save`` bytes read by
  ``torch.storage._load_from_bytes``, an unrestricted ``torch.load``: that name is answered with
  a reader of those bytes through this module;
* ``collections.OrderedDict`` (state dicts) and ``Counter`` (MultiStep schedulers'
  milestones), ``argparse.Namespace`` (PixPro's ``opt``), ``builtins.set`` / ``frozenset`` /
  ``complex`` / ``slice`` / ``bytearray`` (``__builtin__.*`` in protocol-2 pickles);
* numpy arrays, dtypes and scalars, under numpy 1's (``numpy.core``) and numpy 2's
  (``numpy._core``) module names, and ``_codecs.encode`` limited to latin-1 (protocol-2 pickles
  of numpy data, e.g. detectron2's and Detectron's ``.pkl`` files, store bytes through it);
* ``mmengine.logging.history_buffer.HistoryBuffer``: the logged scalars in every mmengine
  checkpoint's ``message_hub`` (a plain container of arrays and numbers). Its pickle names its
  statistics methods as ``getattr(HistoryBuffer, 'min')``: ``getattr`` is answered with a
  function that returns exactly those four methods and refuses any other attribute (a free
  ``getattr`` would reach any function through ``__globals__``).

``torch.load`` calls the module's ``Unpickler`` and ``load``, which is all this module is.
"""
import pickle

__all__ = ['RefusedGlobal', 'Unpickler', 'load', 'loads', 'ALLOWED_GLOBALS']

_NUMPY = {'_reconstruct', 'scalar'}
_TORCH_REBUILD = {
    '_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter',
    '_rebuild_parameter_with_state', '_rebuild_sparse_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_qtensor',
    '_rebuild_device_tensor_from_numpy'
}
_TORCH_DTYPES = {
    'float16', 'float32', 'float64', 'bfloat16', 'complex32', 'complex64', 'complex128', 'uint8', 'int8', 'int16',
    'int32', 'int64', 'bool', 'half', 'float', 'double', 'long', 'int', 'short', 'cfloat', 'cdouble', 'quint8', 'qint8',
    'qint32', 'quint4x2', 'float8_e4m3fn', 'float8_e5m2'
}
_TORCH_STORAGES = {
    f'{t}Storage'
    for t in ('Float', 'Double', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'ComplexFloat',
              'ComplexDouble', 'QUInt8', 'QInt8', 'QInt32', 'QUInt4x2')
}

#: module -> names a checkpoint's pickle may import; nothing else is ever imported or called
ALLOWED_GLOBALS = {
    'collections': {'OrderedDict', 'Counter'},
    'argparse': {'Namespace'},
    'builtins': {'set', 'frozenset', 'complex', 'slice', 'bytearray'},
    '__builtin__': {'set', 'frozenset', 'complex', 'slice', 'bytearray'},
    'numpy': {'ndarray', 'dtype'},
    'numpy.core.multiarray': _NUMPY,
    'numpy._core.multiarray': _NUMPY,
    'numpy.core.numeric': {'_frombuffer'},
    'numpy._core.numeric': {'_frombuffer'},
    'torch': _TORCH_DTYPES | _TORCH_STORAGES | {'Size', 'device', 'Tensor'},
    'torch._utils': _TORCH_REBUILD,
    'torch._tensor': {'_rebuild_from_type_v2'},
    'torch.nn.parameter': {'Parameter'},
    'torch.serialization': {'_get_layout'},
    'torch.storage': {'UntypedStorage', 'TypedStorage'},
    'mmengine.logging.history_buffer': {'HistoryBuffer'},
}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle imports ``module.name``, which is not data (it could run code).

    Attributes:
        name (str): ``module.name`` as the pickle spells it, e.g. ``posix.system``.
    """

    def __init__(self, module, name):
        self.name = f'{module}.{name}'
        super().__init__(f'refused global {self.name}')


def _allowed(module, name):
    if name in ALLOWED_GLOBALS.get(module, ()):
        return True
    # numpy >= 1.25 pickles a dtype by its class, e.g. numpy.dtypes.Float32DType
    return module == 'numpy.dtypes' and name.isidentifier() and name.endswith('DType')


_HISTORY_BUFFER = ('mmengine.logging.history_buffer', 'HistoryBuffer')
_HISTORY_STATISTICS = ('min', 'max', 'current', 'mean')


def _statistics_getattr(obj, name):
    """``getattr`` for the one use checkpoints make of it: HistoryBuffer's statistics methods."""
    if (getattr(obj, '__module__', None), getattr(obj, '__name__', None)) == _HISTORY_BUFFER \
            and name in _HISTORY_STATISTICS:
        return getattr(obj, name)
    raise RefusedGlobal('builtins', f'getattr({getattr(obj, "__qualname__", type(obj).__name__)}, {name!r})')


def _latin1_encode(text, encoding='utf-8', errors='strict'):
    """``_codecs.encode`` as protocol-2 pickles use it: str -> bytes through latin-1."""
    if encoding.replace('-', '').replace('_', '').lower() not in ('latin1', 'iso88591', 'l1') \
            or not isinstance(text, str):
        raise RefusedGlobal('_codecs', f'encode(..., {encoding!r})')
    return text.encode('latin1', errors)


def _load_from_bytes(data):
    """``torch.storage._load_from_bytes`` with the nested pickle restricted as well."""
    import io
    import sys

    import torch
    return torch.load(io.BytesIO(data), map_location='cpu', pickle_module=sys.modules[__name__], weights_only=False)


class Unpickler(pickle.Unpickler):
    """:class:`pickle.Unpickler` whose imports are limited to :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module, name):
        if (module, name) == ('torch.storage', '_load_from_bytes'):
            return _load_from_bytes
        if module in ('builtins', '__builtin__') and name == 'getattr':
            return _statistics_getattr
        if (module, name) == ('_codecs', 'encode'):
            return _latin1_encode
        if not _allowed(module, name):
            raise RefusedGlobal(module, name)
        return super().find_class(module, name)


def load(file, **kwargs):
    """``pickle.load`` through :class:`Unpickler` (same keyword arguments)."""
    return Unpickler(file, **kwargs).load()


def loads(data, **kwargs):
    import io
    return load(io.BytesIO(data), **kwargs)

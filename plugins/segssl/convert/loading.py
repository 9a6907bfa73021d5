"""The bridge's reader of a checkpoint file: :func:`segssl.io.load_checkpoint_file`, with its
error raised as the bridge's one exception, :class:`.errors.ConversionError` (same message,
same ``path``), so that ``segssl-convert`` and every caller of :func:`segssl.convert.convert`
catch one type for a file that cannot be read and for one that cannot be converted.
"""
from segssl.io.checkpoint_files import TRUST_PICKLE_WARNING, CheckpointFileError
from segssl.io.checkpoint_files import load_checkpoint_file as _load

from .errors import ConversionError

__all__ = ['TRUST_PICKLE_WARNING', 'load_checkpoint_file']


def load_checkpoint_file(path, trust_pickle=False):
    """:func:`segssl.io.load_checkpoint_file` (same arguments and result).

    Raises:
        ConversionError: the file cannot be read as a checkpoint (see
            :class:`segssl.io.CheckpointFileError`: the message names the file).
    """
    try:
        return _load(path, trust_pickle)
    except CheckpointFileError as e:
        raise ConversionError(e.reason, e.path) from None

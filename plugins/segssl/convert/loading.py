"""Read a checkpoint file from disk into Python objects, with errors that name the file.

Accepted containers: anything :func:`torch.load` reads (``.pth``/``.pt``/``.ckpt``, zip or
legacy pickle) and plain pickles (``.pkl``, e.g. detectron2 files; numpy arrays are turned
into tensors by the readers). Everything is loaded onto the CPU.
"""
import os
import pickle
import zipfile

import torch

from .errors import ConversionError


def load_checkpoint_file(path):
    """Load ``path`` and return the object stored in it (usually a dict).

    Raises:
        ConversionError: the file is missing, empty, truncated, or not a checkpoint; the
            message names the file, its size and what the loader reported.
    """
    if not os.path.isfile(path):
        raise ConversionError('no such file (expected a checkpoint file)', path)
    size = os.path.getsize(path)
    if size == 0:
        raise ConversionError('the file is empty (0 bytes); expected a checkpoint', path)
    try:
        return torch.load(path, map_location='cpu')
    except Exception as torch_error:  # noqa: BLE001 - every loader failure becomes one message
        first = f'{type(torch_error).__name__}: {torch_error}'.splitlines()[0]
    if not zipfile.is_zipfile(path):
        try:
            with open(path, 'rb') as f:
                return pickle.load(f, encoding='latin1')
        except Exception:  # noqa: BLE001
            pass
    with open(path, 'rb') as f:
        head = f.read(8)
    kind = ('a zip archive (torch format) that cannot be read to its end: truncated or corrupt'
            if head.startswith(b'PK') else
            'a pickle that ends early: truncated or corrupt' if head[:1] == b'\x80' else
            f'not a checkpoint (starts with {head!r})')
    raise ConversionError(
        f'cannot load: {kind}; size {size} bytes; torch.load said: {first[:300]}; '
        'expected a file written by torch.save or pickle', path)

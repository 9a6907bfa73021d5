"""Read a checkpoint file from disk into Python objects, with errors that name the file.

Accepted containers: anything :func:`torch.load` reads (``.pth``/``.pt``/``.ckpt``, zip or
legacy pickle) and plain pickles (``.pkl``, e.g. detectron2 files; numpy arrays are turned
into tensors by the readers). Everything is loaded onto the CPU.

A downloaded checkpoint is data, not code: by default every pickle in the file is read through
:mod:`.safe_pickle`, which builds tensors, arrays and plain containers and refuses any other
import (the error names the file and the refused global, e.g. ``posix.system``). One
restricted unpickler serves every torch version: ``torch.load(weights_only=True)`` has no
allowlist on torch < 2.4 (PixPro's ``argparse.Namespace`` would not load) and does not read
plain pickles. ``trust_pickle=True`` is the explicit opt-in to full unpickling, for a file the
user trusts.

Reading a file is not converting it, so this lives outside the checkpoint bridge: the bridge
(:mod:`segssl.convert`), the figures, the weight-surgery hooks and the tools all read through
:func:`load_checkpoint_file`. torch is imported on the first load, not with this module.
"""
import os
import pickle

from . import safe_pickle

__all__ = ['CheckpointFileError', 'TRUST_PICKLE_WARNING', 'load_checkpoint_file']

TRUST_PICKLE_WARNING = ('--trust-pickle: {path} is fully unpickled, so any code it contains runs '
                        'with your permissions (it may import and call any Python function); '
                        'use it only for a file you trust')


class CheckpointFileError(ValueError):
    """A checkpoint file cannot be read: missing, empty, truncated, not a checkpoint, or its
    pickle imports something that is not data.

    The message starts with the file, e.g. ``ckpt.pth: the file is empty (0 bytes); expected
    a checkpoint``.

    Attributes:
        path (str | None): the file the error is about.
        reason (str): the message without the leading ``path: ``.
    """

    def __init__(self, message, path=None):
        self.path = path
        self.reason = message
        super().__init__(f'{path}: {message}' if path else message)


def load_checkpoint_file(path, trust_pickle=False):
    """Load ``path`` and return the object stored in it (usually a dict).

    Args:
        path (str): a ``torch.save`` file or a plain pickle.
        trust_pickle (bool): unpickle everything (``torch.load(weights_only=False)`` and
            ``pickle.load``): the file may run code. Default: only data (:mod:`.safe_pickle`).

    Raises:
        CheckpointFileError: the file is missing, empty, truncated, or not a checkpoint; or (by
            default) its pickle imports something that is not data. The message names the
            file, and the refused global, or its size and what the loader reported.
    """
    import torch

    if not os.path.isfile(path):
        raise CheckpointFileError('no such file (expected a checkpoint file)', path)
    size = os.path.getsize(path)
    if size == 0:
        raise CheckpointFileError('the file is empty (0 bytes); expected a checkpoint', path)
    module = pickle if trust_pickle else safe_pickle
    try:
        return torch.load(path, map_location='cpu', pickle_module=module, weights_only=False)
    except safe_pickle.RefusedGlobal as e:
        raise _refused(path, e) from None
    except Exception as torch_error:  # noqa: BLE001 - every loader failure becomes one message
        first = f'{type(torch_error).__name__}: {torch_error}'.splitlines()[0]
    with open(path, 'rb') as f:
        head = f.read(8)
    # torch's zip format starts with a local file header; zipfile.is_zipfile() also says yes
    # to a plain pickle that merely ends with zip bytes (a plainly pickled tensor's storage)
    if not head.startswith(b'PK\x03\x04'):
        try:
            with open(path, 'rb') as f:
                return module.load(f, encoding='latin1')
        except safe_pickle.RefusedGlobal as e:
            raise _refused(path, e) from None
        except Exception:  # noqa: BLE001
            pass
    kind = ('a zip archive (torch format) that cannot be read to its end: truncated or corrupt'
            if head.startswith(b'PK') else 'a pickle that ends early: truncated or corrupt'
            if head[:1] == b'\x80' else f'not a checkpoint (starts with {head!r})')
    raise CheckpointFileError(
        f'cannot load: {kind}; size {size} bytes; torch.load said: {first[:300]}; '
        'expected a file written by torch.save or pickle', path)


def _refused(path, error):
    return CheckpointFileError(
        f'refused to load: its pickle imports {error.name}, which is not checkpoint data '
        '(tensors, arrays, numbers, strings, containers, argparse.Namespace) and could run code '
        'on this machine; nothing was written. If you trust this file, pass --trust-pickle', path)

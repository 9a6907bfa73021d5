"""mmengine reads local checkpoints through segssl's restricted unpickler.

mmengine's ``CheckpointLoader`` reads every local file (``--resume``, ``load_from``,
``init_cfg=dict(type='Pretrained', ...)``) with a bare ``torch.load``. That is two problems:

* on torch < 2.6 it unpickles fully, so a downloaded ``.pth`` given as ``load_from`` or a
  Pretrained init may run any code it contains;
* on torch >= 2.6 ``torch.load`` defaults to ``weights_only=True``, which refuses the
  ``HistoryBuffer`` of every mmengine checkpoint's ``message_hub``, so ``--resume`` fails on the
  current stack with "Weights only load failed".

Importing ``segssl.mmseg`` registers :func:`load_from_local` as mmengine's loader for local
paths (``CheckpointLoader.register_scheme(prefixes='', force=True)``, mmengine's extension
point). It loads with ``segssl.io.safe_pickle``: tensors, arrays, numbers, strings,
containers, ``HistoryBuffer`` and the other data mmengine checkpoints hold, and nothing that
could run code, on every torch version. ``SEGSSL_TRUST_PICKLE=1`` unpickles fully instead, for
a file the user trusts.
"""
import os
import os.path as osp
import pickle

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from segssl.io import safe_pickle

TRUST_VARIABLE = 'SEGSSL_TRUST_PICKLE'


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose pickle imports something that is not data."""


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename, map_location):
    """Load a local checkpoint as data (or fully, with ``SEGSSL_TRUST_PICKLE=1``)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    trusted = os.environ.get(TRUST_VARIABLE) == '1'
    try:
        return torch.load(filename, map_location=map_location, weights_only=False,
                          pickle_module=pickle if trusted else safe_pickle)
    except safe_pickle.RefusedGlobal as e:
        raise UntrustedCheckpointError(
            f'{filename}: refused to load: its pickle imports {e.name}, which is not checkpoint '
            'data and could run code on this machine. If you trust this file, set '
            f'{TRUST_VARIABLE}=1 (or convert it with tools/convert_checkpoint.py first)') from None

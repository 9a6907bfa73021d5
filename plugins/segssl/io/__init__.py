"""Reading and writing files safely, for every part of segssl (framework-free: the standard
library, and torch only inside :func:`load_checkpoint_file`).

* :mod:`.atomic`: a destination file or folder is complete or absent, never half-written
  (:func:`atomic_outputs`, :func:`atomic_write_text`, :func:`atomic_folders`,
  :func:`temporary_folder`), with the mode a plain ``open`` / ``os.makedirs`` gives it;
* :mod:`.safe_pickle`: a pickle module that rebuilds data and never runs code;
* :mod:`.checkpoint_files`: :func:`load_checkpoint_file`, a checkpoint file as data, with a
  :class:`CheckpointFileError` naming the file when it cannot be read.

Importing this package does not import torch, so a tool's ``--help`` stays fast.
"""
from .atomic import atomic_folders, atomic_outputs, atomic_write_text, temporary_folder
from .checkpoint_files import TRUST_PICKLE_WARNING, CheckpointFileError, load_checkpoint_file
from .safe_pickle import RefusedGlobal

__all__ = [
    'CheckpointFileError', 'RefusedGlobal', 'TRUST_PICKLE_WARNING', 'atomic_folders', 'atomic_outputs',
    'atomic_write_text', 'load_checkpoint_file', 'temporary_folder'
]

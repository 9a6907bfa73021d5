"""Write files so that a destination is either complete or absent, never half-written.

Every writer of the bridge writes to a hidden temporary file in the destination's own folder
(``.<name>.<random>.tmp``, so the final rename stays on one file system) and renames it over
the destination with :func:`os.replace` only once the content is complete and flushed. When
several files belong together (detectron2's ``.pkl`` and its ``.yaml``) all are written to
temporaries first and renamed only when every one of them succeeded.
"""
import os
import tempfile
from contextlib import contextmanager


def _temp_path(dst):
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(dst) + '.', suffix='.tmp',
                               dir=folder)
    os.close(fd)
    return tmp


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextmanager
def atomic_outputs(*dsts):
    """Yield one temporary path per destination; rename them all into place on success.

    Args:
        *dsts (str): destination file paths.

    Yields:
        list[str]: temporary paths, in the order of ``dsts``; write each completely.

    On any exception inside the block every temporary file is removed and no destination is
    touched (an existing destination keeps its old content).
    """
    tmps = []
    try:
        for dst in dsts:
            tmps.append(_temp_path(dst))
        yield tmps
        for tmp in tmps:
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
        for tmp, dst in zip(tmps, dsts):
            os.replace(tmp, dst)
    except BaseException:
        for tmp in tmps:
            _remove_quietly(tmp)
        raise

"""Write files and folders so that a destination is either complete or absent, never half-written.

Every tool, hook and writer of segssl writes through here: checkpoints of the bridge, split
lists, tables, figures, done-files of experiments, exported datasets. A file is written to a
hidden temporary file in the destination's own folder (``.<name>.<random>.tmp``, so the final
rename stays on one file system) and renamed over the destination with :func:`os.replace` only
once the content is complete and flushed. When several files belong together (detectron2's
``.pkl`` and its ``.yaml``, a results ``.md`` and ``.csv``) all are written to temporaries first
and renamed only when every one of them succeeded. :func:`atomic_folders` does the same for
folders that are filled and then renamed into place.

Permissions: a file written here ends up with the mode a plain ``open(dst, 'w')`` would give
it: ``0o666 & ~umask`` for a new file (0644 under umask 022, 0600 under 077), as mmengine's and
detectron2's own checkpoints have, and the existing file's mode when ``dst`` is replaced (not
the 0600 of :func:`tempfile.mkstemp`). The temporary file is created with ``os.open(...,
0o666)``, so the kernel applies the umask itself: nothing reads or changes the process umask.
:func:`temporary_folder` does the same for a folder that is filled and then renamed into place
(``0o777 & ~umask``, what :func:`os.makedirs` gives).
"""
import os
import shutil
import stat
from contextlib import contextmanager

_CREATE_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_BINARY', 0))
_ATTEMPTS = 100

__all__ = ['atomic_outputs', 'atomic_write_text', 'atomic_folders', 'temporary_folder']


def _random_name(prefix, suffix):
    return f'{prefix}{os.urandom(6).hex()}{suffix}'


def _temp_path(dst):
    """Create an empty ``.<name>.<random>.tmp`` beside ``dst``; return ``(path, mode)``.

    ``mode`` is ``0o666 & ~umask``, read back from the new file. The file is kept writable by
    its owner while it is being written (an odd umask such as 0o277 would otherwise make it
    read-only); :func:`atomic_outputs` sets the final mode before the rename.
    """
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    prefix = '.' + os.path.basename(dst) + '.'
    for _ in range(_ATTEMPTS):
        tmp = os.path.join(folder, _random_name(prefix, '.tmp'))
        try:
            fd = os.open(tmp, _CREATE_FLAGS, 0o666)
        except FileExistsError:
            continue
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        owner_rw = stat.S_IRUSR | stat.S_IWUSR
        if mode & owner_rw != owner_rw:
            os.chmod(tmp, mode | owner_rw)
        return tmp, mode
    raise FileExistsError(f'{folder}: no free temporary name {prefix}*.tmp after {_ATTEMPTS} tries')


def _final_mode(dst, new_file_mode):
    """What ``open(dst, 'w')`` leaves: the mode of an existing ``dst``, else the new-file mode."""
    try:
        return stat.S_IMODE(os.stat(dst).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return new_file_mode


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
        list[str]: temporary paths, in the order of ``dsts``; write each completely (the
        file exists, empty: open it with ``'w'``/``'wb'`` or pass the path to a saver).

    On any exception inside the block every temporary file is removed and no destination is
    touched (an existing destination keeps its old content). On success each destination has
    the mode ``open(dst, 'w')`` would give it (see the module docstring).
    """
    tmps, modes = [], []
    try:
        for dst in dsts:
            tmp, mode = _temp_path(dst)
            tmps.append(tmp)
            modes.append(mode)
        yield tmps
        for tmp in tmps:
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
        for tmp, dst, mode in zip(tmps, dsts, modes):
            final = _final_mode(dst, mode)
            if stat.S_IMODE(os.stat(tmp).st_mode) != final:
                os.chmod(tmp, final)
        for tmp, dst in zip(tmps, dsts):
            os.replace(tmp, dst)
    except BaseException:
        for tmp in tmps:
            _remove_quietly(tmp)
        raise


def temporary_folder(parent, prefix):
    """Create a new empty folder ``parent/<prefix><random>.tmp`` with the mode
    :func:`os.makedirs` gives (``0o777 & ~umask``, not :func:`tempfile.mkdtemp`'s 0700);
    return its path. For a folder that is filled and then renamed into place."""
    os.makedirs(parent, exist_ok=True)
    for _ in range(_ATTEMPTS):
        path = os.path.join(parent, _random_name(prefix, '.tmp'))
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f'{parent}: no free temporary name {prefix}*.tmp after {_ATTEMPTS} tries')


def atomic_write_text(dst, text):
    """Write the string ``text`` to ``dst`` through :func:`atomic_outputs` (one file)."""
    with atomic_outputs(dst) as (tmp, ):
        with open(tmp, 'w') as f:
            f.write(text)


@contextmanager
def atomic_folders(*dsts):
    """Yield one new empty temporary folder per destination folder; rename them all into place
    on success.

    Args:
        *dsts (str): destination folder paths (their parents are created).

    Yields:
        list[str]: temporary folders ``.<name>.<random>.tmp`` beside each destination (made by
        :func:`temporary_folder`, mode ``0o777 & ~umask``), in the order of ``dsts``.

    On any exception inside the block every temporary folder is removed and no destination is
    touched. On success an existing destination is first moved aside (into a temporary folder
    of its own, removed at the end) and the new folder renamed in its place, so ``dst`` holds
    either its old or its new complete content, never a half-written or mixed one (it is absent
    only between those two renames, not while the folder is being filled).
    """
    staged, aside = [], []
    try:
        for dst in dsts:
            dst = os.path.abspath(dst)
            staged.append(temporary_folder(os.path.dirname(dst), '.' + os.path.basename(dst) + '.'))
        yield list(staged)
        for dst in dsts:
            dst = os.path.abspath(dst)
            if os.path.lexists(dst):
                aside.append(temporary_folder(os.path.dirname(dst), '.' + os.path.basename(dst) + '.old.'))
                os.replace(dst, os.path.join(aside[-1], os.path.basename(dst)))
            os.replace(staged.pop(0), dst)
    finally:
        for tmp in staged + aside:
            shutil.rmtree(tmp, ignore_errors=True)

"""Hand over to mmseg's own command-line tools, which mmseg 1.x ships inside its package
(``mmseg/.mim/tools/``), so users keep mmseg's exact command line and behaviour."""
import os
import runpy
import sys
from importlib.util import find_spec


def mmseg_tool_path(name: str) -> str:
    """Path of mmseg's packaged tool ``name`` (e.g. 'train.py'); clear error if missing."""
    spec = find_spec('mmseg')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('mmsegmentation is not installed: run `make setup` (see README)')
    for root in spec.submodule_search_locations:
        path = os.path.join(root, '.mim', 'tools', name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f'mmseg tool {name!r} not found under '
                            f'{list(spec.submodule_search_locations)}/.mim/tools: mmsegmentation '
                            f'>=1.0 installed from a wheel ships it')


AUTO_SCALE_LR = '--auto-scale-lr'


def translate_args(name: str, args) -> list:
    """segssl's additions to mmseg's command line: for train.py, ``--auto-scale-lr`` (as in
    mmdet's and mmpretrain's train.py) becomes ``--cfg-options auto_scale_lr.enable=True``, so
    the learning rate is scaled by (world size x batch per GPU) / auto_scale_lr.base_batch_size."""
    args = list(args)
    if name == 'train.py' and AUTO_SCALE_LR in args:
        args = [a for a in args if a != AUTO_SCALE_LR] + ['--cfg-options', 'auto_scale_lr.enable=True']
    return args


def run_mmseg_tool(name: str, args, preflight: bool = True) -> int:
    """Run mmseg's tool ``name`` as ``__main__`` with command-line ``args``; return its exit code.

    With ``preflight``, first check the config's inputs (config file, data folders, label ids,
    images, checkpoints: see preflight.py); a problem exits with code 2 and one line each."""
    path = mmseg_tool_path(name)
    args = translate_args(name, args)
    if preflight:
        from .preflight import run_preflight
        args = run_preflight(name, args)
    sys.argv = [path] + list(args)
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0

"""Checkpoints a config loads, checked by the preflight (preflight.py) before mmseg's
train.py/test.py start: every ``init_cfg`` Pretrained / ``pretrained`` path at any depth, hook
checkpoints, ``load_from`` and test.py's CHECKPOINT must exist locally; a missing one is named
with the ``{{$SEGSSL_*:default}}`` variable that sets it (read from the config and its bases).
"""
import ast
import os
import re
from typing import Iterable, List, Optional, Sequence, Tuple

from .config_scope import SCOPE, configs_dir

# mmengine's pattern for '{{$VAR:default}}' (Config._substitute_env_variables)
ENV_PATTERN = re.compile(r'\{\{[\'\"]?\s*\$(\w+)\s*\:\s*(\S*?)\s*[\'\"]?\}\}')
CONVERT = 'python tools/convert_checkpoint.py SSL_CKPT OUT.pth --to mmseg'


def config_env_defaults(config_path: str) -> List[Tuple[str, str]]:
    """``(VAR, default)`` of every ``{{$VAR:default}}`` in the config file and its local and
    ``segssl::`` ``_base_`` files (mmseg:: and other package bases hold none of segssl's variables)."""
    pairs, seen = [], set()

    def visit(path):
        path = os.path.abspath(path)
        if path in seen or not os.path.isfile(path):
            return
        seen.add(path)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        pairs.extend(ENV_PATTERN.findall(text))
        if not path.endswith('.py'):
            return
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == '_base_'):
                try:
                    bases = ast.literal_eval(node.value)
                except ValueError:
                    return
                for base in [bases] if isinstance(bases, str) else bases:
                    base = ENV_PATTERN.sub(lambda m: os.environ.get(m.group(1), m.group(2)), base)
                    if base.startswith(SCOPE + '::'):  # segssl's own, shipped configs
                        visit(os.path.join(configs_dir(), base.split('::', 1)[1]))
                    elif '::' not in base:
                        visit(os.path.join(os.path.dirname(path), base))

    visit(config_path)
    return pairs


def variable_setting(path: str, pairs: Sequence[Tuple[str, str]]) -> Optional[Tuple[str, bool]]:
    """``(VAR, is_set)`` of the ``{{$VAR:default}}`` whose value (the environment's, else the
    default) is ``path`` (or the folder it is in); None if no variable gives it."""
    values = [(var, os.environ.get(var, default)) for var, default in pairs]
    for var, value in values:
        if value == path:
            return var, var in os.environ
    for var, value in sorted(values, key=lambda v: -len(v[1])):
        if value and path.startswith(value.rstrip('/') + '/'):  # a folder the variable names
            return var, var in os.environ
    return None


def checkpoint_paths(node, key: str) -> Iterable[Tuple[str, str]]:
    """``(config key, path)`` of every checkpoint a model config loads at initialisation: each
    ``init_cfg`` of a ``*Pretrained*`` type (at any depth: ClassMix/DACS nest the segmentor) and
    each ``pretrained='...'`` string."""
    if isinstance(node, dict):
        if 'Pretrained' in str(node.get('type', '')) and isinstance(node.get('checkpoint'), str):
            yield f'{key}.checkpoint', node['checkpoint']
        if isinstance(node.get('pretrained'), str):
            yield f'{key}.pretrained', node['pretrained']
        for k, v in node.items():
            yield from checkpoint_paths(v, f'{key}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from checkpoint_paths(v, f'{key}.{i}')


def hook_checkpoint_paths(hooks) -> Iterable[Tuple[str, str]]:
    """``(config key, path)`` of the checkpoints custom hooks read (``checkpoint=``,
    ``donor_checkpoint=``: segssl's weight-surgery hooks)."""
    for i, hook in enumerate(hooks or []):
        if isinstance(hook, dict):
            for k, v in hook.items():
                if (k == 'checkpoint' or k.endswith('_checkpoint')) and isinstance(v, str):
                    yield f'custom_hooks.{i}.{k}', v


def missing_checkpoints(cfg, config_path: str, tool: str, checkpoint_arg: Optional[str] = None) -> List[str]:
    """One message per checkpoint the run loads that does not exist locally. Remote paths
    (``://``: http, torchvision://, open-mmlab://, ...) and the checkpoint ``--resume`` finds in
    the work dir are not checked."""
    items = [(k, p, 'init') for k, p in checkpoint_paths(cfg.get('model'), 'model')]
    items += [(k, p, 'hook') for k, p in hook_checkpoint_paths(cfg.get('custom_hooks'))]
    if tool == 'test.py':
        if checkpoint_arg:
            items.append(('the CHECKPOINT argument', checkpoint_arg, 'test'))
    elif isinstance(cfg.get('load_from'), str):
        items.append(('load_from', cfg.load_from, 'load_from'))
    pairs = None
    problems = []
    for key, path, kind in items:
        if not path or '://' in path or os.path.isfile(os.path.expanduser(path)):
            continue
        if pairs is None:
            pairs = config_env_defaults(config_path)
        setting = variable_setting(path, pairs) if kind != 'test' else None
        var = setting[0] if setting else None
        origin = key if not var else (
            f'{key}, set by {var}' if setting[1] else f"{key}, set by {var}, which is not set: the config's default")
        if kind == 'init':
            off = key[:-len('.checkpoint')] if key.endswith('init_cfg.checkpoint') else key
            how = (f'set {var} to a converted backbone ({CONVERT})'
                   if var else f'point {key} at a converted backbone ({CONVERT})')
            how += f', or start from random weights with --cfg-options {off}=None'
        elif kind == 'hook':
            how = f'set {var} to an existing checkpoint' if var else f'point {key} at an existing checkpoint'
        elif kind == 'load_from':
            how = (f'set {var}' if var else 'fix load_from') + ' to an existing checkpoint (e.g. WORK_DIR/iter_N.pth)'
        else:
            how = 'expected a checkpoint written by tools/train.py (WORK_DIR/iter_N.pth)'
        problems.append(f'checkpoint {path} ({origin}) does not exist: {how}')
    return problems

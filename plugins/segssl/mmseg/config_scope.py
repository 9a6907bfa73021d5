"""``segssl::`` configs: segssl's configs inherited by a user's own config, as ``mmseg::`` works.

    _base_ = ['segssl::custom/supervised_deeplabv2_r18-d8_custom-128x128.py']

The configs ship in the package (``segssl/mmseg/.mim/configs``, the repository's ``configs/``),
where mmengine looks for a package's base configs. mmengine knows only OpenMMLab's own scopes;
``register_config_scope`` adds ``segssl`` to its table, and importing ``segssl.mmseg`` calls it,
so segssl's tools (``tools/train.py``, ``tools/test.py``) and any script that imports
``segssl.mmseg`` before ``Config.fromfile`` read such configs. The scope names the module
``segssl.mmseg``, not the distribution: mmengine then finds the configs beside the code that
is imported (an install, an editable install or a checkout on PYTHONPATH alike). Inherited
dicts get ``_scope_='segssl'``, which ``segssl.registry`` resolves to mmseg's registries.
"""
import os

SCOPE = 'segssl'
MODULE = 'segssl.mmseg'


def configs_dir() -> str:
    """Where ``segssl::<path>`` points: the configs that ship with this segssl."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '.mim', 'configs')


def register_config_scope() -> None:
    """Let mmengine's Config resolve ``segssl::<path under configs/>`` (idempotent)."""
    from mmengine.config import utils
    utils.MODULE2PACKAGE.setdefault(SCOPE, MODULE)

"""segssl's detectron2 config keys, and config files whose ``_BASE_`` names a model-zoo config.

detectron2 resolves ``_BASE_`` relative to the file that names it, so a config outside its
source tree cannot inherit its model zoo. ``merge_config_file`` also accepts
``_BASE_: "model_zoo://COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml"`` and resolves it
inside the installed detectron2; everything else is detectron2's own ``merge_from_file``.
"""
import os
import tempfile

import yaml
from detectron2.config import CfgNode as CN

ZOO_PREFIX = 'model_zoo://'


def add_segssl_config(cfg):
    """Add segssl's keys (under ``cfg.SEGSSL``) to a detectron2 config, with their defaults."""
    cfg.SEGSSL = CN()
    # Root written by tools/make_synthetic_data.py; train_net.py registers
    # segssl_synthetic_coco_{train,val} from <root>/coco when a config names them.
    cfg.SEGSSL.SYNTHETIC_ROOT = 'data/synthetic'
    return cfg


def merge_config_file(cfg, path):
    """``cfg.merge_from_file(path)``, with ``model_zoo://`` ``_BASE_`` entries resolved."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'detectron2 config {path!r} does not exist')
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f'detectron2 config {path!r}: expected a YAML mapping, found {type(data).__name__}')
    base = data.get('_BASE_')
    if not (isinstance(base, str) and base.startswith(ZOO_PREFIX)):
        cfg.merge_from_file(path)
        return cfg
    from detectron2 import model_zoo
    name = base[len(ZOO_PREFIX):]
    try:
        data['_BASE_'] = model_zoo.get_config_file(name)
    except RuntimeError as e:
        raise ValueError(f'detectron2 config {path!r}: _BASE_ {base!r} is not in detectron2\'s '
                         f'model zoo ({e})') from e
    # Same folder as the original, so any other relative path in it still resolves.
    fd, tmp = tempfile.mkstemp(suffix='.yaml', prefix='.resolved-', dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, 'w') as f:
            yaml.safe_dump(data, f)
        cfg.merge_from_file(tmp)
    finally:
        os.unlink(tmp)
    return cfg

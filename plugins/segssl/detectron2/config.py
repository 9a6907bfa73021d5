"""segssl's detectron2 config keys, and config files whose ``_BASE_`` chain names a model-zoo config.

detectron2 resolves ``_BASE_`` relative to the file that names it, so a config outside its
source tree cannot inherit its model zoo. ``merge_config_file`` also accepts
``_BASE_: "model_zoo://COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml"`` anywhere in a
chain of ``_BASE_`` files and resolves it inside the installed detectron2; the merge itself is
detectron2's own ``merge_from_file``.

Initialisations (``SEGSSL.INIT``, the Mask R-CNN thesis's three rows). The report fine-tunes "the same models"
and changes only the initial weights, so the three configs share one protocol, the one MoCo's
detection transfer (followed by PixPro) uses for SSL and supervised ImageNet starts alike: SyncBN
in backbone and FPN, every stage trained (FREEZE_AT 0).

===========  =========================================  ======================================
INIT         MODEL.WEIGHTS                              norm
===========  =========================================  ======================================
ssl          converted SSL checkpoint (.pkl of the      SyncBN in backbone and FPN, FREEZE_AT 0
             bridge: tools/convert_checkpoint.py)
imagenet     converted torchvision ImageNet ResNet      SyncBN in backbone and FPN, FREEZE_AT 0
scratch      "" (random)                                SyncBN in backbone and FPN, FREEZE_AT 0
===========  =========================================  ======================================

detectron2's own ImageNet recipe (FrozenBN in the backbone, FREEZE_AT 2, FPN without norm) is
the separate ``mask_rcnn_R_50_FPN_imagenet-frozenbn_*`` configs.
"""
import os
import tempfile

import yaml
from detectron2.config import CfgNode as CN

ZOO_PREFIX = 'model_zoo://'
INITS = ('', 'ssl', 'imagenet', 'scratch')
# Every norm key a Mask R-CNN FPN config can set to SyncBN.
NORM_KEYS = ('MODEL.RESNETS.NORM', 'MODEL.FPN.NORM', 'MODEL.ROI_BOX_HEAD.NORM', 'MODEL.ROI_MASK_HEAD.NORM')


def add_segssl_config(cfg):
    """Add segssl's keys (under ``cfg.SEGSSL``) to a detectron2 config, with their defaults."""
    cfg.SEGSSL = CN()
    # Root written by tools/make_synthetic_data.py; train_net.py registers
    # segssl_synthetic_coco_{train,val} from <root>/coco when a config names them.
    cfg.SEGSSL.SYNTHETIC_ROOT = 'data/synthetic'
    # A label split of that set's train images (e.g. '1-8'): segssl_synthetic_coco_train then holds
    # only <root>/coco/splits/<split>/labelled.txt's images (tools/make_label_splits.py --dataset coco).
    cfg.SEGSSL.LABEL_SPLIT = ''
    # Which initialisation the config is (see the module docstring); '' = unchecked.
    # 'ssl'/'imagenet' need MODEL.WEIGHTS, 'scratch' needs it empty (checked by check_init).
    cfg.SEGSSL.INIT = ''
    # In one process SyncBN has nothing to synchronise: build it as BN (detectron2's
    # NaiveSyncBatchNorm does the same). Several CPU processes: naiveSyncBN, since
    # torch.nn.SyncBatchNorm needs GPU tensors. False keeps the configured norms as they are.
    cfg.SEGSSL.SYNC_BN_FALLBACK = True
    # COCO subsets written by tools/make_coco_subset.py: when DIR is set, train_net.py
    # registers <NAME>_train, <NAME>_val, <NAME>_test from DIR/<NAME>_manifest.json.
    cfg.SEGSSL.COCO_SUBSET = CN()
    cfg.SEGSSL.COCO_SUBSET.DIR = ''
    cfg.SEGSSL.COCO_SUBSET.NAME = 'coco2017_subset'
    return cfg


def resolve_device(cfg):
    """Let ``MODEL.DEVICE`` follow the machine: detectron2's default ``'cuda'`` becomes
    ``'cpu'`` where CUDA is not available (segssl's configs pin no device, so one config serves
    CPU runs and GPU nodes). Returns ``(old, new)`` if it changed, else None."""
    import torch
    if cfg.MODEL.DEVICE.startswith('cuda') and not torch.cuda.is_available():
        old, cfg.MODEL.DEVICE = cfg.MODEL.DEVICE, 'cpu'
        return old, 'cpu'
    return None


def resolve_sync_bn(cfg, world_size):
    """Replace SyncBN in the norm keys of an unfrozen ``cfg`` for this process group.

    world_size 1 -> 'BN'; world_size > 1 on MODEL.DEVICE 'cpu' -> 'naiveSyncBN'; otherwise
    (GPUs) unchanged. Nothing changes when ``SEGSSL.SYNC_BN_FALLBACK`` is False.

    Returns:
        list[tuple[str, str, str]]: ``(key, old, new)`` for each key changed.
    """
    if not cfg.SEGSSL.SYNC_BN_FALLBACK:
        return []
    if world_size == 1:
        new = 'BN'
    elif cfg.MODEL.DEVICE == 'cpu':
        new = 'naiveSyncBN'
    else:
        return []
    changed = []
    for key in NORM_KEYS:
        node, leaf = cfg, key.split('.')
        for part in leaf[:-1]:
            node = node[part]
        if node[leaf[-1]] == 'SyncBN':
            node[leaf[-1]] = new
            changed.append((key, 'SyncBN', new))
    return changed


def describe_sync_bn_changes(changed, world_size, device):
    """One log line for :func:`resolve_sync_bn`'s result ('' when nothing changed)."""
    if not changed:
        return ''
    return (f'SEGSSL.SYNC_BN_FALLBACK: world size {world_size} on {device}: ' + ', '.join(f'{k} SyncBN -> {n}'
                                                                                          for k, _, n in changed))


def check_init(cfg, resume=False):
    """Check MODEL.WEIGHTS against SEGSSL.INIT; raise ValueError/FileNotFoundError naming both.

    A local weights file must exist unless ``resume`` (a resumed run loads OUTPUT_DIR's last
    checkpoint instead).
    """
    init, weights = cfg.SEGSSL.INIT, cfg.MODEL.WEIGHTS
    if init not in INITS:
        raise ValueError(f'SEGSSL.INIT={init!r}: expected one of {list(INITS)}')
    if init == 'scratch' and weights:
        raise ValueError(f'SEGSSL.INIT=scratch but MODEL.WEIGHTS={weights!r}: a from-scratch run '
                         'loads no weights; set MODEL.WEIGHTS "" or SEGSSL.INIT ssl/imagenet')
    if init in ('ssl', 'imagenet'):
        how = ('tools/convert_checkpoint.py SSL_CKPT OUT.pkl --to detectron2' if init == 'ssl' else
               'tools/convert_checkpoint.py resnet50-*.pth OUT.pkl --from torchvision --to detectron2')
        if not weights:
            raise ValueError(f'SEGSSL.INIT={init} needs MODEL.WEIGHTS: a .pkl written by {how}')
        if not resume and '://' not in weights and not os.path.isfile(weights):
            raise FileNotFoundError(f'SEGSSL.INIT={init}: MODEL.WEIGHTS={weights!r} does not exist; '
                                    f'write it with {how}')


def _resolved_copy(path, tmpdir, chain=()):
    """Copy of config ``path`` in ``tmpdir`` whose ``_BASE_`` chain has model_zoo:// resolved."""
    path = os.path.abspath(path)
    if path in chain:
        raise ValueError(f'detectron2 config {path!r}: _BASE_ cycle through {list(chain)}')
    if not os.path.isfile(path):
        where = f' (the _BASE_ of {chain[-1]!r})' if chain else ''
        raise FileNotFoundError(f'detectron2 config {path!r}{where} does not exist')
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f'detectron2 config {path!r}: expected a YAML mapping, found {type(data).__name__}')
    base = data.get('_BASE_')
    if isinstance(base, str) and base.startswith(ZOO_PREFIX):
        from detectron2 import model_zoo
        try:
            data['_BASE_'] = model_zoo.get_config_file(base[len(ZOO_PREFIX):])
        except RuntimeError as e:
            raise ValueError(f'detectron2 config {path!r}: _BASE_ {base!r} is not in detectron2\'s '
                             f'model zoo ({e})') from e
    elif isinstance(base, str):
        base_path = base if os.path.isabs(base) else os.path.join(os.path.dirname(path), base)
        data['_BASE_'] = _resolved_copy(base_path, tmpdir, chain + (path, ))
    fd, tmp = tempfile.mkstemp(suffix='.yaml', prefix=os.path.basename(path) + '.', dir=tmpdir)
    with os.fdopen(fd, 'w') as f:
        yaml.safe_dump(data, f)
    return tmp


def merge_config_file(cfg, path):
    """``cfg.merge_from_file(path)``, with ``model_zoo://`` ``_BASE_`` entries resolved at any
    depth of the ``_BASE_`` chain."""
    with tempfile.TemporaryDirectory(prefix='segssl-d2cfg-') as tmpdir:
        cfg.merge_from_file(_resolved_copy(path, tmpdir))
    return cfg

"""``init_cfg=dict(type='PretrainedERFNetEncoder', checkpoint=FILE)``: an mmseg ``ERFNet``
backbone whose encoder (the report's layers 1-16, ``encoder.*``) comes from ``FILE`` and nothing
else, checked tensor by tensor.

The ERFNet thesis (001_06df34aad1e5772c.txt, Section 5.1, line ~347): "All of the self-supervised methods
are first initialized with an encoder pretrained on ImageNet classification". An ImageNet
classifier has no decoder, so the encoder-decoder tasks (Otsu, colorization) keep a random
decoder; mmengine's ``Pretrained`` would load whatever decoder the file carries, and with
``strict=False`` it loads nothing, with only a warning, when the names do not match. Here:

* ``FILE`` is read by the checkpoint bridge's ERFNet reader (:func:`segssl.convert.erfnet.read_erfnet`,
  as data, never unpickling code): mmseg ``ERFNet`` names (``convert_checkpoint.py --arch erfnet
  --to mmseg`` output), an mmseg segmentor / ``PretextClassifier`` checkpoint (``backbone.encoder.*``)
  or the erfnet_pytorch layout (``encoder.initial_block.*``, ``encoder.layers.N.*``);
* every encoder tensor of the module must be in ``FILE`` with its shape (``num_batches_tracked``
  may be absent), else a ``ValueError`` naming the file and the tensors;
* only ``encoder.*`` is written; the decoder keeps the values it has.
"""
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmseg.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module()
class PretrainedERFNetEncoder:
    """Load ``checkpoint``'s ERFNet encoder into an mmseg ``ERFNet`` module.

    Args:
        checkpoint (str): the file (see the module docstring for the layouts read).
        trust_pickle (bool): unpickle the file fully (only for a file you trust).
    """

    def __init__(self, checkpoint: str, trust_pickle: bool = False):
        self.checkpoint, self.trust_pickle = checkpoint, trust_pickle

    def __call__(self, module):
        from segssl.convert.erfnet import read_erfnet
        own = {k: v for k, v in module.state_dict().items() if k.startswith('encoder.')}
        if not own:
            raise TypeError(f'PretrainedERFNetEncoder: {type(module).__name__} has no encoder.* '
                            'tensors (use it as the init_cfg of an mmseg ERFNet backbone)')
        src = read_erfnet(self.checkpoint, self.trust_pickle)['encoder']
        missing = [k for k in own if k not in src and not k.endswith('num_batches_tracked')]
        unexpected = [k for k in src if k not in own]
        wrong = [
            f'{k} {tuple(src[k].shape)} (model {tuple(own[k].shape)})' for k in own
            if k in src and src[k].shape != own[k].shape
        ]
        if missing or unexpected or wrong:
            raise ValueError(f'{self.checkpoint}: its ERFNet encoder does not fit the model: '
                             f'missing {missing[:6]}, unexpected {unexpected[:6]}, '
                             f'wrong shape {wrong[:6]}')
        module.load_state_dict({k: src[k] for k in own if k in src}, strict=False)
        print_log(
            f'PretrainedERFNetEncoder: {len(src)} encoder tensors from {self.checkpoint} '
            '(the decoder, if any, keeps its initialisation)', logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self):
        return f'{type(self).__name__}: encoder from {self.checkpoint}'

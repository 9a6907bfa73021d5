"""The ERFNet thesis's image-level pretext tasks on the mmseg side (label makers in segssl.core).

Encoder-only tasks (rotation, jigsaw, relative patch): ``*Pretext`` transform ->
``PackPretextInputs`` -> ``PretextClassifier``. Encoder-decoder tasks: ``OtsuPretext`` ->
``PackSegInputs`` -> mmseg ``EncoderDecoder`` (ERFNet + FCNHead, 4 classes);
``ColorizationPretext`` -> ``PackColorizationInputs`` -> ``EncoderDecoder`` with
``ColorizationHead``. Each starts from an ImageNet-classification encoder through
``init_cfg=dict(type='PretrainedERFNetEncoder', checkpoint=...)`` on the ERFNet backbone.
"""
from .classifier import PretextClassifier, PretextDataPreProcessor
from .colorization_head import ColorizationHead
from .encoder_init import PretrainedERFNetEncoder
from .transforms import (ColorizationPretext, JigsawPretext, OtsuPretext, PackColorizationInputs, PackPretextInputs,
                         RelativePatchPretext, RotationPretext)

__all__ = [
    'ColorizationHead', 'ColorizationPretext', 'JigsawPretext', 'OtsuPretext', 'PackColorizationInputs',
    'PackPretextInputs', 'PretextClassifier', 'PretextDataPreProcessor', 'PretrainedERFNetEncoder',
    'RelativePatchPretext', 'RotationPretext'
]

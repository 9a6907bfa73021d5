"""The synthetic source domains of the ClassMix/DACS thesis's domain adaptation, registered into mmseg's DATASETS.

Both carry Cityscapes' 19 classes and palette and read the ``*_labelTrainIds.png`` files that
``tools/convert_gta5.py`` / ``tools/convert_synthia.py`` write (mmseg 1.x has neither dataset)::

    GTA5Dataset:     data_root/images/NNNNN.png    + data_root/labels/NNNNN_labelTrainIds.png
    SynthiaDataset:  data_root/RGB/NNNNNNN.png     + data_root/GT/LABELS/NNNNNNN_labelTrainIds.png

SYNTHIA has 16 of the 19 classes (no terrain, truck, train); evaluate on Cityscapes with
``SynthiaIoUMetric`` for its 16- and 13-class means.
"""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class GTA5Dataset(CityscapesDataset):
    """GTA5 (Richter et al. 2016), 24,966 frames of 1052x1914, labels as Cityscapes train ids."""

    def __init__(self, img_suffix='.png', seg_map_suffix='_labelTrainIds.png',
                 data_prefix=dict(img_path='images', seg_map_path='labels'), **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, data_prefix=data_prefix, **kwargs)


@DATASETS.register_module()
class SynthiaDataset(CityscapesDataset):
    """SYNTHIA RAND-CITYSCAPES (Ros et al. 2016), 9,400 frames of 760x1280, 16 of the 19 classes."""

    def __init__(self, img_suffix='.png', seg_map_suffix='_labelTrainIds.png',
                 data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'), **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, data_prefix=data_prefix, **kwargs)

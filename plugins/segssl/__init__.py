"""segssl: self-supervised pretraining and consistency training for segmentation.

`segssl.core` is pure PyTorch; `segssl.mmseg` and `segssl.detectron2` register into those
frameworks when imported.
"""
__version__ = '0.2.0'

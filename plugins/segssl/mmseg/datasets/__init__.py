"""Datasets registered into mmseg's ``DATASETS`` registry."""
from .image_folder import UnlabelledImageFolder  # noqa: F401
from .paired import PairedDataset  # noqa: F401

__all__ = ['PairedDataset', 'UnlabelledImageFolder']

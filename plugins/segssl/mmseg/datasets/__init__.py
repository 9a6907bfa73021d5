"""Datasets registered into mmseg's ``DATASETS`` registry."""
from .folder import FolderSegDataset, read_classes  # noqa: F401
from .frame_folder import FrameFolderDataset  # noqa: F401
from .image_folder import UnlabelledImageFolder  # noqa: F401
from .paired import PairedDataset  # noqa: F401

__all__ = ['FolderSegDataset', 'read_classes', 'FrameFolderDataset', 'PairedDataset', 'UnlabelledImageFolder']

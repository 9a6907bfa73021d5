"""Datasets registered into mmseg's ``DATASETS`` registry."""
from .folder import FolderSegDataset, read_classes
from .frame_folder import FrameFolderDataset
from .image_folder import UnlabelledImageFolder
from .paired import PairedDataset

__all__ = ['FolderSegDataset', 'read_classes', 'FrameFolderDataset', 'PairedDataset', 'UnlabelledImageFolder']

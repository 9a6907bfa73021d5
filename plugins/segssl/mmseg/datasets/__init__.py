"""Datasets registered into mmseg's ``DATASETS`` registry."""
from .image_folder import UnlabelledImageFolder  # noqa: F401

__all__ = ['UnlabelledImageFolder']

"""Deterministic synthetic street-scene datasets that stand in for Cityscapes, GTA5 and COCO.

Framework-free (numpy + Pillow). ``tools/make_synthetic_data.py`` is the command line.
"""
from .dataset import PARTS, generate, rle_encode
from .frames import generate_frame_folders
from .pool import ensure_pool, pool_image, write_pool
from .render import RENDERINGS, render
from .scenes import CITYSCAPES_CLASSES, THING_CLASSES, Scene, check_size, make_scene

__all__ = [
    'CITYSCAPES_CLASSES', 'THING_CLASSES', 'PARTS', 'RENDERINGS', 'Scene', 'check_size', 'generate', 'ensure_pool',
    'generate_frame_folders', 'make_scene', 'pool_image', 'render', 'rle_encode', 'write_pool'
]

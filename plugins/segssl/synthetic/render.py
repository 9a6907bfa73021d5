"""Colour renderings of a Scene: a flat, game-like "source" look and a textured "target" look.

The two looks share the scene geometry and class semantics but differ in palette, texture,
noise, blur and colour balance, which is the domain gap that domain adaptation (the ClassMix/DACS thesis)
has to bridge. Both are deterministic given the generator.
"""
import numpy as np
from PIL import Image, ImageFilter

from .scenes import ID, Scene

# Flat "game" palette (RGB), one colour per train id.
SOURCE_PALETTE = np.array([(128, 64, 128), (232, 35, 244), (70, 70, 70), (102, 102, 156), (190, 153, 153),
                           (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
                           (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
                           (0, 80, 100), (0, 0, 230), (119, 11, 32)], dtype=np.float32)
# "Real" palette: duller, shifted colours of the same classes.
TARGET_PALETTE = np.array([(90, 88, 96), (150, 140, 135), (120, 105, 95), (140, 130, 120), (110, 100, 80), (80, 80, 85),
                           (60, 60, 40), (200, 190, 60), (60, 100, 45), (130, 150, 90), (150, 180, 215), (170, 60, 60),
                           (190, 90, 40), (60, 70, 120), (90, 90, 110), (180, 160, 60), (120, 130, 140), (40, 40, 150),
                           (140, 50, 80)], dtype=np.float32)
RENDERINGS = ('source', 'target')
_VARIED = (ID['car'], ID['truck'], ID['bus'], ID['person'], ID['rider'], ID['building'])


def render(scene: Scene, rng: np.random.Generator, rendering: str) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB image of ``scene`` in the ``rendering`` look."""
    if rendering not in RENDERINGS:
        raise ValueError(f'rendering={rendering!r}: expected one of {RENDERINGS}')
    palette = SOURCE_PALETTE if rendering == 'source' else TARGET_PALETTE
    img = palette[scene.label].copy()
    H, W = scene.label.shape
    # Per-instance colour variation: cars and people do not all look alike.
    for inst, cls in scene.instances:
        if cls in _VARIED:
            img[scene.instance == inst] += rng.normal(0, 28, 3).astype(np.float32)
    rows = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    sky = scene.label == ID['sky']
    img += np.where(sky[..., None], rows * np.array([40, 30, 10], np.float32), 0)
    if rendering == 'source':
        return np.clip(img, 0, 255).round().astype(np.uint8)
    return _texture(img, scene, rng)


def _texture(img, scene, rng):
    H, W = scene.label.shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    lab = scene.label
    # Windows on buildings, leaves on vegetation, grain on road and terrain.
    period = max(4, int(round(H / 16)))
    windows = ((yy % period) < period / 2) & ((xx % period) < period / 2)
    img[(lab == ID['building']) & windows] *= 0.55
    leaves = rng.normal(0, 30, (H, W)).astype(np.float32)
    img[lab == ID['vegetation']] += leaves[lab == ID['vegetation']][:, None]
    grain = rng.normal(0, 10, (H, W)).astype(np.float32)
    rough = np.isin(lab, (ID['road'], ID['terrain'], ID['sidewalk']))
    img[rough] += grain[rough][:, None]
    # Camera: colour balance, exposure, sensor noise, blur.
    img = img * rng.uniform(0.85, 1.15, 3).astype(np.float32) + rng.uniform(-20, 20)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    out = Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8))
    out = out.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.0))))
    return np.asarray(out)

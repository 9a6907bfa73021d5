"""Street-scene layouts for the synthetic datasets: label and instance maps, no colours.

A scene is drawn back to front (far objects first) so near objects occlude far ones, and every
object's size follows its depth below the horizon, so position, scale, count and occlusion vary.
Labels are the 19 Cityscapes train ids (``CITYSCAPES_CLASSES``), 255 is never produced.
"""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw

CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
                      'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                      'bicycle')
ID = {name: i for i, name in enumerate(CITYSCAPES_CLASSES)}
THING_CLASSES = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle')
MIN_HEIGHT, MIN_WIDTH, MAX_SIDE = 32, 32, 2048


@dataclass
class Scene:
    """label: (H, W) uint8 train ids; instance: (H, W) int32, 0 = no instance;
    instances: [(instance id, train id)] for every thing drawn (ids from 1)."""
    label: np.ndarray
    instance: np.ndarray
    instances: List[Tuple[int, int]] = field(default_factory=list)


def check_size(height: int, width: int) -> None:
    """Raise ValueError naming the bad size if a scene of (height, width) cannot be drawn."""
    for name, value, low in (('height', height, MIN_HEIGHT), ('width', width, MIN_WIDTH)):
        if not isinstance(value, (int, np.integer)) or value < low or value > MAX_SIDE:
            raise ValueError(f'synthetic scene {name}={value!r} is impossible: expected an integer '
                             f'in [{low}, {MAX_SIDE}] pixels (street scenes need room for a '
                             f'horizon, a road and objects)')


class _Canvas:
    """Draws polygons/ellipses into the label map and (for things) the instance map at once."""

    def __init__(self, height, width, fill):
        self.label = Image.new('L', (width, height), fill)
        self.instance = Image.new('I', (width, height), 0)
        self._dl, self._di = ImageDraw.Draw(self.label), ImageDraw.Draw(self.instance)
        self.instances: List[Tuple[int, int]] = []

    def new_instance(self, cls: int) -> int:
        self.instances.append((len(self.instances) + 1, cls))
        return len(self.instances)

    def poly(self, pts, cls, inst=0):
        pts = [(float(x), float(y)) for x, y in pts]
        self._dl.polygon(pts, fill=cls)
        self._di.polygon(pts, fill=inst)

    def rect(self, x0, y0, x1, y1, cls, inst=0):
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], cls, inst)

    def ellipse(self, x0, y0, x1, y1, cls, inst=0):
        box = [float(min(x0, x1)), float(min(y0, y1)), float(max(x0, x1)), float(max(y0, y1))]
        self._dl.ellipse(box, fill=cls)
        self._di.ellipse(box, fill=inst)

    def scene(self) -> Scene:
        inst = np.asarray(self.instance, dtype=np.int32)
        present = set(np.unique(inst).tolist())
        # Keep only instances still visible after occlusion; ids stay as drawn.
        return Scene(
            np.asarray(self.label, dtype=np.uint8).copy(), inst.copy(),
            [(i, c) for i, c in self.instances if i in present])


def _road_edges(y, hz, H, W, vp, top_half, bottom_left, bottom_right):
    t = (y - hz) / max(H - hz, 1)
    return (vp - top_half + t * (bottom_left - (vp - top_half)), vp + top_half + t * (bottom_right - (vp + top_half)))


def make_scene(rng: np.random.Generator, height: int, width: int) -> Scene:
    """Draw one random street scene of (height, width) pixels."""
    check_size(height, width)
    H, W = height, width
    c = _Canvas(H, W, ID['sky'])
    hz = H * rng.uniform(0.33, 0.5)  # horizon row
    vp = W * rng.uniform(0.35, 0.65)  # vanishing point column
    top_half = W * rng.uniform(0.02, 0.06)
    bl, br = -W * rng.uniform(0.0, 0.4), W * (1 + rng.uniform(0.0, 0.4))
    swl, swr = W * rng.uniform(0.15, 0.35), W * rng.uniform(0.15, 0.35)  # sidewalk widths at bottom

    # Background band: buildings along the horizon, trees, terrain below.
    x = -rng.uniform(0, 0.1) * W
    while x < W:
        bw = W * rng.uniform(0.08, 0.3)
        if rng.random() < 0.8:
            top = hz * rng.uniform(0.05, 0.75)
            c.rect(x, top, x + bw, hz + 1, ID['building'])
        x += bw
    c.rect(0, hz, W, H, ID['terrain'])
    for _ in range(rng.integers(0, 4)):  # tree crowns at the horizon
        tx, r = W * rng.random(), H * rng.uniform(0.06, 0.18)
        c.ellipse(tx - r, hz - 1.8 * r, tx + r, hz + 0.3 * r, ID['vegetation'])
        c.rect(tx - r * 0.12, hz - 0.3 * r, tx + r * 0.12, hz + 0.5 * r, ID['vegetation'])

    # Ground: sidewalks, then the road between them.
    c.poly([(vp - top_half * 1.6, hz), (vp - top_half, hz), (bl, H), (bl - swl, H)], ID['sidewalk'])
    c.poly([(vp + top_half, hz), (vp + top_half * 1.6, hz), (br + swr, H), (br, H)], ID['sidewalk'])
    c.poly([(vp - top_half, hz), (vp + top_half, hz), (br, H), (bl, H)], ID['road'])
    if rng.random() < 0.6:  # a wall or fence behind one sidewalk
        cls = ID['wall'] if rng.random() < 0.5 else ID['fence']
        side, h = rng.integers(2), H * rng.uniform(0.06, 0.14)
        x_far = vp - top_half * 1.6 if side == 0 else vp + top_half * 1.6
        x_near = (bl - swl) if side == 0 else (br + swr)
        c.poly([(x_far, hz - 2), (x_near, H - 0.2 * H), (x_near, H - 0.2 * H - h), (x_far, hz - 4)], cls)

    # Objects, sorted far to near so near ones occlude.
    objects = []
    for _ in range(rng.integers(2, 7)):
        objects.append(('vehicle', hz + (H - hz) * rng.uniform(0.08, 0.9)))
    for _ in range(rng.integers(1, 6)):
        objects.append(('walker', hz + (H - hz) * rng.uniform(0.05, 0.95)))
    for _ in range(rng.integers(1, 5)):
        objects.append(('pole', hz + (H - hz) * rng.uniform(0.0, 0.8)))
    objects.sort(key=lambda o: o[1])
    for kind, y in objects:
        s = 0.15 + 0.85 * (y - hz) / (H - hz)  # perspective scale, 0.15 far .. 1 near
        left, right = _road_edges(y, hz, H, W, vp, top_half, bl, br)
        if kind == 'vehicle':
            _vehicle(c, rng, rng.uniform(left, right), y, s * H)
        elif kind == 'walker':
            sw = s * (swl if rng.random() < 0.5 else -swr) * 0.7
            xs = left - abs(sw) * rng.uniform(0.2, 1) if sw > 0 else right + abs(sw) * rng.uniform(0.2, 1)
            _walker(c, rng, xs, y, s * H)
        else:
            xs = left - s * swl * rng.uniform(0.3, 0.9) if rng.random(
            ) < 0.5 else right + s * swr * rng.uniform(0.3, 0.9)
            _pole(c, rng, xs, y, s * H)
    return c.scene()


def _vehicle(c, rng, x, y, u):
    """A car, truck, bus or (rarely) train standing at (x, y); u is the local pixel scale."""
    r = rng.random()
    kind = 'car' if r < 0.6 else 'truck' if r < 0.78 else 'bus' if r < 0.95 else 'train'
    i = c.new_instance(ID[kind])
    if kind == 'car':
        w, h = u * rng.uniform(0.35, 0.5), u * rng.uniform(0.14, 0.2)
        c.poly([(x - w / 2, y - h * 0.1), (x + w / 2, y - h * 0.1), (x + w / 2, y - h * 0.6),
                (x + w * 0.3, y - h * 0.6), (x + w * 0.18, y - h), (x - w * 0.22, y - h), (x - w * 0.32, y - h * 0.6),
                (x - w / 2, y - h * 0.6)], ID[kind], i)
        for wx in (x - w * 0.3, x + w * 0.3):  # wheels belong to the car
            c.ellipse(wx - h * 0.18, y - h * 0.28, wx + h * 0.18, y + h * 0.05, ID[kind], i)
    elif kind == 'truck':
        w, h = u * rng.uniform(0.45, 0.6), u * rng.uniform(0.3, 0.4)
        c.rect(x - w / 2, y - h, x + w * 0.2, y - h * 0.1, ID[kind], i)
        c.rect(x + w * 0.22, y - h * 0.65, x + w / 2, y - h * 0.1, ID[kind], i)
        c.rect(x - w / 2, y - h * 0.15, x + w / 2, y, ID[kind], i)
    else:
        w, h = u * rng.uniform(0.6, 0.9), u * rng.uniform(0.32, 0.42)
        c.rect(x - w / 2, y - h, x + w / 2, y, ID[kind], i)


def _walker(c, rng, x, y, u):
    """A person, or a rider on a bicycle/motorcycle (rider and vehicle are two instances)."""
    h = u * rng.uniform(0.28, 0.36)
    if rng.random() < 0.7:
        i = c.new_instance(ID['person'])
        c.rect(x - h * 0.1, y - h * 0.45, x - h * 0.02, y, ID['person'], i)  # legs
        c.rect(x + h * 0.02, y - h * 0.45, x + h * 0.1, y, ID['person'], i)
        c.rect(x - h * 0.13, y - h * 0.82, x + h * 0.13, y - h * 0.42, ID['person'], i)
        c.ellipse(x - h * 0.08, y - h, x + h * 0.08, y - h * 0.82, ID['person'], i)
        return
    bike = 'bicycle' if rng.random() < 0.6 else 'motorcycle'
    b = c.new_instance(ID[bike])
    wr = h * 0.16
    for wx in (x - h * 0.28, x + h * 0.28):
        c.ellipse(wx - wr, y - 2 * wr, wx + wr, y, ID[bike], b)
    frame = h * (0.08 if bike == 'bicycle' else 0.16)
    c.poly([(x - h * 0.28, y - wr), (x + h * 0.28, y - wr), (x + h * 0.1, y - wr - frame * 2),
            (x - h * 0.15, y - wr - frame * 2)], ID[bike], b)
    r = c.new_instance(ID['rider'])
    c.rect(x - h * 0.1, y - h * 0.95, x + h * 0.1, y - h * 0.45, ID['rider'], r)
    c.ellipse(x - h * 0.07, y - h * 1.1, x + h * 0.07, y - h * 0.95, ID['rider'], r)


def _pole(c, rng, x, y, u):
    """A pole with a traffic sign or a traffic light on top (stuff classes: no instance)."""
    h, w = u * rng.uniform(0.45, 0.7), max(1.0, u * 0.018)
    c.rect(x - w, y - h, x + w, y, ID['pole'])
    if rng.random() < 0.5:
        s = u * rng.uniform(0.05, 0.08)
        if rng.random() < 0.5:
            c.ellipse(x - s, y - h - s, x + s, y - h + s, ID['traffic sign'])
        else:
            c.poly([(x - s, y - h + s), (x + s, y - h + s), (x, y - h - s)], ID['traffic sign'])
    else:
        s = u * rng.uniform(0.03, 0.05)
        c.rect(x - s, y - h - 3 * s, x + s, y - h + s, ID['traffic light'])

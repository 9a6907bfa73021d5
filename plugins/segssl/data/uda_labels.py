"""Label ids of the synthetic UDA sources (GTA5, SYNTHIA RAND-CITYSCAPES) -> the 19 Cityscapes
train ids (the ClassMix/DACS thesis, 3.3.3-3.3.4). Framework-free (numpy).

GTA5 (Richter et al.) labels are palette PNGs whose indices are Cityscapes *label ids* (0-33);
they map through Cityscapes' own id -> trainId table (cityscapesscripts ``labels.py``).
SYNTHIA RAND-CITYSCAPES labels are 16-bit PNGs whose first (R) channel holds SYNTHIA's own ids
(its README: 0 void, 1 sky, 2 building, 3 road, 4 sidewalk, 5 fence, 6 vegetation, 7 pole,
8 car, 9 traffic sign, 10 pedestrian, 11 bicycle, 12 motorcycle, 13 parking-slot, 14 road-work,
15 traffic light, 16 terrain, 17 rider, 18 truck, 19 bus, 20 train, 21 wall, 22 lanemarking).
Terrain, truck and train do not occur in SYNTHIA's images, so it has 16 of the 19 classes;
the 13-class figure also leaves out wall, fence and pole (the ClassMix/DACS thesis, Table 4.4).
Every other id maps to the ignore index 255.
"""
import numpy as np

IGNORE_INDEX = 255
CITYSCAPES_TRAIN_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
                            'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
                            'motorcycle', 'bicycle')

# Cityscapes label id -> train id (the ids GTA5's label PNGs use)
GTA5_ID_TO_TRAIN_ID = {
    7: 0,
    8: 1,
    11: 2,
    12: 3,
    13: 4,
    17: 5,
    19: 6,
    20: 7,
    21: 8,
    22: 9,
    23: 10,
    24: 11,
    25: 12,
    26: 13,
    27: 14,
    28: 15,
    31: 16,
    32: 17,
    33: 18
}
# SYNTHIA RAND-CITYSCAPES id -> train id
SYNTHIA_ID_TO_TRAIN_ID = {
    3: 0,
    4: 1,
    2: 2,
    21: 3,
    5: 4,
    7: 5,
    15: 6,
    9: 7,
    6: 8,
    16: 9,
    1: 10,
    10: 11,
    17: 12,
    8: 13,
    18: 14,
    19: 15,
    20: 16,
    12: 17,
    11: 18
}

SYNTHIA_ABSENT = (9, 14, 16)  # terrain, truck, train
SYNTHIA_16_CLASSES = tuple(c for c in range(19) if c not in SYNTHIA_ABSENT)
SYNTHIA_13_CLASSES = tuple(c for c in SYNTHIA_16_CLASSES if c not in (3, 4, 5))  # no wall/fence/pole


def lookup_table(id_to_train_id, size=65536, ignore_index=IGNORE_INDEX) -> np.ndarray:
    """A (size,) uint8 table t with t[id] = train id, ``ignore_index`` for ids not listed."""
    table = np.full(size, ignore_index, dtype=np.uint8)
    for k, v in id_to_train_id.items():
        table[k] = v
    return table


def to_train_ids(ids: np.ndarray, id_to_train_id, ignore_index=IGNORE_INDEX) -> np.ndarray:
    """Map an (H, W) array of non-negative integer label ids to uint8 train ids."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in 'ui':
        raise ValueError(f'to_train_ids: expected integer label ids, got dtype {ids.dtype}')
    if ids.size and ids.min() < 0:
        raise ValueError(f'to_train_ids: negative label id {int(ids.min())}')
    size = max(65536, int(ids.max()) + 1 if ids.size else 0)
    return lookup_table(id_to_train_id, size, ignore_index)[ids]

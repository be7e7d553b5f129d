"""One colour per class, the same everywhere (overlays, label-map PNGs, mmseg's visualiser)."""
import colorsys
from typing import List

import numpy as np


def make_palette(num_classes: int) -> np.ndarray:
    """(K, 3) uint8 BGR colours, well separated in hue and deterministic."""
    colours = []
    for i in range(num_classes):
        hue = (i * 0.618033988749895) % 1.0
        sat, val = (0.65, 0.95) if i % 2 == 0 else (0.9, 0.75)
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        colours.append((int(b * 255), int(g * 255), int(r * 255)))
    return np.array(colours, dtype=np.uint8)


def rgb_palette(num_classes: int) -> List[List[int]]:
    """``make_palette`` as RGB lists: the ``palette`` of a ``dataset_meta`` (mmseg's convention)."""
    return make_palette(num_classes)[:, ::-1].tolist()

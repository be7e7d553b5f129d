"""Read any image a user hands us into an (H, W, 3) uint8 BGR array (mmseg's convention)."""
import os
from typing import Union

import cv2
import numpy as np


def to_bgr_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Grayscale, BGRA and 16-bit/float arrays → (H, W, 3) uint8 BGR."""
    if not isinstance(img, np.ndarray) or img.ndim not in (2, 3) or img.size == 0:
        shape = getattr(img, 'shape', None)
        raise ValueError(f'{name}: expected an (H, W) or (H, W, C) image array, got shape {shape}')
    if img.dtype == np.uint16:
        img = (img.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if img.max() <= 1.0 else 1.0
        img = np.clip(img * scale, 0, 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f'{name}: unsupported pixel type {img.dtype}')
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[2] != 3:
        raise ValueError(f'{name}: expected 1, 3 or 4 channels, got {img.shape[2]}')
    return np.ascontiguousarray(img)


def load_image(src: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    """A path (EXIF orientation applied, any bit depth, gray/RGBA) or an array → (H, W, 3) BGR."""
    if isinstance(src, np.ndarray):
        return to_bgr_uint8(src)
    path = os.fspath(src)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image not found: {path!r}')
    data = np.fromfile(path, dtype=np.uint8)
    img = None
    if data.size:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if img is None:
        raise ValueError(f'cannot read image {path!r}: the file is empty, corrupt or not an image')
    return to_bgr_uint8(img, name=path)
